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
// owned numbers' lock. A sync of an unchanged account writes one
// statement (the synced time): only the numbers new or changed are
// upserted, and only the ones gone deleted, so that a large account does
// not hold SQLite's writer for a statement per number.
func (t *Tx) ReplaceOwnedNumbers(ctx context.Context, source string, nums []store.OwnedNumber, at time.Time) ([]string, error) {
	a, err := t.time(at)
	if err != nil {
		return nil, err
	}
	if err := t.lock(ctx, ownedNumbersKey); err != nil {
		return nil, t.errorf("owned numbers: lock: %w", err)
	}
	rows, err := t.query(ctx, `SELECT number, name, source, sms, voice FROM owned_numbers`)
	held, err := collect(rows, err, func(r *sql.Rows) (store.OwnedNumber, error) {
		var n store.OwnedNumber
		return n, r.Scan(&n.Number, &n.Name, &n.Source, &n.SMS, &n.Voice)
	})
	if err != nil {
		return nil, t.errorf("owned numbers: %w", err)
	}
	before := make(map[string]store.OwnedNumber, len(held))
	for _, n := range held {
		before[n.Number] = n
	}
	if _, err := t.exec(ctx, `UPDATE owned_numbers SET synced = ? WHERE source = ?`, a, source); err != nil {
		return nil, t.errorf("owned numbers of %s: %w", source, err)
	}
	keep := make(map[string]bool, len(nums))
	for _, n := range nums {
		keep[n.Number] = true
		if b, ok := before[n.Number]; ok && b.Name == n.Name && b.Source == source && b.SMS == n.SMS && b.Voice == n.Voice {
			continue
		}
		_, err := t.exec(ctx, `INSERT INTO owned_numbers (number, name, source, sms, voice, synced) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (number) DO UPDATE SET name = excluded.name, source = excluded.source, sms = excluded.sms,
				voice = excluded.voice, synced = excluded.synced`, n.Number, n.Name, source, n.SMS, n.Voice, a)
		if err != nil {
			return nil, t.errorf("owned number %s: %w", n.Number, err)
		}
	}
	var removed []string
	for _, n := range held {
		if n.Source != source || keep[n.Number] {
			continue
		}
		if _, err := t.exec(ctx, `DELETE FROM owned_numbers WHERE number = ? AND source = ?`, n.Number, source); err != nil {
			return nil, t.errorf("owned number %s: %w", n.Number, err)
		}
		removed = append(removed, n.Number)
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

var _ store.NumbersListingReader = (*Tx)(nil)

// NumbersListingPage reads the pages of NumbersPage, CallNumbersPage,
// OwnedNumbersPage and UnroutedNumbersPage (its loose index scan) and
// the directory's version in one statement, each page from its own
// index as alone.
func (t *Tx) NumbersListingPage(ctx context.Context, after string, limit int) (*store.NumbersListing, error) {
	c, lim := t.db.d.Bytewise, limitOrAll(limit)
	page := func(table string) string {
		return `SELECT number, flow, version FROM ` + table + ` WHERE number` + c + ` > ? ORDER BY number` + c + ` LIMIT ?`
	}
	q := `WITH RECURSIVE u(n) AS (
			SELECT (SELECT to_number` + c + ` FROM messages WHERE outcome = 'no-flow' AND to_number` + c + ` > ?
				ORDER BY to_number` + c + ` LIMIT 1)
			UNION ALL
			SELECT (SELECT to_number` + c + ` FROM messages WHERE outcome = 'no-flow' AND to_number` + c + ` > u.n
				ORDER BY to_number` + c + ` LIMIT 1)
			FROM u WHERE u.n IS NOT NULL)
		SELECT 's', number, flow, version, false, false, 0 FROM (` + page("numbers") + `) AS s
		UNION ALL SELECT 'c', number, flow, version, false, false, 0 FROM (` + page("call_numbers") + `) AS c
		UNION ALL SELECT 'o', number, name, source, sms, voice, 0 FROM (
			SELECT number, name, source, sms, voice FROM owned_numbers WHERE number` + c + ` > ? ORDER BY number` + c + ` LIMIT ?) AS o
		UNION ALL SELECT 'u', n, '', '', false, false, 0 FROM (
			SELECT n FROM u WHERE n IS NOT NULL AND NOT EXISTS (SELECT 1 FROM numbers WHERE number = u.n) ORDER BY n` + c + ` LIMIT ?) AS t
		UNION ALL SELECT 'd', '', '', '', false, false, version FROM directory_version WHERE id = 1`
	rows, err := t.query(ctx, q, after, after, lim, after, lim, after, lim, lim)
	if err != nil {
		return nil, t.errorf("numbers listing: %w", err)
	}
	defer rows.Close()
	out := &store.NumbersListing{}
	for rows.Next() {
		var (
			kind, number, a, b string
			sms, voice         bool
			version            int64
		)
		if err := rows.Scan(&kind, &number, &a, &b, &sms, &voice, &version); err != nil {
			return nil, t.errorf("numbers listing: %w", err)
		}
		switch kind {
		case "s":
			out.Texts = append(out.Texts, store.NumberRoute{Number: number, Flow: a, Version: b})
		case "c":
			out.Calls = append(out.Calls, store.NumberRoute{Number: number, Flow: a, Version: b})
		case "o":
			out.Owned = append(out.Owned, store.OwnedNumber{Number: number, Name: a, Source: b, SMS: sms, Voice: voice})
		case "u":
			out.Unrouted = append(out.Unrouted, number)
		case "d":
			out.DirectoryVersion = version
		}
	}
	if err := rows.Err(); err != nil {
		return nil, t.errorf("numbers listing: %w", err)
	}
	return out, nil
}
