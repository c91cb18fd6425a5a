package server_test

import (
	"context"
	"testing"
	"time"
)

const timeoutReply = "No answer? A person will text you."

// countBodies counts the outbox items with body.
func (h *harness) countBodies(body string) int {
	n := 0
	for _, it := range h.outbox("") {
		if it.Body == body {
			n++
		}
	}
	return n
}

// TestOneRoundFiresEveryDueTimerOnce: a round of the timer loop keeps
// reading due conversations until none is left (it used to fire one batch
// of 100 per tick), and fires each once: one reply per conversation, and
// nothing left to fire.
func TestOneRoundFiresEveryDueTimerOnce(t *testing.T) {
	const n = 1200
	h := start(t, authToken, "testdata/timeout.flow")
	if got := h.text("+15550000001", "+15550910", "hi"); got != twiml("Reply 1 for a callback") {
		t.Fatalf("first message: %s", got)
	}
	cloneConversations(t, h.store, "+15550000001", "+15550910", n-1)
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))
	fired, err := h.srv.FireTimers(context.Background())
	if err != nil || fired != n {
		t.Fatalf("FireTimers = %d, %v; want all %d due timers in one round", fired, err, n)
	}
	if got := h.countBodies(timeoutReply); got != n {
		t.Fatalf("%d timeout replies enqueued, want %d (one per conversation)", got, n)
	}
	if again, err := h.srv.FireTimers(context.Background()); err != nil || again != 0 {
		t.Fatalf("FireTimers again = %d, %v; want 0 (each fired once)", again, err)
	}
}

// TestHeldTimerAppletStallsNoOtherTimer: timers fire concurrently, so a
// timeout branch whose applet hangs holds one worker while every other
// due conversation fires; the held one still fires once when released.
func TestHeldTimerAppletStallsNoOtherTimer(t *testing.T) {
	const n = 300
	applets := newBlockingApplets()
	h := startWith(t, setup{token: authToken, applets: applets.run}, "testdata/slowtimer.flow", "testdata/timeout.flow")
	if got := h.text("+15550006666", "+15550980", "hello"); got != twiml("next") {
		t.Fatalf("slow timer's conversation: %s", got)
	}
	if got := h.text("+15550000001", "+15550910", "hi"); got != twiml("Reply 1 for a callback") {
		t.Fatalf("first message: %s", got)
	}
	cloneConversations(t, h.store, "+15550000001", "+15550910", n-1)
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))

	type result struct {
		n   int
		err error
	}
	round := make(chan result, 1)
	go func() { n, err := h.srv.FireTimers(context.Background()); round <- result{n, err} }()
	waitFor(t, applets.entered, "the held timer's applet to start")
	// A condition, not a duration: the bound only ends a failing run.
	for limit := time.Now().Add(20 * time.Second); h.countBodies(timeoutReply) < n; {
		if time.Now().After(limit) {
			close(applets.release)
			t.Fatalf("with one timer's applet held, %d of %d other timers fired in 20 s", h.countBodies(timeoutReply), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if h.countBodies("timer slow") != 0 {
		t.Fatal("the held timer replied before its applet was released")
	}
	close(applets.release)
	if r := waitFor(t, round, "the round to end"); r.err != nil || r.n != n+1 {
		t.Fatalf("FireTimers = %d, %v; want %d", r.n, r.err, n+1)
	}
	if got := h.countBodies("timer slow"); got != 1 {
		t.Fatalf("the held timer replied %d times, want once", got)
	}
}

// TestTimersAlreadyFiredDoNotHideOthers: conversations still due at a
// deadline whose timer already fired (restored here by hand; the step
// finds its run stored and does nothing) are read past, more of them than
// one read returns, so the due timers behind them in deadline order fire
// in the same round, and the round ends.
func TestTimersAlreadyFiredDoNotHideOthers(t *testing.T) {
	const stuck, behind = 600, 100
	h := start(t, authToken, "testdata/timeout.flow")
	if got := h.text("+15550000001", "+15550910", "hi"); got != twiml("Reply 1 for a callback") {
		t.Fatalf("first message: %s", got)
	}
	proto := conversationOf(t, h.store, "+15550000001", "+15550910")
	saveClones(t, h.store, proto, "+1666", stuck)
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))
	if n, err := h.srv.FireTimers(context.Background()); err != nil || n != stuck+1 {
		t.Fatalf("FireTimers = %d, %v; want %d", n, err, stuck+1)
	}
	saveClones(t, h.store, proto, "+1666", stuck) // back, due at the deadline that fired
	later := proto
	later.Deadline = proto.Deadline.Add(30 * time.Second) // still due, after the stuck ones
	saveClones(t, h.store, later, "+1777", behind)
	if n, err := h.srv.FireTimers(context.Background()); err != nil || n != behind {
		t.Fatalf("FireTimers = %d, %v; want the %d timers behind the stuck ones", n, err, behind)
	}
	if got := h.countBodies(timeoutReply); got != stuck+1+behind {
		t.Fatalf("%d timeout replies, want %d (the stuck ones not again)", got, stuck+1+behind)
	}
}
