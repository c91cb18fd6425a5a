package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// testQueueWaiting: store.QueueStatsReader counts, per team, the
// tickets waiting or offered (not the open or transferring ones) and
// gives the oldest one's since; a team with none waiting is absent.
func testQueueWaiting(t *testing.T, s store.Store) {
	const num = "+15550100"
	qs, ok := s.(store.QueueStatsReader)
	if !ok {
		t.Fatalf("store %T is not a store.QueueStatsReader", s)
	}
	ctx := context.Background()
	got, err := qs.QueueWaiting(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("QueueWaiting with no tickets = %v, %v; want none", got, err)
	}
	tickets := []store.QueueTicket{
		{Contact: "+15550000001", Number: num, Started: T0, Team: "support", Status: "offered", Offered: []string{"bob"}, Since: T0.Add(2 * time.Minute), Updated: T0, Flow: "f"},
		{Contact: "+15550000002", Number: num, Started: T0, Team: "support", Status: "waiting", Since: T0.Add(time.Minute), Updated: T0, Flow: "f"},
		{Contact: "+15550000003", Number: num, Started: T0, Team: "support", Status: "open", Assignee: "bob", Since: T0, Updated: T0, Flow: "f"},
		{Contact: "+15550000004", Number: num, Started: T0, Team: "billing", Status: "transferring", Offered: []string{"carol"}, Since: T0, Updated: T0, Flow: "f"},
		{Contact: "+15550000005", Number: num, Started: T0, Team: "sales", Status: "waiting", Since: T0.Add(5 * time.Minute), Updated: T0, Flow: "f"},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range tickets {
			if err := tx.(store.QueueTx).SaveQueueTicket(ctx, &tickets[i]); err != nil {
				return err
			}
		}
		return nil
	})
	got, err = qs.QueueWaiting(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.QueueWaiting{
		"support": {Waiting: 2, Oldest: T0.Add(time.Minute)},
		"sales":   {Waiting: 1, Oldest: T0.Add(5 * time.Minute)},
	}
	if len(got) != len(want) {
		t.Fatalf("QueueWaiting = %v, want %v", got, want)
	}
	for team, w := range want {
		if g, ok := got[team]; !ok || g.Waiting != w.Waiting || !sameTime(g.Oldest, w.Oldest) {
			t.Errorf("QueueWaiting[%s] = %+v, want %+v", team, g, w)
		}
	}
}
