package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/flowc-dev/flowc/server/store"
)

var _ store.OutboxTx = (*tx)(nil)

const outboxColumns = `id, kind, to_addr, from_addr, body, message_sid, contact, created, not_before, status, attempts, last_error, done_at`

func scanOutbox(rows pgx.Rows) ([]store.OutboxItem, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.OutboxItem, error) {
		var (
			o                       store.OutboxItem
			created, notBefore, due pgtype.Timestamptz
		)
		err := r.Scan(&o.ID, &o.Kind, &o.To, &o.From, &o.Body, &o.MessageSID, &o.Contact, &created, &notBefore,
			&o.Status, &o.Attempts, &o.LastError, &due)
		o.Created, o.NotBefore, o.DoneAt = decTime(created), decTime(notBefore), decTime(due)
		return o, err
	})
}

// ClaimOutbox leases due pending items, in one statement that is safe for
// several replicas claiming at once: the due pending rows whose lease has
// expired are locked FOR UPDATE SKIP LOCKED (rows another claimer has
// locked are skipped, not waited for), and their lease and attempts are
// set in the same statement. A row another claimer leased and committed
// after this statement's snapshot is re-checked on locking (READ
// COMMITTED), finds its lease running, and is left out. Fewer than limit
// may be returned while more are due; a later call finds those.
func (t *tx) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	var lim *int // NULL: LIMIT ALL
	if limit > 0 {
		lim = &limit
	}
	rows, err := t.tx.Query(ctx, `
		WITH due AS (
			SELECT id AS due_id FROM outbox
			WHERE status = 'pending' AND (not_before IS NULL OR not_before <= $1)
				AND (leased_until IS NULL OR leased_until <= $1)
			ORDER BY id LIMIT $3
			FOR UPDATE SKIP LOCKED
		)
		UPDATE outbox AS o SET leased_until = $2, attempts = o.attempts + 1
		FROM due WHERE o.id = due.due_id
		RETURNING `+outboxColumns,
		encTime(now), encTime(now.Add(lease)), lim)
	if err != nil {
		return nil, fmt.Errorf("postgres store: claim outbox: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres store: claim outbox: %w", err)
	}
	// RETURNING has no order: oldest first.
	slices.SortFunc(items, func(a, b store.OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return items, nil
}

func (t *tx) finishOutbox(ctx context.Context, id int64, status, lastErr string, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE outbox SET status = $1, last_error = $2, done_at = $3, leased_until = NULL
		WHERE id = $4 AND status = 'pending'`, status, lastErr, encTime(at), id)
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
func (t *tx) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	return t.finishOutbox(ctx, id, "sent", "", at)
}

// DropOutbox gives up on an item (ErrNotFound unless it is pending).
func (t *tx) DropOutbox(ctx context.Context, id int64, reason string, at time.Time) error {
	return t.finishOutbox(ctx, id, "dropped", reason, at)
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

// OutboxItems lists items in a status ("" for all), oldest first.
func (t *tx) OutboxItems(ctx context.Context, status string) ([]store.OutboxItem, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+outboxColumns+` FROM outbox
		WHERE $1::text = '' OR status = $1 ORDER BY id`, status)
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
