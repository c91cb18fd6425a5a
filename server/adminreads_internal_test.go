package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAdminGate: at most n admin reads hold a slot at once; a read's slot
// stays taken after it ends for as long as the read took (its rest), then
// frees; a read that cannot get a slot before its context ends fails with
// adminBusyError; a free slot is taken even by an ended context.
func TestAdminGate(t *testing.T) {
	g := newAdminGate(2)
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return clock }
	var rests []time.Duration
	var ends []func()
	g.after = func(d time.Duration, f func()) { rests, ends = append(rests, d), append(ends, f) }
	ended, cancel := context.WithCancel(context.Background())
	cancel()

	r1, err := g.enter(ended) // free: taken although ctx has ended
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(10 * time.Millisecond)
	r2, err := g.enter(ended)
	if err != nil {
		t.Fatal(err)
	}
	var busy *adminBusyError
	if _, err := g.enter(ended); !errors.As(err, &busy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("a third read with two slots taken: %v, want adminBusyError", err)
	}
	clock = clock.Add(30 * time.Millisecond)
	r1() // 40 ms
	r2() // 30 ms
	if len(rests) != 2 || rests[0] != 40*time.Millisecond || rests[1] != 30*time.Millisecond {
		t.Fatalf("rests %v, want [40ms 30ms]: each read rests as long as it took", rests)
	}
	if _, err := g.enter(ended); err == nil {
		t.Fatal("a read got a slot while both rested")
	}
	ends[1]()
	r3, err := g.enter(ended)
	if err != nil {
		t.Fatalf("a slot whose rest ended: %v", err)
	}
	r3() // took no time: freed at once, no rest
	if len(rests) != 2 {
		t.Fatalf("a read that took no time rested: %v", rests)
	}
	if _, err := g.enter(ended); err != nil {
		t.Fatalf("the slot of a read that took no time: %v", err)
	}
	if newAdminGate(0).slots == nil || cap(newAdminGate(0).slots) != DefaultAdminReads {
		t.Fatal("0 slots: want DefaultAdminReads")
	}
}

// TestAdminReadsValidated: Config.AdminReads is 0 (the default) or from
// 1 to MaxAdminReads.
func TestAdminReadsValidated(t *testing.T) {
	for _, n := range []int{0, 1, MaxAdminReads} {
		if err := (&Config{AdminReads: n}).Validate(); err != nil {
			t.Errorf("%d: %v", n, err)
		}
	}
	for _, n := range []int{-1, MaxAdminReads + 1} {
		if err := (&Config{AdminReads: n}).Validate(); err == nil || !strings.Contains(err.Error(), "FLOWC_ADMIN_READS") {
			t.Errorf("%d: %v, want an error naming FLOWC_ADMIN_READS", n, err)
		}
	}
}
