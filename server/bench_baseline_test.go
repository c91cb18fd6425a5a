package server_test

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// BenchmarkInboundBaseline measures flowc's webhook handler against the
// real limit of a webhook on a store: a minimal handler that does what
// any SMS webhook must and nothing more, on the same database file (or
// PostgreSQL schema) and the same tables:
//
//   - parse the form and check the Twilio signature;
//   - one SELECT: the conversation row of (contact, number);
//   - one INSERT: the message row;
//   - answer with TwiML.
//
// (BenchmarkInbound's "bare" handler runs flowc's own nine statements in
// flowc's transaction, so it measures the store, not the limit.)
//
// Each case runs both handlers in the same benchmark run, one after the
// other, each on a fresh database, with b.N messages from the same number
// of concurrent loopback HTTP clients, each message a new contact texting
// the after-hours number (flowc runs the flow, replies, delivers to a
// team inbox). It reports both rates and flowc's share of the minimal
// one (flowc/minimal, the issue-14 target is ≥ 0.70), on SQLite and, with
// FLOWC_TEST_DATABASE_URL, on PostgreSQL, at 8, 32 and 128 clients:
//
//	FLOWC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./server -run '^$' -bench InboundBaseline -benchtime 4000x
func BenchmarkInboundBaseline(b *testing.B) {
	type backend struct {
		name string
		// open returns flowc's store and the minimal handler's database
		// on a fresh database with flowc's schema.
		flowc   func(b *testing.B) store.Store
		minimal func(b *testing.B) minimalDB
	}
	backends := []backend{{
		name:  "sqlite",
		flowc: func(b *testing.B) store.Store { return openStore(b) },
		minimal: func(b *testing.B) minimalDB {
			path := b.TempDir() + "/minimal.db"
			openSQLiteAt(b, path) // creates the file with flowc's schema
			return openMinimalSQLite(b, path)
		},
	}}
	if base := os.Getenv("FLOWC_TEST_DATABASE_URL"); base != "" {
		backends = append(backends, backend{
			name:  "postgres",
			flowc: func(b *testing.B) store.Store { return openPG(b, schemaURL(b, base)) },
			minimal: func(b *testing.B) minimalDB {
				u := schemaURL(b, base)
				openPG(b, u) // creates flowc's schema
				return openMinimalPG(b, u)
			},
		})
	}
	res, err := lang.Load([]string{"../examples"})
	if err != nil {
		b.Fatal(err)
	}
	progs, _ := compiler.All(res)
	dir, _ := server.LoadDirectory("../examples/directory.json")
	for _, be := range backends {
		for _, clients := range []int{8, 32, 128} {
			b.Run(fmt.Sprintf("%s/clients=%d", be.name, clients), func(b *testing.B) {
				minimal := loadClients(b, clients, minimalHandler(be.minimal(b)))
				st := be.flowc(b)
				srv := server.New(server.Config{TwilioAuthToken: authToken, Directory: dir, Logger: quiet,
					Now: func() time.Time { return time.Date(2026, 11, 23, 20, 0, 0, 0, ny) }}, st)
				if err := srv.Deploy(context.Background(), progs); err != nil {
					b.Fatal(err)
				}
				flowc := loadClients(b, clients, srv.Handler())
				b.ReportMetric(minimal.rate, "minimal-msgs/s")
				b.ReportMetric(minimal.p50, "minimal-p50-ms")
				b.ReportMetric(minimal.p99, "minimal-p99-ms")
				b.ReportMetric(flowc.rate, "flowc-msgs/s")
				b.ReportMetric(flowc.p50, "flowc-p50-ms")
				b.ReportMetric(flowc.p99, "flowc-p99-ms")
				b.ReportMetric(flowc.rate/minimal.rate, "flowc/minimal")
				// CPU time of this process (handler, load generator and,
				// for SQLite, the database) per message: steadier than the
				// rates on a shared machine. PostgreSQL's own is not in it.
				b.ReportMetric(minimal.cpu, "minimal-cpu-us/msg")
				b.ReportMetric(flowc.cpu, "flowc-cpu-us/msg")
				if be.name == "postgres" {
					// PostgreSQL's own CPU time per message (its server
					// processes on this machine; databaseCPU), which shares
					// the cores with this process.
					b.ReportMetric(minimal.dbCPU, "minimal-db-cpu-us/msg")
					b.ReportMetric(flowc.dbCPU, "flowc-db-cpu-us/msg")
				}
			})
		}
	}
}

// minimalDB is the minimal handler's database: the conversation look-up
// and the message insert, as prepared statements.
type minimalDB interface {
	conversation(ctx context.Context, contact, number string) (found bool, err error)
	insertMessage(ctx context.Context, sid, from, to, body string, received time.Time) error
}

// minimalHandler is the limit: signature, one SELECT, one INSERT, TwiML.
func minimalHandler(db minimalDB) http.Handler {
	reply := server.TwiML([]string{"We're closed."})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		full := "http://" + r.Host + r.URL.Path
		if !hmac.Equal([]byte(r.Header.Get("X-Twilio-Signature")), []byte(server.TwilioSignature(authToken, full, r.PostForm))) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		sid, from, to, body := r.PostForm.Get("MessageSid"), r.PostForm.Get("From"), r.PostForm.Get("To"), r.PostForm.Get("Body")
		ctx := r.Context()
		if _, err := db.conversation(ctx, from, to); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if err := db.insertMessage(ctx, sid, from, to, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, reply)
	})
}

const (
	minimalSelect = `SELECT flow, version, state FROM conversations WHERE contact = $1 AND number = $2`
	minimalInsert = `INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, trace, received)
		VALUES ($1, $2, $3, $4, $5, 'after-hours', 'v1', 'routed', '{"outcome":"routed"}', $6, $7)`
)

var minimalTrace = []byte(`{"steps":[]}`)

// openSQLiteAt is openStore at a given path.
func openSQLiteAt(b *testing.B, path string) store.Store {
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// minimalSQLite is the database file opened as the store opens it: one
// connection (SQLite has one writer), WAL, synchronous=NORMAL, the same
// busy timeout; statements in autocommit (one statement, one
// transaction).
type minimalSQLite struct {
	sel, ins *sql.Stmt
}

func openMinimalSQLite(b *testing.B, path string) minimalDB {
	q := url.Values{}
	q["_pragma"] = []string{"busy_timeout(2000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)"}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	b.Cleanup(func() { db.Close() })
	m := &minimalSQLite{}
	if m.sel, err = db.Prepare(strings.NewReplacer("$1", "?", "$2", "?").Replace(minimalSelect)); err != nil {
		b.Fatal(err)
	}
	if m.ins, err = db.Prepare(strings.NewReplacer("$1", "?", "$2", "?", "$3", "?", "$4", "?", "$5", "?", "$6", "?", "$7", "?").Replace(minimalInsert)); err != nil {
		b.Fatal(err)
	}
	return m
}

func (m *minimalSQLite) conversation(ctx context.Context, contact, number string) (bool, error) {
	var flow, version string
	var state []byte
	err := m.sel.QueryRowContext(ctx, contact, number).Scan(&flow, &version, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (m *minimalSQLite) insertMessage(ctx context.Context, sid, from, to, body string, received time.Time) error {
	_, err := m.ins.ExecContext(ctx, sid, from, to, body, "[]", minimalTrace, received.UnixNano())
	return err
}

// minimalPG is the schema opened as the store opens it: a pgxpool of
// the store's size (postgres.DefaultMaxConns unless the URL sets
// pool_max_conns), statements in autocommit (pgx prepares and caches
// them per connection). The same pool size on both sides: a smaller pool
// for the minimal handler would flatter flowc.
type minimalPG struct {
	pool *pgxpool.Pool
}

func openMinimalPG(b *testing.B, dbURL string) minimalDB {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(dbURL, "pool_max_conns") {
		cfg.MaxConns = postgres.DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return &minimalPG{pool: pool}
}

func (m *minimalPG) conversation(ctx context.Context, contact, number string) (bool, error) {
	var flow, version string
	var state []byte
	err := m.pool.QueryRow(ctx, minimalSelect, contact, number).Scan(&flow, &version, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (m *minimalPG) insertMessage(ctx context.Context, sid, from, to, body string, received time.Time) error {
	_, err := m.pool.Exec(ctx, minimalInsert, sid, from, to, body, []string{}, minimalTrace, received)
	return err
}

type loadResult struct {
	rate, p50, p99 float64 // messages/s, milliseconds
	cpu            float64 // this process's CPU time (user + system) per message, µs
	dbCPU          float64 // the PostgreSQL server's on this machine (databaseCPU), µs per message
}

// cpuTime is this process's CPU time so far (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var baselineRun atomic.Int64

// loadClients sends b.N signed webhooks to h from a pool of clients
// concurrent loopback HTTP clients (BenchmarkInbound's load, with the
// number of clients as a parameter), each message a new contact texting
// the after-hours number, and returns the rate and latencies.
func loadClients(b *testing.B, clients int, h http.Handler) loadResult {
	srv := httptest.NewServer(h)
	defer srv.Close()
	full := srv.URL + "/webhooks/twilio/sms"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	run := baselineRun.Add(1)
	b.ResetTimer()
	cpu0, db0 := cpuTime(), databaseCPU()
	lat, elapsed, err := postWebhooks(client, full, b.N, clients, func(i int) url.Values {
		return url.Values{"MessageSid": {fmt.Sprintf("SMbase%d_%d", run, i)}, "From": {fmt.Sprintf("+1555%07d", i)}, "To": {"+15550200"}, "Body": {"hello"}}
	})
	cpu, db := cpuTime()-cpu0, databaseCPU()-db0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return loadResult{rate: float64(b.N) / elapsed.Seconds(), p50: ms(lat[len(lat)/2]), p99: ms(lat[len(lat)*99/100]),
		cpu: float64(cpu.Microseconds()) / float64(b.N), dbCPU: float64(db.Microseconds()) / float64(b.N)}
}

// postWebhooks sends n signed inbound webhooks, form(i) the i-th, from
// clients concurrent clients, and returns each one's latency and the time
// all took; err counts the failed ones (an error or a status other than
// 200) and quotes the first.
func postWebhooks(client *http.Client, full string, n, clients int, form func(i int) url.Values) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, n)
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f := form(i)
				req, _ := http.NewRequest(http.MethodPost, full, strings.NewReader(f.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", server.TwilioSignature(authToken, full, f))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, msg))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if k := failed.Load(); k > 0 {
		return lat, elapsed, fmt.Errorf("%d webhooks failed, the first: %v", k, firstErr.Load())
	}
	return lat, elapsed, nil
}
