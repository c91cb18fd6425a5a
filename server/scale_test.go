package server_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
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
	ctx := context.Background()
	var proto *store.Conversation
	if err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		proto, err = tx.Conversation(ctx, contact, number)
		return err
	}); err != nil {
		t.Fatalf("the prototype conversation: %v", err)
	}
	for from := 0; from < n; from += 5000 {
		if err := st.InTx(ctx, func(tx store.Tx) error {
			for i := from; i < min(n, from+5000); i++ {
				c := *proto
				c.Contact = fmt.Sprintf("+1777%07d", i)
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
// the embedded store. Target (issue 14): within 60 s on a 2-core machine.
func TestScaleDueTimers(t *testing.T) {
	n := scaleSize(t, 200_000)
	h := start(t, authToken, "testdata/timeout.flow")
	const number = "+15550910"
	if got := h.text("+15550000001", number, "hi"); got != twiml("Reply 1 for a callback") {
		t.Fatalf("first message: %s", got)
	}
	cloneConversations(t, h.store, "+15550000001", number, n-1)
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))

	timers, _ := runWorkers(t, h)
	begin := time.Now()
	tick(timers, h.clock.Now()) // one round: it drains every due timer
	elapsed := time.Since(begin)

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
	t.Logf("%d due timers fired in %s: %.0f timers/s (GOMAXPROCS %d, %d workers)", n, elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds(), runtimeProcs(), server.TimerWorkers)
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
