package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// outboxSelect reads items with their latest delivery report.
const outboxSelect = `SELECT o.id, o.kind, o.to_addr, o.from_addr, o.body, o.message_sid, o.contact, o.created, o.not_before,
	o.status, o.attempts, o.last_error, o.done_at, o.destination, o.provider_sid, o.pace_slot,
	coalesce(d.status, ''), coalesce(d.error_code, ''), d.updated
	FROM outbox o LEFT JOIN delivery_status d ON o.provider_sid <> '' AND d.provider_sid = o.provider_sid`

func scanOutbox(rows *sql.Rows, err error) ([]store.OutboxItem, error) {
	return collect(rows, err, func(r *sql.Rows) (store.OutboxItem, error) {
		var o store.OutboxItem
		err := r.Scan(&o.ID, &o.Kind, &o.To, &o.From, &o.Body, &o.MessageSID, &o.Contact, scanTime(&o.Created), scanTime(&o.NotBefore),
			&o.Status, &o.Attempts, &o.LastError, scanTime(&o.DoneAt), &o.Destination, &o.ProviderSID, scanTime(&o.PaceSlot),
			&o.DeliveryStatus, &o.DeliveryError, scanTime(&o.DeliveryAt))
		return o, err
	})
}

// claimScan bounds the due items one claim looks at when it takes one
// per destination.
const claimScan = 500

// ClaimOutbox leases due pending items, oldest first: it reads the due
// pending items whose lease has expired, chooses among them (one per
// destination when asked), and sets the chosen items' lease and attempts
// in one statement.
//
// On PostgreSQL the read locks the rows FOR UPDATE SKIP LOCKED, so
// several replicas claiming at once claim disjoint items without waiting
// for each other: rows another claimer has locked are skipped, and a row
// another claimer leased and committed after the read's snapshot is
// re-checked on locking (READ COMMITTED), finds its lease running, and is
// left out. Fewer than limit may be returned while more are due; a later
// call finds those. The rows read but not chosen stay locked only until
// the transaction ends. SQLite's write transactions are exclusive, so
// nothing can race the claim there.
func (t *Tx) ClaimOutbox(ctx context.Context, c store.OutboxClaim) ([]store.OutboxItem, error) {
	n, err := t.times(c.Now, c.Now.Add(c.Lease))
	if err != nil {
		return nil, err
	}
	scan := limitOrAll(c.Limit)
	if c.OnePerDestination {
		scan = claimScan
	}
	q := outboxSelect + `
		WHERE o.status = 'pending' AND (o.not_before IS NULL OR o.not_before <= ?) AND (o.leased_until IS NULL OR o.leased_until <= ?)`
	args := []any{n[0], n[0]}
	if len(c.Skip) > 0 {
		q += ` AND o.destination NOT IN ` + list(len(c.Skip))
		for _, s := range c.Skip {
			args = append(args, s)
		}
	}
	q += ` ORDER BY o.id LIMIT ?`
	if t.db.d.SkipLocked != nil {
		q += t.db.d.SkipLocked("o")
	}
	due, err := scanOutbox(t.query(ctx, q, append(args, scan)...))
	if err != nil {
		return nil, t.errorf("claim outbox: %w", err)
	}
	var items []store.OutboxItem
	taken := map[string]bool{}
	ids := []any{n[1]}
	for _, it := range due {
		if c.OnePerDestination && taken[it.Destination] {
			continue
		}
		if c.Limit > 0 && len(items) == c.Limit {
			break
		}
		taken[it.Destination] = true
		it.Attempts++
		items = append(items, it)
		ids = append(ids, it.ID)
	}
	if len(items) == 0 {
		return nil, nil
	}
	if _, err := t.exec(ctx, `UPDATE outbox SET leased_until = ?, attempts = attempts + 1 WHERE id IN `+list(len(items)), ids...); err != nil {
		return nil, t.errorf("claim outbox: %w", err)
	}
	return items, nil
}

func (t *Tx) finishOutbox(ctx context.Context, id int64, status, lastErr, providerSID string, at time.Time) error {
	a, err := t.time(at)
	if err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `UPDATE outbox SET status = ?, last_error = ?, done_at = ?, leased_until = NULL, provider_sid = ?
		WHERE id = ? AND status = 'pending'`, status, lastErr, a, providerSID, id))
	if err != nil {
		return t.errorf("outbox %d: %w", id, err)
	}
	if n == 0 {
		return t.errorf("outbox %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// MarkOutboxSent records a delivery (ErrNotFound unless the item is
// pending).
func (t *Tx) MarkOutboxSent(ctx context.Context, id int64, providerSID string, at time.Time) error {
	return t.finishOutbox(ctx, id, "sent", "", providerSID, at)
}

// DropOutbox gives up on an item (ErrNotFound unless it is pending).
func (t *Tx) DropOutbox(ctx context.Context, id int64, reason string, at time.Time) error {
	return t.finishOutbox(ctx, id, "dropped", reason, "", at)
}

// DeferOutbox hands a claimed item back until notBefore, undoing the
// claim's attempt (ErrNotFound unless the item is pending).
func (t *Tx) DeferOutbox(ctx context.Context, id int64, notBefore time.Time) error {
	nb, err := t.time(notBefore)
	if err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `UPDATE outbox SET not_before = ?, pace_slot = ?, leased_until = NULL, attempts = attempts - 1
		WHERE id = ? AND status = 'pending' AND attempts > 0`, nb, nb, id))
	if err != nil {
		return t.errorf("outbox %d: %w", id, err)
	}
	if n == 0 {
		return t.errorf("outbox %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// ReservePace advances the number's next free slot in one upsert, so
// that two replicas reserving at once get consecutive slots (the row's
// lock orders them on PostgreSQL; SQLite has one writer).
func (t *Tx) ReservePace(ctx context.Context, number string, now time.Time, every time.Duration) (time.Time, error) {
	n, step := now.UnixNano(), every.Nanoseconds()
	var next int64
	err := t.queryRow(ctx, `INSERT INTO sms_pace (number, next_ns) VALUES (?, ?)
		ON CONFLICT (number) DO UPDATE SET next_ns = (CASE WHEN sms_pace.next_ns > ? THEN sms_pace.next_ns ELSE ? END) + ?
		RETURNING next_ns`, number, n+step, n, n, step).Scan(&next)
	if err != nil {
		return time.Time{}, t.errorf("pace %s: %w", number, err)
	}
	return time.Unix(0, next-step).In(now.Location()), nil
}

// RetryOutbox releases an item to be tried again at notBefore
// (ErrNotFound unless it is pending).
func (t *Tx) RetryOutbox(ctx context.Context, id int64, notBefore time.Time, lastErr string) error {
	nb, err := t.time(notBefore)
	if err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `UPDATE outbox SET not_before = ?, last_error = ?, leased_until = NULL, pace_slot = NULL
		WHERE id = ? AND status = 'pending'`, nb, lastErr, id))
	if err != nil {
		return t.errorf("outbox %d: %w", id, err)
	}
	if n == 0 {
		return t.errorf("outbox %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// RecordDeliveryStatus keeps d unless a report of the same or a higher
// rank is kept (an upsert: writers recording one sid at once wait for
// each other, and the higher rank wins whatever the order).
func (t *Tx) RecordDeliveryStatus(ctx context.Context, d store.DeliveryStatus) error {
	at, err := t.time(d.At)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO delivery_status (provider_sid, status, rank, error_code, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (provider_sid) DO UPDATE SET status = excluded.status, rank = excluded.rank, error_code = excluded.error_code, updated = excluded.updated
		WHERE excluded.rank > delivery_status.rank`, d.ProviderSID, d.Status, d.Rank, d.ErrorCode, at)
	if err != nil {
		return t.errorf("delivery status %s: %w", d.ProviderSID, err)
	}
	return nil
}

// OutboxByProviderSID is the item sent as sid (ErrNotFound if none).
func (t *Tx) OutboxByProviderSID(ctx context.Context, sid string) (*store.OutboxItem, error) {
	items, err := scanOutbox(t.query(ctx, outboxSelect+` WHERE o.provider_sid = ? AND o.provider_sid <> '' ORDER BY o.id LIMIT 1`, sid))
	if err != nil {
		return nil, t.errorf("outbox by provider sid: %w", err)
	}
	if len(items) == 0 {
		return nil, store.ErrNotFound
	}
	return &items[0], nil
}

// OutboxByMessage lists the items messageSID caused, oldest first.
func (t *Tx) OutboxByMessage(ctx context.Context, messageSID string) ([]store.OutboxItem, error) {
	items, err := scanOutbox(t.query(ctx, outboxSelect+` WHERE o.message_sid = ? ORDER BY o.id`, messageSID))
	if err != nil {
		return nil, t.errorf("outbox by message: %w", err)
	}
	return items, nil
}

// outboxByMessagesChunk bounds the placeholders of one IN list, well under
// SQLite's and PostgreSQL's limits on a statement's parameters.
const outboxByMessagesChunk = 500

// OutboxByMessages reads the items of many messages with one query per
// 500 of them, where OutboxByMessage per item was one query each (an
// inbox page of 500 items: 72 ms on SQLite, against 6 ms; docs/
// benchmarks.md, "Admin reads at 1M rows").
func (t *Tx) OutboxByMessages(ctx context.Context, sids []string) (map[string][]store.OutboxItem, error) {
	out := map[string][]store.OutboxItem{}
	for len(sids) > 0 {
		chunk := sids[:min(len(sids), outboxByMessagesChunk)]
		sids = sids[len(chunk):]
		args := make([]any, len(chunk))
		for i, s := range chunk {
			args[i] = s
		}
		items, err := scanOutbox(t.query(ctx, outboxSelect+` WHERE o.message_sid IN `+list(len(chunk))+` ORDER BY o.id`, args...))
		if err != nil {
			return nil, t.errorf("outbox by messages: %w", err)
		}
		for _, it := range items {
			out[it.MessageSID] = append(out[it.MessageSID], it)
		}
	}
	return out, nil
}

// OutboxBacklog counts pending items per kind.
func (t *Tx) OutboxBacklog(ctx context.Context) ([]store.OutboxBacklog, error) {
	rows, err := t.query(ctx, `SELECT kind, count(*), min(created) FROM outbox WHERE status = 'pending' GROUP BY kind ORDER BY kind`+t.db.d.Bytewise)
	out, err := collect(rows, err, func(r *sql.Rows) (store.OutboxBacklog, error) {
		var b store.OutboxBacklog
		return b, r.Scan(&b.Kind, &b.Pending, scanTime(&b.Oldest))
	})
	if err != nil {
		return nil, t.errorf("outbox backlog: %w", err)
	}
	return out, nil
}

// OutboxItems lists items in a status ("" for all), oldest first, at
// most limit (0: all).
func (t *Tx) OutboxItems(ctx context.Context, status string, limit int) ([]store.OutboxItem, error) {
	q, args := outboxSelect, []any{}
	if status != "" {
		q += ` WHERE o.status = ?`
		args = append(args, status)
	}
	items, err := scanOutbox(t.query(ctx, q+` ORDER BY o.id LIMIT ?`, append(args, limitOrAll(limit))...))
	if err != nil {
		return nil, t.errorf("outbox items: %w", err)
	}
	return items, nil
}

// Setting reads a server setting (ErrNotFound when unset).
func (t *Tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := t.queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", t.errorf("setting %s: %w", key, err)
	}
	return v, nil
}

// DeleteSetting removes a server setting.
func (t *Tx) DeleteSetting(ctx context.Context, key string) error {
	if _, err := t.exec(ctx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
		return t.errorf("delete setting %s: %w", key, err)
	}
	return nil
}

// SettingsPrefixed lists the settings whose keys start with prefix
// (compared as a substring: a LIKE pattern would need its % and _
// escaped).
func (t *Tx) SettingsPrefixed(ctx context.Context, prefix string) ([]store.Setting, error) {
	rows, err := t.query(ctx, `SELECT key, value FROM settings WHERE substr(key, 1, ?) = ? ORDER BY key`+t.db.d.Bytewise,
		len(prefix), prefix)
	out, err := collect(rows, err, func(r *sql.Rows) (s store.Setting, err error) {
		return s, r.Scan(&s.Key, &s.Value)
	})
	if err != nil {
		return nil, t.errorf("settings %s…: %w", prefix, err)
	}
	return out, nil
}

// SetSetting writes a server setting (an upsert: concurrent writers of
// one key wait for each other, the last to commit wins).
func (t *Tx) SetSetting(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return t.errorf("set setting %s: %w", key, err)
	}
	return nil
}
