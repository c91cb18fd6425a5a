package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// RunPages checks the paginated admin listings (NumbersPage,
// UnroutedNumbersPage, InboxPage), read in read-only transactions when
// the store has them (store.Reader).
func RunPages(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("NumbersPages", func(t *testing.T) { s := open(t); defer s.Close(); testNumbersPages(t, s) })
	t.Run("InboxPages", func(t *testing.T) { s := open(t); defer s.Close(); testInboxPages(t, s) })
	t.Run("ReadTxIsReadOnly", func(t *testing.T) { s := open(t); defer s.Close(); testReadTxIsReadOnly(t, s) })
}

// readTx runs fn in a read-only transaction (an ordinary one for a store
// without them).
func readTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx, a store.AdminTx) error) {
	t.Helper()
	ctx := t.Context()
	run := s.InTx
	if r, ok := s.(store.Reader); ok {
		run = r.InReadTx
	}
	if err := run(ctx, func(tx store.Tx) error { return fn(ctx, tx, tx.(store.AdminTx)) }); err != nil {
		t.Fatalf("read transaction: %v", err)
	}
}

func testNumbersPages(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var routed []store.NumberRoute
	var unrouted []string
	atx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
		var nums []string
		for i := range 23 {
			nums = append(nums, fmt.Sprintf("+1555010%02d", i))
		}
		p := program("sales", "s1", t0, nums...)
		if err := tx.SaveProgram(ctx, &p); err != nil {
			return err
		}
		if err := tx.Activate(ctx, p.Flow, p.Version, nums, t0); err != nil {
			return err
		}
		for _, n := range nums {
			routed = append(routed, store.NumberRoute{Number: n, Flow: "sales", Version: "s1"})
		}
		// 17 unrouted numbers, each texted several times, and no-flow
		// messages to a routed number (routed since), which are left out.
		for i := range 17 {
			n := fmt.Sprintf("+1555090%02d", i)
			unrouted = append(unrouted, n)
			for j := range 3 {
				m := store.Message{SID: fmt.Sprintf("SM%d-%d", i, j), From: "+15557654321", To: n, Outcome: "no-flow", Response: "{}", Received: t0}
				if err := tx.InsertMessage(ctx, &m); err != nil {
					return err
				}
			}
		}
		m := store.Message{SID: "SMrouted", From: "+15557654321", To: nums[0], Outcome: "no-flow", Response: "{}", Received: t0}
		return tx.InsertMessage(ctx, &m)
	})
	readTx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
		var got []store.NumberRoute
		after := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("NumbersPage: no end after %d pages", pages)
			}
			page, err := a.NumbersPage(ctx, after, 5)
			if err != nil {
				return err
			}
			if len(page) > 5 {
				t.Fatalf("NumbersPage(%q, 5) = %d numbers", after, len(page))
			}
			got = append(got, page...)
			if len(page) < 5 {
				break
			}
			after = page[len(page)-1].Number
		}
		if !reflect.DeepEqual(got, routed) {
			t.Errorf("routed numbers page by page = %v\nwant %v", got, routed)
		}
		var un []string
		after = ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("UnroutedNumbersPage: no end after %d pages", pages)
			}
			page, err := a.UnroutedNumbersPage(ctx, after, 4)
			if err != nil {
				return err
			}
			un = append(un, page...)
			if len(page) < 4 {
				break
			}
			after = page[len(page)-1]
		}
		if !reflect.DeepEqual(un, unrouted) {
			t.Errorf("unrouted numbers page by page = %v\nwant %v", un, unrouted)
		}
		all, err := a.UnroutedNumbers(ctx)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(all, unrouted) {
			t.Errorf("UnroutedNumbers = %v, want %v", all, unrouted)
		}
		return nil
	})
}

func testInboxPages(t *testing.T, s store.Store) {
	var open, every []int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 25 {
			it := store.InboxItem{TargetKind: "team", TargetName: "sales", MessageSID: fmt.Sprintf("SM%d", i), Contact: "+15557654321",
				Number: "+15550100", Body: fmt.Sprint(i), Created: T0}
			if err := tx.AddInboxItem(ctx, &it); err != nil {
				return err
			}
			every = append(every, it.ID)
			if i%3 == 0 {
				if err := tx.MarkInboxDone(ctx, it.ID, T0); err != nil {
					return err
				}
			} else {
				open = append(open, it.ID)
			}
			other := store.InboxItem{TargetKind: "team", TargetName: "support", MessageSID: "SMo", Created: T0}
			if err := tx.AddInboxItem(ctx, &other); err != nil {
				return err
			}
		}
		return nil
	})
	pages := func(ctx context.Context, a store.AdminTx, all bool) ([]int64, int) {
		var ids []int64
		var after int64
		n := 0
		for ; n < 20; n++ {
			items, next, err := a.InboxPage(ctx, "team", "sales", all, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) > 7 {
				t.Fatalf("InboxPage(after %d, 7) = %d items", after, len(items))
			}
			for _, it := range items {
				if it.TargetName != "sales" || (!all && it.Done) {
					t.Errorf("InboxPage(all %v) listed %+v", all, it)
				}
				ids = append(ids, it.ID)
			}
			if next == 0 {
				return ids, n + 1
			}
			if next != items[len(items)-1].ID {
				t.Fatalf("next cursor %d, want the page's last ID %d", next, items[len(items)-1].ID)
			}
			after = next
		}
		t.Fatalf("InboxPage: no end after %d pages", n)
		return nil, 0
	}
	readTx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
		ids, n := pages(ctx, a, false)
		if !reflect.DeepEqual(ids, open) || n != 3 { // 16 open items: 7, 7, 2
			t.Errorf("open items page by page = %v in %d pages, want %v in 3", ids, n, open)
		}
		ids, n = pages(ctx, a, true)
		if !reflect.DeepEqual(ids, every) || n != 4 { // 25 items: 7, 7, 7, 4
			t.Errorf("all items page by page = %v in %d pages, want %v in 4", ids, n, every)
		}
		// A page that ends exactly at the last item has no next.
		items, next, err := a.InboxPage(ctx, "team", "sales", true, every[len(every)-8], 7)
		if err != nil {
			return err
		}
		if len(items) != 7 || next != 0 {
			t.Errorf("the last 7 items: %d items, next %d; want 7 and 0", len(items), next)
		}
		return nil
	})
}

// testReadTxIsReadOnly: a read-only transaction sees what was committed
// and cannot write.
func testReadTxIsReadOnly(t *testing.T, s store.Store) {
	r, ok := s.(store.Reader)
	if !ok {
		t.Skipf("%T has no read-only transactions", s)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.(store.OutboxTx).SetSetting(ctx, "k", "v1") })
	ctx := t.Context()
	err := r.InReadTx(ctx, func(tx store.Tx) error {
		v, err := tx.(store.OutboxTx).Setting(ctx, "k")
		if err != nil || v != "v1" {
			t.Errorf("read transaction: setting %q, %v; want v1", v, err)
		}
		return tx.(store.OutboxTx).SetSetting(ctx, "k", "v2")
	})
	if err == nil {
		t.Error("a read-only transaction wrote")
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if v, err := tx.(store.OutboxTx).Setting(ctx, "k"); err != nil || v != "v1" {
			t.Errorf("after the refused write: %q, %v; want v1", v, err)
		}
		return nil
	})
}
