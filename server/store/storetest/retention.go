package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// testPruneMessages: PruneMessages deletes the messages received before
// its time, oldest first, at most limit at a time, with their
// conversation starts; newer messages and those with no received time
// stay.
func testPruneMessages(t *testing.T, s store.Store) {
	rtx := func(tx store.Tx) store.RetentionTx {
		r, ok := tx.(store.RetentionTx)
		if !ok {
			t.Fatalf("%T does not implement store.RetentionTx", tx)
		}
		return r
	}
	day := 24 * time.Hour
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 10 { // SM0 is 10 days old, SM9 1 day
			m := store.Message{SID: fmt.Sprintf("SM%d", i), From: "+15557654321", To: "+15550100", Body: "hi",
				Outcome: "routed", Response: "{}", Trace: []byte(`[{"step":1}]`), Received: T0.Add(-time.Duration(10-i) * day)}
			if err := tx.InsertMessage(ctx, &m); err != nil {
				return err
			}
			if err := tx.(store.DeployTx).RecordStart(ctx, m.SID, "sales", m.Received); err != nil {
				return err
			}
		}
		return tx.InsertMessage(ctx, &store.Message{SID: "SMnotime", Outcome: "routed", Response: "{}"})
	})
	// Older than 5 days: SM0..SM4. Two at a time, oldest first.
	cut := T0.Add(-5*day - time.Hour)
	var deleted []int
	for range 5 {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			n, err := rtx(tx).PruneMessages(ctx, cut, 2)
			deleted = append(deleted, n)
			return err
		})
	}
	if fmt.Sprint(deleted) != "[2 2 1 0 0]" {
		t.Errorf("deleted per batch of 2: %v, want [2 2 1 0 0]", deleted)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 10 {
			sid := fmt.Sprintf("SM%d", i)
			_, err := tx.MessageBySID(ctx, sid)
			if gone := errors.Is(err, store.ErrNotFound); gone != (i < 5) {
				t.Errorf("%s (%d days old): gone %v, err %v", sid, 10-i, gone, err)
			}
		}
		if _, err := tx.MessageBySID(ctx, "SMnotime"); err != nil {
			t.Errorf("a message with no received time: %v", err)
		}
		starts, err := tx.(store.DeployTx).ConversationStarts(ctx, "sales", time.Time{}, 100)
		if err != nil {
			return err
		}
		if len(starts) != 5 || starts[0].SID != "SM5" {
			t.Errorf("conversation starts after pruning: %d, first %+v; want 5 from SM5", len(starts), starts)
		}
		return nil
	})
	if err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := rtx(tx).PruneMessages(ctx, cut, 0)
		return err
	}); err == nil {
		t.Error("PruneMessages with limit 0: no error")
	}
}
