package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

// hungHost is a webhook endpoint whose requests all wait for release.
type hungHost struct {
	url     string
	entered chan struct{} // one value per request that arrived
	release chan struct{}
	served  atomic.Int64
}

func newHungHost(t *testing.T) *hungHost {
	h := &hungHost{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h.entered <- struct{}{}
		<-h.release
		h.served.Add(1)
	}))
	t.Cleanup(func() {
		select {
		case <-h.release:
		default:
			close(h.release)
		}
		hs.Close()
	})
	h.url = hs.URL + "/hook"
	return h
}

// TestHungDestinationDrainsEveryOther: with 2,000 SMS and 300 webhooks to
// a second host pending behind 300 webhooks to a host that never answers,
// every SMS and every webhook of the second host is sent while the hung
// host holds its first perDestination requests (its limit does not grow:
// none succeeded); once released, its own items drain too. Each item is
// sent once.
func TestHungDestinationDrainsEveryOther(t *testing.T) {
	const sms, hungN, fastN = 2000, 300, 300
	hung := newHungHost(t)
	fast, fastHost := newCountingHost(t)
	prov, ob := newInstantProvider(t, sms)
	h := startOutbound(t, ob, "testdata/timeout.flow")
	enqueueMany(t, h, hungN, "webhook", hung.url) // first, so the oldest items are the hung host's
	enqueueMany(t, h, sms, "sms", "")
	enqueueMany(t, h, fastN, "webhook", fastHost)

	_, deliveries := runWorkers(t, h)
	tick(deliveries, h.clock.Now())
	waitFor(t, prov.all, "every SMS to reach the provider")
	for range fastN {
		waitFor(t, fast, "every webhook of the second host")
	}
	for range server.PerDestination {
		waitFor(t, hung.entered, "the hung host's first requests")
	}
	// Everything but the hung host's items is recorded sent; they are
	// leased or pending, their requests still held.
	var waiting, leased int
	for _, it := range h.outbox("") {
		switch {
		case it.To == hung.url && it.Status == "pending" && it.Attempts == 1:
			leased++
		case it.To == hung.url && it.Status == "pending" && it.Attempts == 0:
			waiting++
		case it.To != hung.url && it.Status == "sent" && it.Attempts == 1:
		case it.To != hung.url && it.Status == "pending":
			// Sent (the provider or host counted it), its record not
			// yet committed: checked once the hung host is released.
		default:
			t.Errorf("unexpected item %+v", it)
		}
	}
	if leased != server.PerDestination || waiting != hungN-server.PerDestination || hung.served.Load() != 0 {
		t.Fatalf("hung host: %d items in flight, %d waiting, %d answered; want %d, %d, 0",
			leased, waiting, hung.served.Load(), server.PerDestination, hungN-server.PerDestination)
	}

	close(hung.release)
	for range hungN - server.PerDestination {
		waitFor(t, hung.entered, "the hung host's other items, once released")
	}
	waitUntil(t, "every item recorded sent", func() bool { return h.pending() == 0 })
	if got := prov.n.Load(); got != sms {
		t.Fatalf("the provider got %d requests for %d SMS", got, sms)
	}
	if extra := len(fast) + len(hung.entered); extra != 0 {
		t.Fatalf("%d webhook requests beyond one per item", extra)
	}
	for _, it := range h.outbox("") {
		if it.Status != "sent" || it.Attempts != 1 {
			t.Fatalf("item %d to %s: %s after %d attempts, want sent at the first", it.ID, it.To, it.Status, it.Attempts)
		}
	}
}

// newCountingHost is a webhook endpoint answering at once, telling got
// about each request.
func newCountingHost(t *testing.T) (got chan struct{}, url string) {
	got = make(chan struct{}, 10000)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- struct{}{}
	}))
	t.Cleanup(hs.Close)
	return got, hs.URL + "/hook"
}

// waitUntil waits for cond, checked every few milliseconds; the bound
// only ends a failing run.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for limit := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(limit) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
