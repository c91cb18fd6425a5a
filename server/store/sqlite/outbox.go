package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// outboxSelect reads items with their latest delivery report.
const outboxSelect = `SELECT o.id, o.kind, o.to_addr, o.from_addr, o.body, o.message_sid, o.contact, o.created, o.not_before,
	o.status, o.attempts, o.last_error, o.done_at, o.destination, o.provider_sid,
	coalesce(d.status, ''), coalesce(d.error_code, ''), d.updated
	FROM outbox o LEFT JOIN delivery_status d ON o.provider_sid <> '' AND d.provider_sid = o.provider_sid`

func scanOutbox(rows *sql.Rows) ([]store.OutboxItem, error) {
	defer rows.Close()
	var out []store.OutboxItem
	for rows.Next() {
		var o store.OutboxItem
		var created, notBefore, doneAt, reported sql.NullInt64
		if err := rows.Scan(&o.ID, &o.Kind, &o.To, &o.From, &o.Body, &o.MessageSID, &o.Contact, &created, &notBefore,
			&o.Status, &o.Attempts, &o.LastError, &doneAt, &o.Destination, &o.ProviderSID,
			&o.DeliveryStatus, &o.DeliveryError, &reported); err != nil {
			return nil, err
		}
		o.Created, o.NotBefore, o.DoneAt, o.DeliveryAt = decTime(created), decTime(notBefore), decTime(doneAt), decTime(reported)
		out = append(out, o)
	}
	return out, rows.Err()
}

// claimScan bounds the due items one claim looks at when it takes one
// per destination.
const claimScan = 500

// ClaimOutbox leases due pending items. SQLite transactions here are
// exclusive, so selecting then updating cannot race another claimer.
func (t *tx) ClaimOutbox(ctx context.Context, c store.OutboxClaim) ([]store.OutboxItem, error) {
	n, err := encTimes(c.Now, c.Now.Add(c.Lease))
	if err != nil {
		return nil, err
	}
	limit := c.Limit
	if limit <= 0 {
		limit = -1
	}
	scan := limit
	if c.OnePerDestination {
		scan = claimScan
	}
	skip, err := json.Marshal(append([]string{}, c.Skip...))
	if err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, outboxSelect+`
		WHERE o.status = 'pending' AND (o.not_before IS NULL OR o.not_before <= ?) AND (o.leased_until IS NULL OR o.leased_until <= ?)
			AND o.destination NOT IN (SELECT value FROM json_each(?))
		ORDER BY o.id LIMIT ?`, n[0], n[0], string(skip), scan)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: claim outbox: %w", err)
	}
	due, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: claim outbox: %w", err)
	}
	var items []store.OutboxItem
	taken := map[string]bool{}
	for _, it := range due {
		if c.OnePerDestination && taken[it.Destination] {
			continue
		}
		if limit > 0 && len(items) == limit {
			break
		}
		taken[it.Destination] = true
		if _, err := t.exec(ctx, `UPDATE outbox SET leased_until = ?, attempts = attempts + 1 WHERE id = ?`, n[1], it.ID); err != nil {
			return nil, fmt.Errorf("sqlite store: claim outbox: %w", err)
		}
		it.Attempts++
		items = append(items, it)
	}
	return items, nil
}

func (t *tx) finishOutbox(ctx context.Context, id int64, status, lastErr, providerSID string, at time.Time) error {
	a, err := encTime(at)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE outbox SET status = ?, last_error = ?, done_at = ?, leased_until = NULL, provider_sid = ?
		WHERE id = ? AND status = 'pending'`,
		status, lastErr, a, providerSID, id)
	if err != nil {
		return fmt.Errorf("sqlite store: outbox %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite store: outbox %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// MarkOutboxSent records a delivery.
func (t *tx) MarkOutboxSent(ctx context.Context, id int64, providerSID string, at time.Time) error {
	return t.finishOutbox(ctx, id, "sent", "", providerSID, at)
}

// DropOutbox gives up on an item.
func (t *tx) DropOutbox(ctx context.Context, id int64, reason string, at time.Time) error {
	return t.finishOutbox(ctx, id, "dropped", reason, "", at)
}

// RetryOutbox releases an item to be tried again at notBefore.
func (t *tx) RetryOutbox(ctx context.Context, id int64, notBefore time.Time, lastErr string) error {
	nb, err := encTime(notBefore)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE outbox SET not_before = ?, last_error = ?, leased_until = NULL WHERE id = ? AND status = 'pending'`, nb, lastErr, id)
	if err != nil {
		return fmt.Errorf("sqlite store: outbox %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite store: outbox %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// RecordDeliveryStatus keeps d unless a report of the same or a higher
// rank is kept.
func (t *tx) RecordDeliveryStatus(ctx context.Context, d store.DeliveryStatus) error {
	at, err := encTime(d.At)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO delivery_status (provider_sid, status, rank, error_code, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (provider_sid) DO UPDATE SET status = excluded.status, rank = excluded.rank, error_code = excluded.error_code, updated = excluded.updated
		WHERE excluded.rank > delivery_status.rank`, d.ProviderSID, d.Status, d.Rank, d.ErrorCode, at)
	if err != nil {
		return fmt.Errorf("sqlite store: delivery status %s: %w", d.ProviderSID, err)
	}
	return nil
}

// OutboxByProviderSID is the item sent as sid.
func (t *tx) OutboxByProviderSID(ctx context.Context, sid string) (*store.OutboxItem, error) {
	rows, err := t.query(ctx, outboxSelect+` WHERE o.provider_sid = ? AND o.provider_sid <> '' ORDER BY o.id LIMIT 1`, sid)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: outbox by provider sid: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: outbox by provider sid: %w", err)
	}
	if len(items) == 0 {
		return nil, store.ErrNotFound
	}
	return &items[0], nil
}

// OutboxByMessage lists the items messageSID caused.
func (t *tx) OutboxByMessage(ctx context.Context, messageSID string) ([]store.OutboxItem, error) {
	rows, err := t.query(ctx, outboxSelect+` WHERE o.message_sid = ? ORDER BY o.id`, messageSID)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: outbox by message: %w", err)
	}
	return scanOutbox(rows)
}

// OutboxBacklog counts pending items per kind.
func (t *tx) OutboxBacklog(ctx context.Context) ([]store.OutboxBacklog, error) {
	rows, err := t.query(ctx, `SELECT kind, count(*), min(created) FROM outbox WHERE status = 'pending' GROUP BY kind ORDER BY kind`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: outbox backlog: %w", err)
	}
	defer rows.Close()
	var out []store.OutboxBacklog
	for rows.Next() {
		var b store.OutboxBacklog
		var oldest sql.NullInt64
		if err := rows.Scan(&b.Kind, &b.Pending, &oldest); err != nil {
			return nil, fmt.Errorf("sqlite store: outbox backlog: %w", err)
		}
		b.Oldest = decTime(oldest)
		out = append(out, b)
	}
	return out, rows.Err()
}

// OutboxItems lists items in a status ("" for all), oldest first.
func (t *tx) OutboxItems(ctx context.Context, status string, limit int) ([]store.OutboxItem, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := t.query(ctx, outboxSelect+` WHERE ? = '' OR o.status = ? ORDER BY o.id LIMIT ?`, status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: outbox items: %w", err)
	}
	return scanOutbox(rows)
}

// Setting reads a server setting.
func (t *tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := t.queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite store: setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting writes a server setting.
func (t *tx) SetSetting(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("sqlite store: set setting %s: %w", key, err)
	}
	return nil
}
