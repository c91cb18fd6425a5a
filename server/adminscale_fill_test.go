package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The rows BenchmarkAdminAt1M stores, written straight into the
// migrations' tables by one INSERT … SELECT per table (a recursive CTE
// on SQLite, generate_series on PostgreSQL), so that a million rows take
// seconds rather than a million webhooks. Row i of each table is a pure
// function of i, and scaleExpect computes in Go what the listings must
// then return.
//
//   - numbers: scaleNumbers routed numbers +15553000000…, plus the first
//     scaleRoutedLater of the numbers texted with no flow (routed since);
//   - messages: n, from scaleContacts contacts (+1556…), one in 50 to one
//     of scaleUnrouted numbers no flow served (+15554000000…, outcome
//     no-flow), the rest to the routed numbers (routed, timer, help),
//     each with a 400-byte trace, over a year;
//   - inbox_items: n, 40% team front-desk, 30% team support, 10% team
//     sales, 10% user alice, 10% user bob; done except the newest 3% and
//     one in 53 older ones; each keeps its message;
//   - outbox: a sent reply for one in ten inbox items' messages.
const (
	scaleNumbers     = 200
	scaleContacts    = 100000
	scaleUnrouted    = 40
	scaleRoutedLater = 10
	scaleBody        = "Hi, when do you open tomorrow? I need to change my booking."
	scaleReply       = "Thanks for your message. Our office is closed; we open at 9am."
)

var (
	scaleStart = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	scaleStep  = 31 * time.Second // n = 1M spans a year
)

// scaleOpen reports whether inbox item i is not done.
func scaleOpen(i, n int) bool { return i >= n*97/100 || i%53 == 0 }

// scaleExpect is what the listings hold after the fill of n rows.
type scaleExpect struct {
	unrouted        []string // sorted
	frontDeskOpen   int
	frontDeskAll    int
	routedAddedByUs int
}

func expectScale(n int) scaleExpect {
	var e scaleExpect
	for k := scaleRoutedLater; k < scaleUnrouted; k++ {
		e.unrouted = append(e.unrouted, fmt.Sprintf("+1555400%04d", k))
	}
	for i := range n {
		if i%10 < 4 {
			e.frontDeskAll++
			if scaleOpen(i, n) {
				e.frontDeskOpen++
			}
		}
	}
	e.routedAddedByUs = scaleNumbers + scaleRoutedLater
	return e
}

// fillSQLite fills the database file at path (the store's schema, open
// in the store) through a connection of its own, in one transaction, and
// checkpoints the WAL so that the file holds everything.
func fillSQLite(b *testing.B, path, version string, n int) {
	ctx := context.Background()
	q := url.Values{}
	q["_pragma"] = []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(OFF)", "cache_size(-262144)"}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	start, step := scaleStart.UnixNano(), int64(scaleStep)
	const series = `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?1) `
	stmts := []struct {
		what string
		sql  string
		args []any
	}{
		{"numbers", `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?1)
			INSERT INTO numbers (number, flow, version)
			SELECT printf('+1555300%04d', i), 'after-hours', ?2 FROM s
			UNION ALL SELECT printf('+1555400%04d', i), 'after-hours', ?2 FROM s WHERE i < ?3`,
			[]any{scaleNumbers, version, scaleRoutedLater}},
		{"messages", series + `INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, trace, received)
			SELECT printf('SMfill%08d', i), printf('+1556%07d', i % ?5),
				CASE WHEN i % 50 = 0 THEN printf('+1555400%04d', (i / 50) % ?6) ELSE printf('+1555300%04d', i % ?7) END,
				?8, '[]',
				CASE WHEN i % 50 = 0 THEN '' ELSE 'after-hours' END,
				CASE WHEN i % 50 = 0 THEN '' ELSE ?2 END,
				CASE WHEN i % 50 = 0 THEN 'no-flow' WHEN i % 20 = 1 THEN 'timer' WHEN i % 100 = 3 THEN 'help' ELSE 'routed' END,
				'{"outcome":"routed","replies":["' || ?9 || '"]}',
				randomblob(400), ?3 + i * ?4
			FROM s`,
			[]any{n, version, start, step, scaleContacts, scaleUnrouted, scaleNumbers, scaleBody, scaleReply}},
		{"inbox_items", series + `INSERT INTO inbox_items (target_kind, target_name, assignee, message_sid, contact, number, body, flow,
				created, done, done_at, messages, messages_omitted)
			SELECT CASE WHEN i % 10 < 8 THEN 'team' ELSE 'user' END,
				CASE WHEN i % 10 < 4 THEN 'front-desk' WHEN i % 10 < 7 THEN 'support' WHEN i % 10 = 7 THEN 'sales'
					WHEN i % 10 = 8 THEN 'alice' ELSE 'bob' END,
				CASE WHEN i % 10 >= 8 OR i % 3 = 0 THEN '' WHEN i % 3 = 1 THEN 'alice' ELSE 'carol' END,
				printf('SMfill%08d', i), printf('+1556%07d', i % ?5), printf('+1555300%04d', i % ?7), ?8, 'after-hours',
				?3 + i * ?4,
				CASE WHEN i >= ?1 * 97 / 100 OR i % 53 = 0 THEN 0 ELSE 1 END,
				CASE WHEN i >= ?1 * 97 / 100 OR i % 53 = 0 THEN NULL ELSE ?3 + i * ?4 + 3600000000000 END,
				printf('[{"sid":"SMfill%08d","body":"%s","received":%d}]', i, ?8, ?3 + i * ?4), 0
			FROM s`,
			[]any{n, nil, start, step, scaleContacts, nil, scaleNumbers, scaleBody}},
		{"outbox", `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 10 FROM s WHERE i + 10 < ?1)
			INSERT INTO outbox (kind, to_addr, from_addr, body, message_sid, created, not_before, status, attempts, last_error,
				done_at, contact, destination, provider_sid)
			SELECT 'sms', printf('+1556%07d', i % ?4), printf('+1555300%04d', i % ?5), ?6, printf('SMfill%08d', i),
				?2 + i * ?3, ?2 + i * ?3, 'sent', 1, '', ?2 + i * ?3 + 1000000000, printf('+1556%07d', i % ?4), 'sms',
				printf('SMout%08d', i)
			FROM s`,
			[]any{n, start, step, scaleContacts, scaleNumbers, scaleReply}},
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range stmts {
		t0 := time.Now()
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			b.Fatalf("fill %s: %v", s.what, err)
		}
		b.Logf("sqlite: filled %s in %v", s.what, time.Since(t0).Round(time.Millisecond))
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
}

// fillPG fills the schema at dbURL (search_path set) as fillSQLite does,
// then vacuums and analyses the tables as autovacuum would after so many
// inserts (PostgreSQL's index-only scans need the visibility map).
func fillPG(b *testing.B, dbURL, version string, n int) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	startNS, stepUS := scaleStart.UnixNano(), scaleStep.Microseconds()
	at := `($3::timestamptz + (i * $4::bigint) * interval '1 microsecond')`
	pad := func(expr string, w int) string { return fmt.Sprintf("lpad((%s)::text, %d, '0')", expr, w) }
	stmts := []struct {
		what string
		sql  string
		args []any
	}{
		{"numbers", `INSERT INTO numbers (number, flow, version)
			SELECT '+1555300' || ` + pad("i", 4) + `, 'after-hours', $2 FROM generate_series(0, $1::int - 1) i
			UNION ALL SELECT '+1555400' || ` + pad("i", 4) + `, 'after-hours', $2 FROM generate_series(0, $3::int - 1) i`,
			[]any{scaleNumbers, version, scaleRoutedLater}},
		{"messages", `INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, trace, received)
			SELECT 'SMfill' || ` + pad("i", 8) + `, '+1556' || ` + pad("i % $5::int", 7) + `,
				CASE WHEN i % 50 = 0 THEN '+1555400' || ` + pad("(i / 50) % $6::int", 4) + ` ELSE '+1555300' || ` + pad("i % $7::int", 4) + ` END,
				$8::text, '{}',
				CASE WHEN i % 50 = 0 THEN '' ELSE 'after-hours' END,
				CASE WHEN i % 50 = 0 THEN '' ELSE $2::text END,
				CASE WHEN i % 50 = 0 THEN 'no-flow' WHEN i % 20 = 1 THEN 'timer' WHEN i % 100 = 3 THEN 'help' ELSE 'routed' END,
				'{"outcome":"routed","replies":["' || $9::text || '"]}',
				decode(repeat(md5(i::text), 25), 'hex'), ` + at + `
			FROM generate_series(0, $1::bigint - 1) i`,
			[]any{n, version, scaleStart, stepUS, scaleContacts, scaleUnrouted, scaleNumbers, scaleBody, scaleReply}},
		{"inbox_items", `INSERT INTO inbox_items (target_kind, target_name, assignee, message_sid, contact, number, body, flow,
				created, done, done_at, messages, messages_omitted)
			SELECT CASE WHEN i % 10 < 8 THEN 'team' ELSE 'user' END,
				CASE WHEN i % 10 < 4 THEN 'front-desk' WHEN i % 10 < 7 THEN 'support' WHEN i % 10 = 7 THEN 'sales'
					WHEN i % 10 = 8 THEN 'alice' ELSE 'bob' END,
				CASE WHEN i % 10 >= 8 OR i % 3 = 0 THEN '' WHEN i % 3 = 1 THEN 'alice' ELSE 'carol' END,
				'SMfill' || ` + pad("i", 8) + `, '+1556' || ` + pad("i % $5::int", 7) + `, '+1555300' || ` + pad("i % $6::int", 4) + `,
				$7::text, 'after-hours', ` + at + `,
				NOT (i >= $1::bigint * 97 / 100 OR i % 53 = 0),
				CASE WHEN i >= $1::bigint * 97 / 100 OR i % 53 = 0 THEN NULL ELSE ` + at + ` + interval '1 hour' END,
				format('[{"sid":"SMfill%s","body":"%s","received":%s}]', ` + pad("i", 8) + `, $7::text, $2::bigint + i * $4::bigint * 1000), 0
			FROM generate_series(0, $1::bigint - 1) i`,
			[]any{n, startNS, scaleStart, stepUS, scaleContacts, scaleNumbers, scaleBody}},
		{"outbox", `INSERT INTO outbox (kind, to_addr, from_addr, body, message_sid, created, not_before, status, attempts, last_error,
				done_at, contact, destination, provider_sid)
			SELECT 'sms', '+1556' || ` + pad("i % $5::int", 7) + `, '+1555300' || ` + pad("i % $6::int", 4) + `, $2::text,
				'SMfill' || ` + pad("i", 8) + `, ` + at + `, ` + at + `, 'sent', 1, '', ` + at + ` + interval '1 second',
				'+1556' || ` + pad("i % $5::int", 7) + `, 'sms', 'SMout' || ` + pad("i", 8) + `
			FROM generate_series(0, $1::bigint - 1, 10) i`,
			[]any{n, scaleReply, scaleStart, stepUS, scaleContacts, scaleNumbers}},
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range stmts {
		t0 := time.Now()
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			b.Fatalf("fill %s: %v", s.what, err)
		}
		b.Logf("postgres: filled %s in %v", s.what, time.Since(t0).Round(time.Millisecond))
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) numbers, messages, inbox_items, outbox`); err != nil {
		b.Fatal(err)
	}
	b.Logf("postgres: vacuum analyze in %v", time.Since(t0).Round(time.Millisecond))
}
