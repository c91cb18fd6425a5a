package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/flowc-dev/flowc/server/store"
)

var _ store.OutboxTx = (*tx)(nil)

// outboxSelect reads items with their latest delivery report.
const outboxSelect = `SELECT o.id, o.kind, o.to_addr, o.from_addr, o.body, o.message_sid, o.contact, o.created, o.not_before,
	o.status, o.attempts, o.last_error, o.done_at, o.destination, o.provider_sid,
	coalesce(d.status, ''), coalesce(d.error_code, ''), d.updated
	FROM outbox o LEFT JOIN delivery_status d ON o.provider_sid <> '' AND d.provider_sid = o.provider_sid`

func scanOutbox(rows pgx.Rows) ([]store.OutboxItem, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.OutboxItem, error) {
		var (
			o                                 store.OutboxItem
			created, notBefore, due, reported pgtype.Timestamptz
		)
		err := r.Scan(&o.ID, &o.Kind, &o.To, &o.From, &o.Body, &o.MessageSID, &o.Contact, &created, &notBefore,
			&o.Status, &o.Attempts, &o.LastError, &due, &o.Destination, &o.ProviderSID,
			&o.DeliveryStatus, &o.DeliveryError, &reported)
		o.Created, o.NotBefore, o.DoneAt, o.DeliveryAt = decTime(created), decTime(notBefore), decTime(due), decTime(reported)
		return o, err
	})
}

// claimScan bounds the due items one claim locks when it takes one per
// destination.
const claimScan = 500

// ClaimOutbox leases due pending items, in one statement that is safe for
// several replicas claiming at once: the due pending rows whose lease has
// expired are locked FOR UPDATE SKIP LOCKED (rows another claimer has
// locked are skipped, not waited for), and their lease and attempts are
// set in the same statement. A row another claimer leased and committed
// after this statement's snapshot is re-checked on locking (READ
// COMMITTED), finds its lease running, and is left out. Fewer than limit
// may be returned while more are due; a later call finds those. With
// OnePerDestination the oldest locked row of each destination is taken;
// the other locked rows stay untouched (and locked only until this
// transaction ends).
func (t *tx) ClaimOutbox(ctx context.Context, c store.OutboxClaim) ([]store.OutboxItem, error) {
	var lim *int // NULL: LIMIT ALL
	if c.Limit > 0 {
		lim = &c.Limit
	}
	scan := lim
	if c.OnePerDestination {
		n := claimScan
		scan = &n
	}
	rows, err := t.tx.Query(ctx, `
		WITH due AS (
			SELECT id AS due_id, destination AS due_dest FROM outbox
			WHERE status = 'pending' AND (not_before IS NULL OR not_before <= $1)
				AND (leased_until IS NULL OR leased_until <= $1)
				AND NOT (destination = ANY($4::text[]))
			ORDER BY id LIMIT $5
			FOR UPDATE SKIP LOCKED
		), chosen AS (
			SELECT due_id FROM (
				SELECT due_id, row_number() OVER (PARTITION BY due_dest ORDER BY due_id) AS nth FROM due
			) ranked
			WHERE NOT $6 OR nth = 1
			ORDER BY due_id LIMIT $3
		), claimed AS (
			UPDATE outbox AS o SET leased_until = $2, attempts = o.attempts + 1
			FROM chosen WHERE o.id = chosen.due_id
			RETURNING o.*
		)
		`+strings.Replace(outboxSelect, "FROM outbox o", "FROM claimed o", 1),
		encTime(c.Now), encTime(c.Now.Add(c.Lease)), lim, append([]string{}, c.Skip...), scan, c.OnePerDestination)
	if err != nil {
		return nil, fmt.Errorf("postgres store: claim outbox: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres store: claim outbox: %w", err)
	}
	// The result has no order: oldest first.
	slices.SortFunc(items, func(a, b store.OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return items, nil
}

func (t *tx) finishOutbox(ctx context.Context, id int64, status, lastErr, providerSID string, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE outbox SET status = $1, last_error = $2, done_at = $3, leased_until = NULL, provider_sid = $5
		WHERE id = $4 AND status = 'pending'`, status, lastErr, encTime(at), id, providerSID)
	if err != nil {
		return fmt.Errorf("postgres store: outbox %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres store: outbox %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// MarkOutboxSent records a delivery (ErrNotFound unless the item is
// pending).
func (t *tx) MarkOutboxSent(ctx context.Context, id int64, providerSID string, at time.Time) error {
	return t.finishOutbox(ctx, id, "sent", "", providerSID, at)
}

// DropOutbox gives up on an item (ErrNotFound unless it is pending).
func (t *tx) DropOutbox(ctx context.Context, id int64, reason string, at time.Time) error {
	return t.finishOutbox(ctx, id, "dropped", reason, "", at)
}

// RetryOutbox releases an item to be tried again at notBefore
// (ErrNotFound unless it is pending).
func (t *tx) RetryOutbox(ctx context.Context, id int64, notBefore time.Time, lastErr string) error {
	tag, err := t.tx.Exec(ctx, `UPDATE outbox SET not_before = $1, last_error = $2, leased_until = NULL
		WHERE id = $3 AND status = 'pending'`, encTime(notBefore), lastErr, id)
	if err != nil {
		return fmt.Errorf("postgres store: outbox %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres store: outbox %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// RecordDeliveryStatus keeps d unless a report of the same or a higher
// rank is kept (an upsert: replicas recording one sid at once wait for
// each other, and the higher rank wins whatever the order).
func (t *tx) RecordDeliveryStatus(ctx context.Context, d store.DeliveryStatus) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO delivery_status (provider_sid, status, rank, error_code, updated) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (provider_sid) DO UPDATE SET status = excluded.status, rank = excluded.rank, error_code = excluded.error_code, updated = excluded.updated
		WHERE excluded.rank > delivery_status.rank`, d.ProviderSID, d.Status, d.Rank, d.ErrorCode, encTime(d.At))
	if err != nil {
		return fmt.Errorf("postgres store: delivery status %s: %w", d.ProviderSID, err)
	}
	return nil
}

// OutboxByProviderSID is the item sent as sid (ErrNotFound if none).
func (t *tx) OutboxByProviderSID(ctx context.Context, sid string) (*store.OutboxItem, error) {
	rows, err := t.tx.Query(ctx, outboxSelect+` WHERE o.provider_sid = $1 AND o.provider_sid <> '' ORDER BY o.id LIMIT 1`, sid)
	if err != nil {
		return nil, fmt.Errorf("postgres store: outbox by provider sid: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres store: outbox by provider sid: %w", err)
	}
	if len(items) == 0 {
		return nil, store.ErrNotFound
	}
	return &items[0], nil
}

// OutboxByMessage lists the items messageSID caused, oldest first.
func (t *tx) OutboxByMessage(ctx context.Context, messageSID string) ([]store.OutboxItem, error) {
	rows, err := t.tx.Query(ctx, outboxSelect+` WHERE o.message_sid = $1 ORDER BY o.id`, messageSID)
	if err != nil {
		return nil, fmt.Errorf("postgres store: outbox by message: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres store: outbox by message: %w", err)
	}
	return items, nil
}

// OutboxBacklog counts pending items per kind.
func (t *tx) OutboxBacklog(ctx context.Context) ([]store.OutboxBacklog, error) {
	rows, err := t.tx.Query(ctx, `SELECT kind, count(*), min(created) FROM outbox WHERE status = 'pending' GROUP BY kind ORDER BY kind`)
	if err != nil {
		return nil, fmt.Errorf("postgres store: outbox backlog: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.OutboxBacklog, error) {
		var b store.OutboxBacklog
		var oldest pgtype.Timestamptz
		err := r.Scan(&b.Kind, &b.Pending, &oldest)
		b.Oldest = decTime(oldest)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres store: outbox backlog: %w", err)
	}
	return out, nil
}

// OutboxItems lists items in a status ("" for all), oldest first, at
// most limit (0: all).
func (t *tx) OutboxItems(ctx context.Context, status string, limit int) ([]store.OutboxItem, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := t.tx.Query(ctx, outboxSelect+`
		WHERE $1::text = '' OR o.status = $1 ORDER BY o.id LIMIT $2`, status, lim)
	if err != nil {
		return nil, fmt.Errorf("postgres store: outbox items: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres store: outbox items: %w", err)
	}
	return items, nil
}

// Setting reads a server setting (ErrNotFound when unset).
func (t *tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := t.tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("postgres store: setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting writes a server setting (an upsert: concurrent writers of
// one key wait for each other, the last to commit wins).
func (t *tx) SetSetting(ctx context.Context, key, value string) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("postgres store: set setting %s: %w", key, err)
	}
	return nil
}
