package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

const outboxColumns = `id, kind, to_addr, from_addr, body, message_sid, contact, created, not_before, status, attempts, last_error, done_at`

func scanOutbox(rows *sql.Rows) ([]store.OutboxItem, error) {
	defer rows.Close()
	var out []store.OutboxItem
	for rows.Next() {
		var o store.OutboxItem
		var created, notBefore, doneAt sql.NullInt64
		if err := rows.Scan(&o.ID, &o.Kind, &o.To, &o.From, &o.Body, &o.MessageSID, &o.Contact, &created, &notBefore,
			&o.Status, &o.Attempts, &o.LastError, &doneAt); err != nil {
			return nil, err
		}
		o.Created, o.NotBefore, o.DoneAt = decTime(created), decTime(notBefore), decTime(doneAt)
		out = append(out, o)
	}
	return out, rows.Err()
}

// ClaimOutbox leases due pending items. SQLite transactions here are
// exclusive, so selecting then updating cannot race another claimer.
func (t *tx) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	n, err := encTimes(now, now.Add(lease))
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = -1
	}
	rows, err := t.query(ctx, `SELECT `+outboxColumns+` FROM outbox
		WHERE status = 'pending' AND (not_before IS NULL OR not_before <= ?) AND (leased_until IS NULL OR leased_until <= ?)
		ORDER BY id LIMIT ?`, n[0], n[0], limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: claim outbox: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: claim outbox: %w", err)
	}
	for i := range items {
		if _, err := t.exec(ctx, `UPDATE outbox SET leased_until = ?, attempts = attempts + 1 WHERE id = ?`, n[1], items[i].ID); err != nil {
			return nil, fmt.Errorf("sqlite store: claim outbox: %w", err)
		}
		items[i].Attempts++
	}
	return items, nil
}

func (t *tx) finishOutbox(ctx context.Context, id int64, status, lastErr string, at time.Time) error {
	a, err := encTime(at)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE outbox SET status = ?, last_error = ?, done_at = ?, leased_until = NULL WHERE id = ? AND status = 'pending'`,
		status, lastErr, a, id)
	if err != nil {
		return fmt.Errorf("sqlite store: outbox %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite store: outbox %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// MarkOutboxSent records a delivery.
func (t *tx) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	return t.finishOutbox(ctx, id, "sent", "", at)
}

// DropOutbox gives up on an item.
func (t *tx) DropOutbox(ctx context.Context, id int64, reason string, at time.Time) error {
	return t.finishOutbox(ctx, id, "dropped", reason, at)
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

// OutboxItems lists items in a status ("" for all), oldest first.
func (t *tx) OutboxItems(ctx context.Context, status string) ([]store.OutboxItem, error) {
	rows, err := t.query(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE ? = '' OR status = ? ORDER BY id`, status, status)
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
