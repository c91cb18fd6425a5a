package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
)

// The background targets of issue 14, measured rather than timed: these
// tests count what the workers did and log the rate; they fail only on a
// wrong count (a timer lost or fired twice), never on a time. They are
// opt-in (FLOWC_TEST_SCALE=1) because they take tens of seconds:
//
//	FLOWC_TEST_SCALE=1 go test ./server -run 'Scale' -v
//
// FLOWC_TEST_SCALE_N overrides the sizes (timers: 200,000; SMS: 10,000).

func scaleSize(t *testing.T, def int) int {
	t.Helper()
	if os.Getenv("FLOWC_TEST_SCALE") == "" {
		t.Skip("set FLOWC_TEST_SCALE=1 to run the background throughput tests")
	}
	if v := os.Getenv("FLOWC_TEST_SCALE_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("FLOWC_TEST_SCALE_N=%q: want a positive count", v)
		}
		return n
	}
	return def
}

// cloneConversations gives n more contacts the conversation of contact
// (same number, flow, state and deadline), in transactions of 5,000, as
// if each had texted: a backlog of due timers without n webhooks.
func cloneConversations(t testing.TB, st store.Store, contact, number string, n int) {
	t.Helper()
	saveClones(t, st, conversationOf(t, st, contact, number), "+1777", n)
}

func conversationOf(t testing.TB, st store.Store, contact, number string) store.Conversation {
	t.Helper()
	ctx := context.Background()
	var c *store.Conversation
	if err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.Conversation(ctx, contact, number)
		return err
	}); err != nil {
		t.Fatalf("conversation of %s: %v", contact, err)
	}
	return *c
}

// saveClones saves proto as the conversation of n contacts prefix0000000….
func saveClones(t testing.TB, st store.Store, proto store.Conversation, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for from := 0; from < n; from += 5000 {
		if err := st.InTx(ctx, func(tx store.Tx) error {
			for i := from; i < min(n, from+5000); i++ {
				c := proto
				c.Contact = fmt.Sprintf("%s%07d", prefix, i)
				if err := tx.SaveConversation(ctx, &c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScaleDueTimers: 200,000 menu timeouts due at once all fire, each
// once (its reply enqueued once), through the background timer loop on
// each store. Target (issue 14): within 60 s on the embedded store on a
// 2-core machine.
func TestScaleDueTimers(t *testing.T) {
	n := scaleSize(t, 200_000)
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) { dueTimers(t, n, sc.open(t)) })
	}
}

func dueTimers(t *testing.T, n int, st store.Store) {
	h := startWith(t, setup{token: authToken, store: st}, "testdata/timeout.flow")
	const number = "+15550910"
	if got := h.text("+15550000001", number, "hi"); got != twiml("Reply 1 for a callback") {
		t.Fatalf("first message: %s", got)
	}
	cloneConversations(t, h.store, "+15550000001", number, n-1)
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))

	timers, _ := runWorkers(t, h)
	begin, cpu, db := time.Now(), cpuTime(), databaseCPU()
	tick(timers, h.clock.Now()) // one round: it drains every due timer
	elapsed, cpu, db := time.Since(begin), cpuTime()-cpu, databaseCPU()-db

	var due []store.Conversation
	var pending int
	if err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		if due, err = tx.DueConversations(context.Background(), h.clock.Now(), 10); err != nil {
			return err
		}
		b, err := tx.(store.OutboxTx).OutboxBacklog(context.Background())
		for _, k := range b {
			pending += k.Pending
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(due) != 0 || pending != n {
		t.Fatalf("after one round: %d conversations still due, %d replies enqueued; want 0 and %d (each timer once)", len(due), pending, n)
	}
	// The CPU time of this process (the workers and, on SQLite, the
	// database; PostgreSQL's own is not in it) per timer: steadier than
	// the rate on a shared machine.
	// With a PostgreSQL server on this machine, its CPU time per timer
	// too (databaseCPU; on SQLite 0, the database is in this process).
	t.Logf("%d due timers fired in %s: %.0f timers/s, %.0f µs of CPU per timer, %.0f µs of PostgreSQL's (GOMAXPROCS %d, %d workers)", n, elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds(), float64(cpu.Microseconds())/float64(n), float64(db.Microseconds())/float64(n), runtimeProcs(), server.TimerWorkers)
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// instantProvider is Twilio's Messages API answering every request at
// once; it closes all once it has accepted want messages.
type instantProvider struct {
	n    atomic.Int64
	want int64
	all  chan struct{}
}

func newInstantProvider(t testing.TB, want int) (*instantProvider, *server.Outbound) {
	return newSlowProvider(t, want, 0)
}

// newSlowProvider answers each request after latency.
func newSlowProvider(t testing.TB, want int, latency time.Duration) (*instantProvider, *server.Outbound) {
	p := &instantProvider{want: int64(want), all: make(chan struct{})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if latency > 0 {
			time.Sleep(latency) // the provider's own time, not synchronisation
		}
		n := p.n.Add(1)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SMout%d","status":"queued"}`, n)
		if n == p.want {
			close(p.all)
		}
	}))
	t.Cleanup(hs.Close)
	return p, &server.Outbound{TwilioAPIURL: hs.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "secret"}
}

// enqueueMany puts n SMS in the outbox, to n contacts, in transactions
// of 5,000.
func enqueueMany(t testing.TB, h *harness, n int, kind, to string) {
	t.Helper()
	ctx := context.Background()
	for from := 0; from < n; from += 5000 {
		if err := h.store.InTx(ctx, func(tx store.Tx) error {
			for i := from; i < min(n, from+5000); i++ {
				o := &store.OutboxItem{Kind: kind, To: to, From: "+15550910", Body: "hello", Created: h.clock.Now(), NotBefore: h.clock.Now()}
				if kind == "sms" {
					o.To = fmt.Sprintf("+1777%07d", i)
					o.Contact = o.To
				}
				if err := tx.Enqueue(ctx, o); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// pending counts the outbox items not yet sent or dropped.
func (h *harness) pending() int {
	h.t.Helper()
	var n int
	if err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		b, err := tx.(store.OutboxTx).OutboxBacklog(context.Background())
		for _, k := range b {
			n += k.Pending
		}
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// TestScalePendingSMS: 10,000 pending SMS, a provider answering at once
// (target, issue 14: at least 500 SMS/s) or after 20 ms (where a fixed
// perDestination of 4 would allow 200/s), and at once again behind 300
// webhooks to a host that never answers, queued first (the oldest items):
// the delivery loop sends each SMS once, as fast as the provider and the
// database allow, the hung host holding only its own PerDestination
// requests. The last case's rate is logged against the first's.
func TestScalePendingSMS(t *testing.T) {
	n := scaleSize(t, 10_000)
	var unhung float64
	for _, c := range []struct {
		name    string
		latency time.Duration
		hung    int
	}{{"0s", 0, 0}, {"20ms", 20 * time.Millisecond, 0}, {"0s+hung-destination", 0, 300}} {
		t.Run(c.name, func(t *testing.T) {
			rate := pendingSMS(t, n, c.latency, c.hung)
			switch {
			case c.name == "0s":
				unhung = rate
			case c.hung > 0 && unhung > 0:
				t.Logf("with a hung destination: %.0f%% of the rate without it", 100*rate/unhung)
			}
		})
	}
}

// pendingSMS sends n pending SMS (behind hung webhooks to a host that
// never answers, when hung > 0) and returns the SMS recorded sent per
// second.
func pendingSMS(t *testing.T, n int, latency time.Duration, hung int) float64 {
	prov, ob := newSlowProvider(t, n, latency)
	h := startOutbound(t, ob, "testdata/timeout.flow")
	var hh *hungHost
	if hung > 0 {
		hh = newHungHost(t)
		enqueueMany(t, h, hung, "webhook", hh.url)
	}
	enqueueMany(t, h, n, "sms", "")
	_, deliveries := runWorkers(t, h)
	begin := time.Now()
	tick(deliveries, h.clock.Now()) // freed workers refill at once: one tick is enough
	select {
	case <-prov.all:
	case <-time.After(10 * time.Minute):
		t.Fatalf("the provider got %d of %d SMS in 10 minutes", prov.n.Load(), n)
	}
	sent := time.Since(begin)
	// The hung host's items stay pending (leased or waiting) until the
	// test ends and releases it.
	for limit := time.Now().Add(time.Minute); h.pending() > hung; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(limit) {
			t.Fatalf("%d SMS still pending a minute after the provider got them all", h.pending()-hung)
		}
	}
	recorded := time.Since(begin)
	if got := prov.n.Load(); got != int64(n) {
		t.Fatalf("the provider got %d requests for %d SMS (each must be sent once)", got, n)
	}
	if hh != nil {
		for range server.PerDestination {
			waitFor(t, hh.entered, "the hung host's first requests")
		}
		if extra := len(hh.entered); extra != 0 || hh.served.Load() != 0 {
			t.Fatalf("the hung host got %d requests beyond its %d at once (%d answered)", extra, server.PerDestination, hh.served.Load())
		}
	}
	rate := float64(n) / recorded.Seconds()
	t.Logf("%d SMS: all at the provider in %s (%.0f/s), all recorded sent in %s (%.0f/s)", n, sent.Round(time.Millisecond),
		float64(n)/sent.Seconds(), recorded.Round(time.Millisecond), rate)
	return rate
}
