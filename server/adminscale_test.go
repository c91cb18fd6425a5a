package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// BenchmarkAdminAt1M measures the admin listings of issue 14 with a
// million messages and a million inbox items stored (adminscale_fill_test.go
// says which), on SQLite and, with FLOWC_TEST_DATABASE_URL, on
// PostgreSQL (a schema of its own, dropped afterwards). It is opt-in
// (FLOWC_TEST_SCALE=1): on a 2-vCPU machine the fill takes 3 minutes on
// SQLite (a 1.3 GB file) and 1 on PostgreSQL, the whole run 7 to 10.
//
//	FLOWC_TEST_SCALE=1 FLOWC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./server -run '^$' -bench AdminAt1M -benchtime 40x -timeout 60m
//
// FLOWC_TEST_ADMIN_ROWS changes the million (at least 20000, for a quick run).
//
// Per store:
//
//   - store/READ/warm: the read through the store API (InReadTx, the
//     page size the HTTP API uses by default), b.N times on one handle;
//   - store/READ/cold: b.N times the first read on a new store handle
//     (new connections: SQLite's page cache and PostgreSQL's catalog and
//     plan caches empty) after an empty transaction opened the
//     connection; on SQLite the database file is also evicted from the
//     OS page cache first (posix_fadvise), so the read comes from disk;
//     PostgreSQL's shared buffers cannot be emptied without a restart;
//   - http/READ: GET /v1/admin/… on the server, warm;
//   - store/deliveries-per-item against proposed/deliveries-batched, and
//     proposed/unrouted-skipscan-*: the fixes of
//     adminscale_proposed_test.go beside what the store does, warm;
//   - inbound: the webhook load of BenchmarkInboundBaseline (32 clients,
//     each message a new contact texting the after-hours number) in
//     rounds of three phases of 40×b.N messages: quiet (no admin reads), busy
//     (one admin client looping over the http reads back to back) and
//     paced (one admin read every 200 ms), and the ratios of the p99s
//     within each round (medians over the rounds).
//
// Each reports p50-ms and p99-ms of its b.N samples (with 40 samples
// the p99 is the slowest); ns/op is the mean, without opening stores.
func BenchmarkAdminAt1M(b *testing.B) {
	if os.Getenv("FLOWC_TEST_SCALE") == "" {
		b.Skip("set FLOWC_TEST_SCALE=1 to fill a store with a million rows and measure the admin reads")
	}
	n := 1_000_000
	if v := os.Getenv("FLOWC_TEST_ADMIN_ROWS"); v != "" {
		var err error
		// 20,000 rows leave more than a page of front-desk items after
		// the deep cursors.
		if n, err = strconv.Atoi(v); err != nil || n < 20000 {
			b.Fatalf("FLOWC_TEST_ADMIN_ROWS=%q: want a count of at least 20000", v)
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		path := b.TempDir() + "/scale.db"
		open := func(b *testing.B) store.Store {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				b.Fatal(err)
			}
			return st
		}
		adminScaleRun(b, n, open, func(b *testing.B, version string) { fillSQLite(b, path, version, n) },
			func(b *testing.B) { evictFile(b, path) }, func(b *testing.B) rawSQL { return rawSQLite(b, path) },
			func() int64 {
				fi, err := os.Stat(path + "-wal")
				if err != nil {
					return -1
				}
				return fi.Size()
			})
	})
	if base := os.Getenv("FLOWC_TEST_DATABASE_URL"); base != "" {
		b.Run("postgres", func(b *testing.B) {
			u := schemaURL(b, base)
			open := func(b *testing.B) store.Store {
				st, err := postgres.Open(context.Background(), u)
				if err != nil {
					b.Fatal(err)
				}
				return st
			}
			adminScaleRun(b, n, open, func(b *testing.B, version string) { fillPG(b, u, version, n) }, nil,
				func(b *testing.B) rawSQL { return rawPG(b, u) }, nil)
		})
	}
}

const scaleAdminToken = "admin-scale-token-0123456789"

// adminRead is one listing, through the store and over HTTP.
type adminRead struct {
	name string
	// read returns how many entries the page held.
	read func(ctx context.Context, tx store.Tx, a store.AdminTx) (int, error)
	path string
	// want and httpWant are the entries the page must hold through the
	// store and over HTTP (the numbers page goes on with the unrouted
	// ones), checked once before measuring.
	want, httpWant int
}

func adminScaleRun(b *testing.B, n int, open func(*testing.B) store.Store, fill func(*testing.B, string), evict func(*testing.B),
	raw func(*testing.B) rawSQL, walSize func() int64) {
	ctx := context.Background()
	st := open(b)
	b.Cleanup(func() { st.Close() })
	res, err := lang.Load([]string{"../examples"})
	if err != nil {
		b.Fatal(err)
	}
	progs, _ := compiler.All(res)
	dir, _ := server.LoadDirectory("../examples/directory.json")
	srv := server.New(server.Config{TwilioAuthToken: authToken, AdminToken: scaleAdminToken, Directory: dir, Logger: quiet,
		Now: func() time.Time { return time.Date(2026, 11, 23, 20, 0, 0, 0, ny) }}, st)
	if _, _, err := srv.EnsureAdminToken(ctx); err != nil {
		b.Fatal(err)
	}
	if err := srv.Deploy(ctx, progs); err != nil {
		b.Fatal(err)
	}
	var version string
	deployed := 0
	if err := readAdmin(ctx, st, func(tx store.Tx, a store.AdminTx) error {
		routes, err := a.NumbersPage(ctx, "", 0)
		for _, r := range routes {
			if r.Flow == "after-hours" {
				version = r.Version
			}
		}
		deployed = len(routes)
		return err
	}); err != nil || version == "" {
		b.Fatalf("after-hours not deployed (version %q): %v", version, err)
	}
	t0 := time.Now()
	fill(b, version)
	b.Logf("filled %d messages and %d inbox items in %v", n, n, time.Since(t0).Round(time.Second))

	want := expectScale(n)
	routed := deployed + want.routedAddedByUs
	// The cursors: a later page of the numbers, of the unrouted ones,
	// and of front-desk's open items three quarters in; of all its items
	// (done too) three quarters through the table.
	var numbersAfter, lastRouted string
	var inboxDeep, allDeep int64
	var deepLeft int
	if err := readAdmin(ctx, st, func(tx store.Tx, a store.AdminTx) error {
		routes, err := a.NumbersPage(ctx, "", 0)
		if err != nil {
			return err
		}
		if len(routes) != routed {
			return fmt.Errorf("%d routed numbers, want %d", len(routes), routed)
		}
		numbersAfter, lastRouted = routes[routed/2].Number, routes[routed-1].Number
		unrouted, err := a.UnroutedNumbersPage(ctx, "", 0)
		if err != nil {
			return err
		}
		if strings.Join(unrouted, " ") != strings.Join(want.unrouted, " ") {
			return fmt.Errorf("unrouted numbers %v, want %v", unrouted, want.unrouted)
		}
		// Walk front-desk's open items page by page: the count and order
		// must be the fill's.
		var after, last int64
		count := 0
		for {
			items, next, err := a.InboxPage(ctx, "team", "front-desk", false, after, 500)
			if err != nil {
				return err
			}
			for _, it := range items {
				if it.ID <= last || it.Done || it.TargetName != "front-desk" || len(it.Messages) != 1 {
					return fmt.Errorf("item %d after %d: done %v, target %s, %d messages", it.ID, last, it.Done, it.TargetName, len(it.Messages))
				}
				last = it.ID
				count++
				if count == want.frontDeskOpen*3/4 {
					inboxDeep = it.ID
				}
			}
			if next == 0 {
				break
			}
			after = next
		}
		if count != want.frontDeskOpen {
			return fmt.Errorf("front-desk has %d open items, want %d", count, want.frontDeskOpen)
		}
		deepLeft = want.frontDeskOpen - want.frontDeskOpen*3/4
		allDeep = last * 3 / 4
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	inbox := "/v1/admin/inbox/team/front-desk?limit=500"
	page := func(n int) int { return min(n, 500) }
	reads := []adminRead{
		{"numbers-first", func(ctx context.Context, _ store.Tx, a store.AdminTx) (int, error) {
			r, err := a.NumbersPage(ctx, "", 501)
			return len(r), err
		}, "/v1/admin/numbers", routed, page(routed + len(want.unrouted))},
		{"numbers-cursor", func(ctx context.Context, _ store.Tx, a store.AdminTx) (int, error) {
			r, err := a.NumbersPage(ctx, numbersAfter, 501)
			return len(r), err
		}, "/v1/admin/numbers?cursor=" + url.QueryEscape("routed:"+numbersAfter), routed - routed/2 - 1, page(routed - routed/2 - 1 + len(want.unrouted))},
		{"unrouted-first", func(ctx context.Context, _ store.Tx, a store.AdminTx) (int, error) {
			r, err := a.UnroutedNumbersPage(ctx, "", 501)
			return len(r), err
		}, "/v1/admin/numbers?cursor=" + url.QueryEscape("number:"+lastRouted), len(want.unrouted), len(want.unrouted)}, // the unrouted sort after the routed
		{"unrouted-cursor", func(ctx context.Context, _ store.Tx, a store.AdminTx) (int, error) {
			r, err := a.UnroutedNumbersPage(ctx, want.unrouted[len(want.unrouted)/2], 501)
			return len(r), err
		}, "/v1/admin/numbers?cursor=" + url.QueryEscape("unrouted:"+want.unrouted[len(want.unrouted)/2]), len(want.unrouted) - len(want.unrouted)/2 - 1, len(want.unrouted) - len(want.unrouted)/2 - 1},
		{"inbox-first", func(ctx context.Context, _ store.Tx, a store.AdminTx) (int, error) {
			r, _, err := a.InboxPage(ctx, "team", "front-desk", false, 0, 500)
			return len(r), err
		}, inbox, page(want.frontDeskOpen), page(want.frontDeskOpen)},
		{"inbox-deep", func(ctx context.Context, _ store.Tx, a store.AdminTx) (int, error) {
			r, _, err := a.InboxPage(ctx, "team", "front-desk", false, inboxDeep, 500)
			return len(r), err
		}, inbox + "&cursor=" + strconv.FormatInt(inboxDeep, 10), page(deepLeft), page(deepLeft)},
		{"inbox-all-first", func(ctx context.Context, _ store.Tx, a store.AdminTx) (int, error) {
			r, _, err := a.InboxPage(ctx, "team", "front-desk", true, 0, 500)
			return len(r), err
		}, inbox + "&all=true", page(want.frontDeskAll), page(want.frontDeskAll)},
		{"inbox-all-deep", func(ctx context.Context, _ store.Tx, a store.AdminTx) (int, error) {
			r, _, err := a.InboxPage(ctx, "team", "front-desk", true, allDeep, 500)
			return len(r), err
		}, inbox + "&all=true&cursor=" + strconv.FormatInt(allDeep, 10), 500, 500},
	}
	for _, rd := range reads {
		if err := readAdmin(ctx, st, func(tx store.Tx, a store.AdminTx) error {
			got, err := rd.read(ctx, tx, a)
			if err == nil && got != rd.want {
				err = fmt.Errorf("%d entries, want %d", got, rd.want)
			}
			return err
		}); err != nil {
			b.Fatalf("%s: %v", rd.name, err)
		}
	}

	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	admin := &http.Client{}
	b.Cleanup(admin.CloseIdleConnections)
	for _, rd := range reads {
		if got, err := adminGet(admin, hs.URL+rd.path); err != nil || got != rd.httpWant {
			b.Fatalf("GET %s: %d entries (want %d): %v", rd.path, got, rd.httpWant, err)
		}
	}

	for _, rd := range reads {
		b.Run("store/"+rd.name+"/warm", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				if err := readAdmin(ctx, st, func(tx store.Tx, a store.AdminTx) error { _, err := rd.read(ctx, tx, a); return err }); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportLatency(b, lat)
		})
		b.Run("store/"+rd.name+"/cold", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				b.StopTimer()
				if evict != nil {
					evict(b)
				}
				fresh := open(b)
				if err := readAdmin(ctx, fresh, func(store.Tx, store.AdminTx) error { return nil }); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				if err := readAdmin(ctx, fresh, func(tx store.Tx, a store.AdminTx) error { _, err := rd.read(ctx, tx, a); return err }); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				b.StopTimer()
				fresh.Close()
				b.StartTimer()
			}
			reportLatency(b, lat)
		})
	}
	for _, rd := range reads {
		b.Run("http/"+rd.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				if _, err := adminGet(admin, hs.URL+rd.path); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportLatency(b, lat)
		})
	}
	proposed(b, st, raw(b), want.unrouted)
	b.Run("inbound", func(b *testing.B) { inboundWithAdmin(b, hs.URL, reads, walSize) })
}

// proposed measures the fixes of adminscale_proposed_test.go against
// what the store does today, warm, after checking they answer the same.
func proposed(b *testing.B, st store.Store, raw rawSQL, unrouted []string) {
	ctx := context.Background()
	got, err := raw.unrouted(ctx, "", 501)
	if err != nil || strings.Join(got, " ") != strings.Join(unrouted, " ") {
		b.Fatalf("skip-scan unrouted numbers %v, want %v: %v", got, unrouted, err)
	}
	mid := unrouted[len(unrouted)/2]
	if got, err := raw.unrouted(ctx, mid, 501); err != nil || strings.Join(got, " ") != strings.Join(unrouted[len(unrouted)/2+1:], " ") {
		b.Fatalf("skip-scan unrouted numbers after %s: %v: %v", mid, got, err)
	}
	for _, after := range []string{"", mid} {
		name := "first"
		if after != "" {
			name = "cursor"
		}
		b.Run("proposed/unrouted-skipscan-"+name+"/warm", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				if _, err := raw.unrouted(ctx, after, 501); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportLatency(b, lat)
		})
	}
	// The deliveries of the first page of front-desk's open items: what
	// listInbox reads, one OutboxByMessage per item, against one query.
	var sids []string
	perItem := func(tx store.Tx) (int, error) {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return 0, fmt.Errorf("store %T has no outbox", tx)
		}
		n := 0
		for _, sid := range sids {
			items, err := otx.OutboxByMessage(ctx, sid)
			if err != nil {
				return 0, err
			}
			n += len(items)
		}
		return n, nil
	}
	var want int
	if err := readAdmin(ctx, st, func(tx store.Tx, a store.AdminTx) error {
		items, _, err := a.InboxPage(ctx, "team", "front-desk", false, 0, 500)
		for _, it := range items {
			sids = append(sids, it.MessageSID)
		}
		if err == nil {
			want, err = perItem(tx)
		}
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if got, err := raw.deliveries(ctx, sids); err != nil || got != want || want == 0 {
		b.Fatalf("batched deliveries of %d items: %d, want %d (one query each): %v", len(sids), got, want, err)
	}
	b.Run("store/deliveries-per-item/warm", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for range b.N {
			t0 := time.Now()
			if err := readAdmin(ctx, st, func(tx store.Tx, _ store.AdminTx) error { _, err := perItem(tx); return err }); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		reportLatency(b, lat)
	})
	b.Run("proposed/deliveries-batched/warm", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for range b.N {
			t0 := time.Now()
			if _, err := raw.deliveries(ctx, sids); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		reportLatency(b, lat)
	})
}

// readAdmin runs fn in a read-only transaction, as the admin pages do.
func readAdmin(ctx context.Context, st store.Store, fn func(store.Tx, store.AdminTx) error) error {
	run := st.InTx
	if r, ok := st.(store.Reader); ok {
		run = r.InReadTx
	}
	return run(ctx, func(tx store.Tx) error {
		a, ok := tx.(store.AdminTx)
		if !ok {
			return fmt.Errorf("store %T has no admin operations", tx)
		}
		return fn(tx, a)
	})
}

// adminGet GETs an admin page and counts its entries (routed and
// unrouted numbers, or inbox items).
func adminGet(c *http.Client, u string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+scaleAdminToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", resp.Status, body)
	}
	var page struct {
		Numbers []json.RawMessage `json:"numbers"`
		Items   []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, err
	}
	return len(page.Numbers) + len(page.Items), nil
}

// pct is the q-quantile of sorted latencies, in milliseconds.
func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(q*float64(len(sorted))))
	return float64(sorted[i].Microseconds()) / 1000
}

func reportLatency(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(pct(lat, 0.5), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
}

var scaleInboundSeq atomic.Int64

// inboundPerOp is the webhooks per phase and b.N: with -benchtime 40x a
// phase is 1,600 webhooks (enough for a p99), and the first, N=1 run of
// the benchmark a warm-up of 40.
const inboundPerOp = 40

// inboundWithAdmin sends rounds of three phases of b.N×inboundPerOp webhooks each
// (quiet, busy, paced; see BenchmarkAdminAt1M) to the server at base
// and reports each phase's median p99 and msgs/s, and the p99 ratios
// against the quiet phase of the same round.
//
// walSize, when not nil, is the SQLite WAL file's size, logged after each
// phase: a WAL that grows while admin reads run is one the checkpointer
// could not restart because of them.
func inboundWithAdmin(b *testing.B, base string, reads []adminRead, walSize func() int64) {
	const rounds, clients = 3, 32
	phases := []struct {
		name  string
		admin bool
		pause time.Duration
	}{{"quiet", false, 0}, {"busy", true, 0}, {"paced", true, 200 * time.Millisecond}}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	p99, rate, ratio := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	var busyAdmin []time.Duration
	var busyTime time.Duration
	var wal []string
	for range rounds {
		var quiet float64
		for _, ph := range phases {
			stop, done := make(chan struct{}), make(chan []time.Duration)
			if ph.admin {
				go func() { done <- adminLoop(b, base, reads, ph.pause, stop) }()
			}
			lat, elapsed := sendInbound(b, client, base+"/webhooks/twilio/sms", b.N*inboundPerOp, clients)
			close(stop)
			if ph.admin {
				al := <-done
				if ph.name == "busy" {
					busyAdmin, busyTime = append(busyAdmin, al...), busyTime+elapsed
				}
			}
			if walSize != nil {
				wal = append(wal, fmt.Sprintf("%s:%dMB", ph.name, walSize()>>20))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p := pct(lat, 0.99)
			p99[ph.name] = append(p99[ph.name], p)
			rate[ph.name] = append(rate[ph.name], float64(len(lat))/elapsed.Seconds())
			if ph.name == "quiet" {
				quiet = p
			} else if quiet > 0 {
				ratio[ph.name] = append(ratio[ph.name], p/quiet)
			}
		}
	}
	for _, ph := range phases {
		b.ReportMetric(median(p99[ph.name]), ph.name+"-p99-ms")
		b.ReportMetric(median(rate[ph.name]), ph.name+"-msgs/s")
		if ph.admin {
			b.ReportMetric(median(ratio[ph.name]), ph.name+"/quiet-p99")
		}
	}
	sort.Slice(busyAdmin, func(i, j int) bool { return busyAdmin[i] < busyAdmin[j] })
	b.ReportMetric(float64(len(busyAdmin))/busyTime.Seconds(), "busy-admin-reads/s")
	b.ReportMetric(pct(busyAdmin, 0.5), "busy-admin-p50-ms")
	b.ReportMetric(pct(busyAdmin, 0.99), "busy-admin-p99-ms")
	b.Logf("p99 ms by round: %v; ratios: %v", p99, ratio)
	if walSize != nil {
		b.Logf("WAL size after each phase: %v", wal)
	}
}

// adminLoop GETs the reads' pages in turn, pause between them, until
// stop, and returns their latencies.
func adminLoop(b *testing.B, base string, reads []adminRead, pause time.Duration, stop <-chan struct{}) []time.Duration {
	c := &http.Client{}
	defer c.CloseIdleConnections()
	var lat []time.Duration
	for i := 0; ; i++ {
		select {
		case <-stop:
			return lat
		default:
		}
		t0 := time.Now()
		if _, err := adminGet(c, base+reads[i%len(reads)].path); err != nil {
			b.Errorf("admin read %s during inbound load: %v", reads[i%len(reads)].name, err)
			return lat
		}
		lat = append(lat, time.Since(t0))
		if pause > 0 {
			// Pacing, not synchronisation: one read per pause, as a
			// dashboard polling would.
			select {
			case <-stop:
				return lat
			case <-time.After(pause):
			}
		}
	}
}

// sendInbound sends n signed webhooks from clients concurrent clients,
// each a new contact texting the after-hours number (closed at the
// server's clock: a reply and an inbox item for team front-desk), and
// returns their latencies and the time all took.
func sendInbound(b *testing.B, client *http.Client, full string, n, clients int) ([]time.Duration, time.Duration) {
	lat, elapsed, err := postWebhooks(client, full, n, clients, func(int) url.Values {
		seq := scaleInboundSeq.Add(1)
		return url.Values{"MessageSid": {fmt.Sprintf("SMscale%09d", seq)}, "From": {fmt.Sprintf("+1557%07d", seq)},
			"To": {"+15550200"}, "Body": {"hello"}}
	})
	if err != nil {
		b.Fatal(err)
	}
	return lat, elapsed
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
