package server

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// addQueueData gives s's store a support queue with one conversation
// waiting since 90 seconds ago and counters whose service level is 3/4
// (TestMetricsPassPromtool scrapes them).
func addQueueData(t *testing.T, s *Server) {
	t.Helper()
	now := s.cfg.Now()
	err := s.store.InTx(context.Background(), func(tx store.Tx) error {
		qt := tx.(store.QueueTx)
		if err := qt.SaveQueueTicket(context.Background(), &store.QueueTicket{Contact: "+15550001111", Number: "+15550100", Started: now.Add(-2 * time.Minute),
			Team: "support", Status: "offered", Offered: []string{"bob"}, Since: now.Add(-90 * time.Second), Updated: now, Flow: "hi"}); err != nil {
			return err
		}
		return qt.AddQueueStats(context.Background(), "support", map[string]int{inbound.CountEntered: 4, inbound.CountOffered: 5,
			inbound.CountAccepted: 3, inbound.CountWithin: 3, inbound.CountAbandoned: 1, inbound.CountAbandonedAfter: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// queueStatsOf: the service level is within over accepted plus
// abandoned after it, undefined (nil) while both are 0 (abandoned
// before the service level counts against nobody); the longest wait is
// the oldest waiting conversation's, 0 when none waits, never negative.
func TestQueueStatsOf(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		counts  map[string]int64
		waiting store.QueueWaiting
		sl      float64 // -1: null
		longest float64
	}{
		{"nothing yet", nil, store.QueueWaiting{}, -1, 0},
		{"only abandoned before the service level", map[string]int64{"abandoned": 2}, store.QueueWaiting{}, -1, 0},
		{"all within", map[string]int64{"accepted": 2, "within_sl": 2}, store.QueueWaiting{}, 100, 0},
		{"3 within, 1 after, 1 abandoned after", map[string]int64{"accepted": 4, "within_sl": 3, "abandoned": 2, "abandoned_after_sl": 1}, store.QueueWaiting{}, 60, 0},
		{"only abandoned after", map[string]int64{"abandoned": 1, "abandoned_after_sl": 1}, store.QueueWaiting{}, 0, 0},
		{"one waiting", nil, store.QueueWaiting{Waiting: 1, Oldest: now.Add(-75 * time.Second)}, -1, 75},
		{"a clock behind the store's", nil, store.QueueWaiting{Waiting: 1, Oldest: now.Add(time.Second)}, -1, 0},
	} {
		q := queueStatsOf("support", tc.counts, tc.waiting, now)
		switch {
		case tc.sl < 0 && q.ServiceLevelPercent != nil:
			t.Errorf("%s: service level %v, want null", tc.name, *q.ServiceLevelPercent)
		case tc.sl >= 0 && (q.ServiceLevelPercent == nil || math.Abs(*q.ServiceLevelPercent-tc.sl) > 1e-9):
			t.Errorf("%s: service level %v, want %v", tc.name, q.ServiceLevelPercent, tc.sl)
		}
		if q.LongestWaitSeconds != tc.longest || q.Waiting != tc.waiting.Waiting {
			t.Errorf("%s: %d waiting, longest %vs; want %d, %vs", tc.name, q.Waiting, q.LongestWaitSeconds, tc.waiting.Waiting, tc.longest)
		}
	}
}
