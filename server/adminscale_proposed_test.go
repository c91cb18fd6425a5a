package server_test

import (
	"context"
	"database/sql"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Queries BenchmarkAdminAt1M measures beside the store's own, as fixes
// for what it found slow, run on a raw connection to the same database.

// unroutedSkipScan is UnroutedNumbersPage's listing as a loose index
// scan: one seek in the partial index messages_no_flow per distinct
// number texted with no flow (the next number above the last), instead
// of reading every no-flow message's entry and keeping the distinct ones
// (sqlstore.UnroutedNumbersQuery). c is the dialect's bytewise collation;
// the placeholders are ?1 (after) and ?2 (limit).
func unroutedSkipScan(c string) string {
	return `WITH RECURSIVE u(n) AS (
			SELECT (SELECT to_number` + c + ` FROM messages WHERE outcome = 'no-flow' AND to_number` + c + ` > ?1
				ORDER BY to_number` + c + ` LIMIT 1)
			UNION ALL
			SELECT (SELECT to_number` + c + ` FROM messages WHERE outcome = 'no-flow' AND to_number` + c + ` > u.n
				ORDER BY to_number` + c + ` LIMIT 1)
			FROM u WHERE u.n IS NOT NULL)
		SELECT n FROM u WHERE n IS NOT NULL AND NOT EXISTS (SELECT 1 FROM numbers WHERE number = u.n)
		ORDER BY n` + c + ` LIMIT ?2`
}

// deliveriesBatched is what listInbox reads per item
// (OutboxByMessage, one query each) as one query for the page's items.
func deliveriesBatched(n int) string {
	var b strings.Builder
	b.WriteString(`SELECT o.id, o.kind, o.to_addr, o.from_addr, o.body, o.message_sid, o.contact, o.created, o.not_before,
		o.status, o.attempts, o.last_error, o.done_at, o.destination, o.provider_sid,
		coalesce(d.status, ''), coalesce(d.error_code, ''), d.updated
		FROM outbox o LEFT JOIN delivery_status d ON o.provider_sid <> '' AND d.provider_sid = o.provider_sid
		WHERE o.message_sid IN (`)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?" + strconv.Itoa(i+1))
	}
	b.WriteString(`) ORDER BY o.message_sid, o.id`)
	return b.String()
}

// rawSQL runs the proposed queries on one backend.
type rawSQL struct {
	unrouted   func(ctx context.Context, after string, limit int) ([]string, error)
	deliveries func(ctx context.Context, sids []string) (int, error)
}

func rawSQLite(b *testing.B, path string) rawSQL {
	q := url.Values{}
	q["_pragma"] = []string{"busy_timeout(10000)", "query_only(1)"}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	count := func(rows *sql.Rows, err error) (int, error) {
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		return n, rows.Err()
	}
	return rawSQL{
		unrouted: func(ctx context.Context, after string, limit int) ([]string, error) {
			rows, err := db.QueryContext(ctx, unroutedSkipScan(""), after, limit)
			return scanStrings(rows, err)
		},
		deliveries: func(ctx context.Context, sids []string) (int, error) {
			args := make([]any, len(sids))
			for i, s := range sids {
				args[i] = s
			}
			return count(db.QueryContext(ctx, deliveriesBatched(len(sids)), args...))
		},
	}
}

func rawPG(b *testing.B, dbURL string) rawSQL {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(ctx) })
	// ?N to $N: the same text on both databases.
	dollar := func(q string) string { return strings.ReplaceAll(q, "?", "$") }
	return rawSQL{
		unrouted: func(ctx context.Context, after string, limit int) ([]string, error) {
			rows, err := conn.Query(ctx, dollar(unroutedSkipScan(` COLLATE "C"`)), after, limit)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, pgx.RowTo[string])
		},
		deliveries: func(ctx context.Context, sids []string) (int, error) {
			args := make([]any, len(sids))
			for i, s := range sids {
				args[i] = s
			}
			rows, err := conn.Query(ctx, dollar(deliveriesBatched(len(sids))), args...)
			if err != nil {
				return 0, err
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			return n, rows.Err()
		},
	}
}

func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
