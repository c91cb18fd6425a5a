package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// The owned numbers (store.OwnedNumbersTx; migration 00018).

var _ store.OwnedNumbersTx = (*Tx)(nil)

var ownedNumbersKey = LockKey("flowc owned numbers")

// ReplaceOwnedNumbers makes nums the numbers source holds, under the
// owned numbers' lock: upserts each, then deletes source's others.
func (t *Tx) ReplaceOwnedNumbers(ctx context.Context, source string, nums []store.OwnedNumber, at time.Time) ([]string, error) {
	a, err := t.time(at)
	if err != nil {
		return nil, err
	}
	if err := t.lock(ctx, ownedNumbersKey); err != nil {
		return nil, t.errorf("owned numbers: lock: %w", err)
	}
	rows, err := t.query(ctx, `SELECT number FROM owned_numbers WHERE source = ?`, source)
	held, err := collect(rows, err, func(r *sql.Rows) (string, error) {
		var n string
		return n, r.Scan(&n)
	})
	if err != nil {
		return nil, t.errorf("owned numbers of %s: %w", source, err)
	}
	keep := make(map[string]bool, len(nums))
	for _, n := range nums {
		keep[n.Number] = true
		_, err := t.exec(ctx, `INSERT INTO owned_numbers (number, name, source, sms, voice, synced) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (number) DO UPDATE SET name = excluded.name, source = excluded.source, sms = excluded.sms,
				voice = excluded.voice, synced = excluded.synced`, n.Number, n.Name, source, n.SMS, n.Voice, a)
		if err != nil {
			return nil, t.errorf("owned number %s: %w", n.Number, err)
		}
	}
	var removed []string
	for _, n := range held {
		if keep[n] {
			continue
		}
		if _, err := t.exec(ctx, `DELETE FROM owned_numbers WHERE number = ? AND source = ?`, n, source); err != nil {
			return nil, t.errorf("owned number %s: %w", n, err)
		}
		removed = append(removed, n)
	}
	slices.Sort(removed)
	return removed, nil
}

// OwnedNumbersPage lists owned numbers after after, bytewise, from the
// primary key's index.
func (t *Tx) OwnedNumbersPage(ctx context.Context, after string, limit int) ([]store.OwnedNumber, error) {
	rows, err := t.query(ctx, `SELECT number, name, source, sms, voice, synced FROM owned_numbers WHERE number`+t.db.d.Bytewise+` > ?
		ORDER BY number`+t.db.d.Bytewise+` LIMIT ?`, after, limitOrAll(limit))
	out, err := collect(rows, err, func(r *sql.Rows) (store.OwnedNumber, error) {
		var n store.OwnedNumber
		return n, r.Scan(&n.Number, &n.Name, &n.Source, &n.SMS, &n.Voice, scanTime(&n.Synced))
	})
	if err != nil {
		return nil, t.errorf("owned numbers: %w", err)
	}
	return out, nil
}
