package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// BenchmarkHistoryAt10M measures what the contact's history costs a
// message with ten million interactions stored, on SQLite and, with
// FLOWC_TEST_DATABASE_URL, on PostgreSQL. It is opt-in
// (FLOWC_TEST_SCALE=1); FLOWC_TEST_HISTORY_ROWS changes the ten million
// (at least 100000).
//
//	FLOWC_TEST_SCALE=1 FLOWC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./server -run '^$' -bench HistoryAt10M -benchtime 2000x -timeout 60m
//
// The fill is one INSERT … SELECT (a recursive CTE on SQLite,
// generate_series on PostgreSQL) into interactions with its indexes
// dropped, then the migration's indexes created again: n interactions of
// n/50 contacts (+1557…), 50 each, over a year; the k-th of a contact is
// a call answered or placed by carol when k%10 = 0, else an SMS, inbound
// when k%3 = 0, else outbound: alice's when k%7 = 1, the campaign
// "spring"'s (reply to bob) when k%11 = 5, else a flow's. PostgreSQL is
// then vacuumed and analysed, as autovacuum would; SQLite is not
// analysed (the store never does).
//
// Per store, b.N samples of each, interleaved:
//
//   - lookup: the history read a step makes (store.HistoryReader: the
//     newest 50 and the three older lookups, one statement), for a random
//     contact of the fill;
//   - message: a whole inbound message through the server (Server.Handle:
//     the step's read, the history, the most-recent flow, the commit with
//     its two interactions), from a random contact of the fill;
//   - message-new: the same from a contact with no history, the baseline;
//   - lookup-cpu-us: this process's CPU time per lookup, over b.N more
//     lookups (on SQLite the database's work included; on PostgreSQL the
//     client's only): what the machine's other load does not change.
func BenchmarkHistoryAt10M(b *testing.B) {
	if os.Getenv("FLOWC_TEST_SCALE") == "" {
		b.Skip("set FLOWC_TEST_SCALE=1 to fill a store with ten million interactions and measure the history lookups")
	}
	n := 10_000_000
	if v := os.Getenv("FLOWC_TEST_HISTORY_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100000 {
			b.Fatalf("FLOWC_TEST_HISTORY_ROWS=%q: want a count of at least 100000", v)
		}
	}
	// The sub-benchmarks run more than once (b.N = 1 first): the store
	// is filled at the first run only.
	var sqliteEnv, pgEnv *historyEnv
	parent := b // the directory and the schema outlive the sub-benchmarks' runs
	b.Run("sqlite", func(b *testing.B) {
		if sqliteEnv == nil {
			path := parent.TempDir() + "/history.db"
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				b.Fatal(err)
			}
			sqliteEnv = newHistoryEnv(b, n, st, func(b *testing.B) { fillHistorySQLite(b, path, n) })
			if fi, err := os.Stat(path); err == nil {
				b.Logf("sqlite: database file %d MB", fi.Size()>>20)
			}
		}
		sqliteEnv.measure(b)
	})
	if sqliteEnv != nil {
		sqliteEnv.st.Close()
	}
	if base := os.Getenv("FLOWC_TEST_DATABASE_URL"); base != "" {
		b.Run("postgres", func(b *testing.B) {
			if pgEnv == nil {
				u := schemaURL(parent, base)
				st, err := postgres.Open(context.Background(), u)
				if err != nil {
					b.Fatal(err)
				}
				pgEnv = newHistoryEnv(b, n, st, func(b *testing.B) { fillHistoryPG(b, u, n) })
			}
			pgEnv.measure(b)
		})
		if pgEnv != nil {
			pgEnv.st.Close()
		}
	}
}

const historyPerContact = 50

var historyScaleStart = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)

// historyStep spreads n interactions over a year.
func historyStep(n int) time.Duration { return 365 * 24 * time.Hour / time.Duration(n) }

// historyEnv is a filled store and a server on it.
type historyEnv struct {
	st       store.Store
	srv      *server.Server
	contacts int
	seq      int
}

func newHistoryEnv(b *testing.B, n int, st store.Store, fill func(*testing.B)) *historyEnv {
	ctx := context.Background()
	flows := b.TempDir()
	if err := os.WriteFile(flows+"/most-recent.flow", []byte(mostRecent), 0o644); err != nil {
		b.Fatal(err)
	}
	res, err := lang.Load([]string{flows})
	if err != nil {
		b.Fatal(err)
	}
	progs, _ := compiler.All(res)
	dir, _ := server.LoadDirectory("../examples/directory.json")
	now := historyScaleStart.Add(366 * 24 * time.Hour)
	srv := server.New(server.Config{Directory: dir, Logger: quiet, Now: func() time.Time { return now }}, st)
	if err := srv.Deploy(ctx, progs); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	fill(b)
	b.Logf("filled %d interactions in %v", n, time.Since(t0).Round(time.Second))
	contacts := n / historyPerContact
	reader := st.(store.HistoryReader)
	// A check of the fill: contact 7's history is its 50, newest first,
	// with carol's call and alice's text found.
	h, err := reader.ReadHistory(ctx, fmt.Sprintf("+1557%07d", 7), runtime.MaxInteractions)
	if err != nil {
		b.Fatal(err)
	}
	if len(h.Recent) != historyPerContact || h.LastCalled == nil || h.LastCalled.User != "carol" || h.LastTexted == nil ||
		h.LastTexted.User != "alice" || h.Campaign == nil || !h.Recent[0].At.After(h.Recent[49].At) {
		b.Fatalf("the fill is not what the benchmark expects: %d recent, %+v %+v %+v", len(h.Recent), h.LastCalled, h.LastTexted, h.Campaign)
	}
	return &historyEnv{st: st, srv: srv, contacts: contacts}
}

func (e *historyEnv) measure(b *testing.B) {
	ctx := context.Background()
	reader, srv, contacts := e.st.(store.HistoryReader), e.srv, e.contacts
	rng := rand.New(rand.NewPCG(1, uint64(e.seq)))
	var lookup, message, fresh []time.Duration
	handle := func(from string) time.Duration {
		e.seq++
		in := server.Inbound{SID: fmt.Sprintf("SMbench%09d", e.seq), From: from, To: histNumber, Body: "hi"}
		t := time.Now()
		ans, err := srv.Handle(ctx, in, server.TwilioFieldNames())
		d := time.Since(t)
		if err != nil || ans.Outcome != "routed" {
			b.Fatalf("message: %+v %v", ans, err)
		}
		return d
	}
	b.ResetTimer()
	for range b.N {
		c := fmt.Sprintf("+1557%07d", rng.IntN(contacts))
		t := time.Now()
		if _, err := reader.ReadHistory(ctx, c, runtime.MaxInteractions); err != nil {
			b.Fatal(err)
		}
		lookup = append(lookup, time.Since(t))
		message = append(message, handle(fmt.Sprintf("+1557%07d", rng.IntN(contacts))))
		fresh = append(fresh, handle(fmt.Sprintf("+1558%07d", e.seq)))
	}
	b.StopTimer()
	// The CPU this process spends on a lookup (on SQLite the database's
	// work too; on PostgreSQL only the client's), apart from the
	// machine's other load, over b.N more lookups back to back.
	cpu0 := processCPU()
	for range b.N {
		if _, err := reader.ReadHistory(ctx, fmt.Sprintf("+1557%07d", rng.IntN(contacts)), runtime.MaxInteractions); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "lookup-cpu-us")
	}
	for _, m := range []struct {
		name string
		lat  []time.Duration
	}{{"lookup", lookup}, {"message", message}, {"message-new", fresh}} {
		sortDurations(m.lat)
		b.ReportMetric(pct(m.lat, 0.5), m.name+"-p50-ms")
		b.ReportMetric(pct(m.lat, 0.9), m.name+"-p90-ms")
		b.ReportMetric(pct(m.lat, 0.99), m.name+"-p99-ms")
	}
}

func sortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ { // insertion sort is fine for a few thousand samples
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// historyFillColumns is the row of interaction i, k its rank in its
// contact's history and c its contact, in SQL both databases take
// (fmtContact and fmtSID format a number).
func historyFillSelect(fmtContact, fmtSMS, fmtCall, at string) string {
	return `SELECT ` + fmtContact + `, '` + histNumber + `', ` + at + `,
		CASE WHEN k % 10 = 0 THEN 'call' ELSE 'sms' END,
		CASE WHEN k % 3 = 0 THEN 'inbound' ELSE 'outbound' END,
		CASE WHEN k % 10 = 0 THEN 'carol' WHEN k % 3 <> 0 AND k % 7 = 1 THEN 'alice' END,
		CASE WHEN k % 10 <> 0 AND k % 3 <> 0 AND k % 7 <> 1 AND k % 11 = 5 THEN 'spring' END,
		CASE WHEN k % 10 <> 0 AND k % 3 <> 0 AND k % 7 <> 1 AND k % 11 = 5 THEN 'bob' END,
		NULL,
		CASE WHEN k % 10 = 0 THEN ` + fmtCall + ` WHEN k % 3 = 0 THEN ` + fmtSMS + ` ELSE '' END,
		'', NULL`
}

const historyInsert = `INSERT INTO interactions (contact, number, at, kind, direction, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id) `

// rebuildIndexes drops interactions' indexes (but the primary key), runs
// fill, and creates them again from their definitions.
func rebuildIndexes(b *testing.B, exec func(q string, args ...any) error, defs map[string]string, fill func()) {
	for name := range defs {
		if err := exec(`DROP INDEX ` + name); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	fill()
	b.Logf("inserted in %v", time.Since(t0).Round(time.Millisecond))
	for name, def := range defs {
		t0 := time.Now()
		if err := exec(def); err != nil {
			b.Fatalf("%s: %v", def, err)
		}
		b.Logf("index %s in %v", name, time.Since(t0).Round(time.Millisecond))
	}
}

func fillHistorySQLite(b *testing.B, path string, n int) {
	ctx := context.Background()
	q := url.Values{}
	q["_pragma"] = []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(OFF)", "cache_size(-262144)"}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	defs := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'interactions' AND sql IS NOT NULL`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var name, def string
		rows.Scan(&name, &def)
		defs[name] = def
	}
	rows.Close()
	exec := func(q string, args ...any) error { _, err := db.ExecContext(ctx, q, args...); return err }
	rebuildIndexes(b, exec, defs, func() {
		sel := historyFillSelect(`printf('+1557%07d', c)`, `printf('SMh%09d', i)`, `printf('CAh%09d', i)`, `?3 + i * ?4`)
		err := exec(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?1) `+historyInsert+
			sel+` FROM (SELECT i, i % ?2 AS c, i / ?2 AS k FROM s)`, n, n/historyPerContact, historyScaleStart.UnixNano(), int64(historyStep(n)))
		if err != nil {
			b.Fatal(err)
		}
	})
	if err := exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
}

func fillHistoryPG(b *testing.B, dbURL string, n int) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	defs := map[string]string{}
	rows, err := conn.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'interactions' AND indexname <> 'interactions_pkey'`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var name, def string
		rows.Scan(&name, &def)
		defs[name] = def
	}
	rows.Close()
	exec := func(q string, args ...any) error { _, err := conn.Exec(ctx, q, args...); return err }
	pad := func(expr string, w int) string { return fmt.Sprintf("lpad((%s)::text, %d, '0')", expr, w) }
	rebuildIndexes(b, exec, defs, func() {
		sel := historyFillSelect(`'+1557' || `+pad("c", 7), `'SMh' || `+pad("i", 9), `'CAh' || `+pad("i", 9),
			`$3::timestamptz + (i * $4::bigint) * interval '1 microsecond'`)
		err := exec(historyInsert+sel+` FROM (SELECT i, i % $2::bigint AS c, i / $2::bigint AS k FROM generate_series(0, $1::bigint - 1) i) AS s`,
			n, n/historyPerContact, historyScaleStart, historyStep(n).Microseconds())
		if err != nil {
			b.Fatal(err)
		}
	})
	t0 := time.Now()
	if err := exec(`VACUUM (ANALYZE) interactions`); err != nil {
		b.Fatal(err)
	}
	b.Logf("postgres: vacuum analyze in %v", time.Since(t0).Round(time.Millisecond))
	var size string
	conn.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('interactions'))`).Scan(&size)
	b.Logf("postgres: interactions with its indexes: %s", strings.TrimSpace(size))
}
