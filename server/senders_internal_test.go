package server

import (
	"slices"
	"testing"
	"time"
)

// TestSendersLimitAdapts: a destination starts at perDestination, grows
// by one per success while it was at its limit, up to maxPerDestination,
// and halves on a failure worth retrying; a claim never exceeds the room
// of a destination in flight, nor perDestination when none is.
func TestSendersLimitAdapts(t *testing.T) {
	d := newSenders()
	now := time.Now()
	if claim, skip := d.room(now); claim != perDestination || len(skip) != 0 {
		t.Fatalf("idle: room %d %v, want %d and no skip", claim, skip, perDestination)
	}
	for range perDestination {
		d.start("sms")
	}
	if claim, skip := d.room(now); !slices.Equal(skip, []string{"sms"}) || claim != outboxWorkers-perDestination {
		t.Fatalf("sms full: room %d %v, want %d and sms skipped", claim, skip, outboxWorkers-perDestination)
	}
	// Success at the limit: one more slot, so a claim of one.
	d.end("sms", "sent")
	if got := d.limitOf("sms"); got != perDestination+1 {
		t.Fatalf("limit after a success at the limit: %d, want %d", got, perDestination+1)
	}
	if claim, skip := d.room(now); claim != 2 || len(skip) != 0 {
		t.Fatalf("room %d %v, want 2 (limit %d, %d in flight)", claim, skip, perDestination+1, perDestination-1)
	}
	// A success below the limit does not grow it.
	d.end("sms", "sent")
	if got := d.limitOf("sms"); got != perDestination+1 {
		t.Fatalf("limit after a success below the limit: %d, want %d", got, perDestination+1)
	}
	// Keep it at its limit and succeeding: it grows to the cap, no further.
	for range 2 * maxPerDestination {
		for d.inFlight["sms"] < d.limitOf("sms") {
			d.start("sms")
		}
		d.end("sms", "sent")
	}
	if got := d.limitOf("sms"); got != maxPerDestination {
		t.Fatalf("limit after many successes: %d, want the cap %d", got, maxPerDestination)
	}
	d.end("sms", "retry")
	if got := d.limitOf("sms"); got != maxPerDestination/2 {
		t.Fatalf("limit after a failure: %d, want %d", got, maxPerDestination/2)
	}
	for range 10 {
		d.end("sms", "retry")
	}
	if got := d.limitOf("sms"); got != perDestination {
		t.Fatalf("limit after failures: %d, want the floor %d", got, perDestination)
	}
	if d.total != d.inFlight["sms"] || d.total < 0 {
		t.Fatalf("total %d, in flight %v", d.total, d.inFlight)
	}
	// A paused destination is skipped until its time.
	d.pause("webhook:a", now.Add(time.Minute))
	if _, skip := d.room(now); !slices.Contains(skip, "webhook:a") {
		t.Fatalf("paused destination not skipped: %v", skip)
	}
	if _, skip := d.room(now.Add(2 * time.Minute)); slices.Contains(skip, "webhook:a") {
		t.Fatalf("destination still skipped after its pause: %v", skip)
	}
}
