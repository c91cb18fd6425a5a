package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// RunHistory runs the suite of store.HistoryTx (interactions, lists,
// outbound idempotency keys) and the outbox's DeferOutbox.
func RunHistory(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Interactions", testInteractions},
		{"InteractionSIDs", testInteractionSIDs},
		{"PruneInteractions", testPruneInteractions},
		{"Lists", testLists},
		{"OutboundRequests", testOutboundRequests},
		{"DeferOutbox", testDeferOutbox},
		{"ReservePace", testReservePace},
		{"DirectoryVersion", testDirectoryVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

func htx(t *testing.T, tx store.Tx) store.HistoryTx {
	t.Helper()
	h, ok := tx.(store.HistoryTx)
	if !ok {
		t.Fatalf("%T does not implement store.HistoryTx", tx)
	}
	return h
}

const contactA, contactB, number1, number2 = "+15557654321", "+15550001111", "+15550100", "+15550101"

// history reads the contact's history in a transaction and, where the
// store has one, outside (store.HistoryReader), and checks they agree.
func history(t *testing.T, s store.Store, contact string, limit int) *store.History {
	t.Helper()
	var h *store.History
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		h, err = htx(t, tx).ContactHistory(ctx, contact, limit)
		return err
	})
	if r, ok := s.(store.HistoryReader); ok {
		h2, err := r.ReadHistory(t.Context(), contact, limit)
		if err != nil {
			t.Fatalf("ReadHistory: %v", err)
		}
		if describeHistory(h2) != describeHistory(h) {
			t.Errorf("ReadHistory:\n%s\nContactHistory:\n%s", describeHistory(h2), describeHistory(h))
		}
	}
	return h
}

func describeInteraction(in *store.Interaction) string {
	if in == nil {
		return "none"
	}
	return fmt.Sprintf("%s %s %s->%s user=%q campaign=%q reply=%q/%q sid=%q cause=%q outbox=%d at=%s",
		in.Kind, in.Direction, in.Number, in.Contact, in.User, in.Campaign, in.ReplyUser, in.ReplyEmail, in.SID, in.CauseSID, in.OutboxID,
		in.At.UTC().Format(time.RFC3339Nano))
}

func describeHistory(h *store.History) string {
	s := ""
	for i := range h.Recent {
		s += describeInteraction(&h.Recent[i]) + "\n"
	}
	return s + "texted: " + describeInteraction(h.LastTexted) + "\ncalled: " + describeInteraction(h.LastCalled) +
		"\ncampaign: " + describeInteraction(h.Campaign)
}

// testInteractions: ContactHistory is the contact's newest interactions,
// newest first (a tie in time by insertion), at most limit, with the
// newest outbound SMS with a user, call with a user and campaign send
// even when they are older than those; other contacts' are not in it.
func testInteractions(t *testing.T, s store.Store) {
	if h := history(t, s, contactA, 50); len(h.Recent) != 0 || h.LastTexted != nil || h.LastCalled != nil || h.Campaign != nil {
		t.Fatalf("empty store: %s", describeHistory(h))
	}
	at := func(min int) time.Time { return T0.Add(time.Duration(min) * time.Minute) }
	rec := []store.Interaction{
		{Contact: contactA, Number: number1, At: at(0), Kind: "sms", Direction: "outbound", Campaign: "spring", ReplyUser: "bob", ReplyEmail: "sales@example.com", OutboxID: 7},
		{Contact: contactA, Number: number1, At: at(1), Kind: "call", Direction: "outbound", User: "carol", SID: "CA1"},
		{Contact: contactA, Number: number1, At: at(2), Kind: "sms", Direction: "outbound", User: "alice"},
		{Contact: contactB, Number: number1, At: at(3), Kind: "sms", Direction: "outbound", User: "zed"},
		{Contact: contactA, Number: number1, At: at(4), Kind: "sms", Direction: "inbound", SID: "SM1", CauseSID: "SM1"},
		{Contact: contactA, Number: number1, At: at(4), Kind: "sms", Direction: "outbound", CauseSID: "SM1"}, // the flow's reply, same time
		{Contact: contactA, Number: number1, At: at(5), Kind: "sms", Direction: "inbound", SID: "SM2", CauseSID: "SM2"},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range rec {
			if err := htx(t, tx).RecordInteraction(ctx, &rec[i]); err != nil {
				return err
			}
			if rec[i].ID == 0 {
				t.Errorf("interaction %d: no ID set", i)
			}
		}
		return nil
	})
	h := history(t, s, contactA, 50)
	want := []int{6, 5, 4, 2, 1, 0}
	if len(h.Recent) != len(want) {
		t.Fatalf("history:\n%s\nwant %d interactions", describeHistory(h), len(want))
	}
	for i, w := range want {
		if got, exp := describeInteraction(&h.Recent[i]), describeInteraction(&rec[w]); got != exp {
			t.Errorf("Recent[%d] = %s, want %s", i, got, exp)
		}
		if h.Recent[i].ID != rec[w].ID {
			t.Errorf("Recent[%d].ID = %d, want %d", i, h.Recent[i].ID, rec[w].ID)
		}
	}
	if got := describeInteraction(h.LastTexted); got != describeInteraction(&rec[2]) {
		t.Errorf("LastTexted = %s, want alice's", got)
	}
	if got := describeInteraction(h.LastCalled); got != describeInteraction(&rec[1]) {
		t.Errorf("LastCalled = %s, want carol's", got)
	}
	if got := describeInteraction(h.Campaign); got != describeInteraction(&rec[0]) {
		t.Errorf("Campaign = %s, want spring", got)
	}
	// A limit of 2: the two newest, and the older lookups still found.
	h = history(t, s, contactA, 2)
	if len(h.Recent) != 2 || h.Recent[0].SID != "SM2" || h.LastTexted == nil || h.LastTexted.User != "alice" ||
		h.LastCalled == nil || h.Campaign == nil || h.Campaign.Campaign != "spring" {
		t.Errorf("limit 2:\n%s", describeHistory(h))
	}
	if h := history(t, s, contactB, 50); len(h.Recent) != 1 || h.LastTexted == nil || h.LastTexted.User != "zed" || h.Campaign != nil {
		t.Errorf("contact B:\n%s", describeHistory(h))
	}
}

// testInteractionSIDs: an SID is unique per kind (ErrConflict), found by
// InteractionBySID; "" is no SID and never conflicts.
func testInteractionSIDs(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, in := range []store.Interaction{
			{Contact: contactA, Number: number1, At: T0, Kind: "call", Direction: "outbound", User: "carol", SID: "X1"},
			{Contact: contactA, Number: number1, At: T0, Kind: "sms", Direction: "inbound", SID: "X1"}, // another kind
			{Contact: contactA, Number: number1, At: T0, Kind: "sms", Direction: "outbound"},
			{Contact: contactA, Number: number1, At: T0, Kind: "sms", Direction: "outbound"},
		} {
			if err := htx(t, tx).RecordInteraction(ctx, &in); err != nil {
				return err
			}
		}
		return nil
	})
	err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return htx(t, tx).RecordInteraction(ctx, &store.Interaction{Contact: contactB, Number: number1, At: T0, Kind: "call", Direction: "inbound", SID: "X1"})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("a call SID recorded twice: %v, want ErrConflict", err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		in, err := htx(t, tx).InteractionBySID(ctx, "call", "X1")
		if err != nil {
			return err
		}
		if in.User != "carol" || in.Contact != contactA {
			t.Errorf("InteractionBySID = %s", describeInteraction(in))
		}
		if _, err := htx(t, tx).InteractionBySID(ctx, "call", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("InteractionBySID(\"\"): %v, want ErrNotFound", err)
		}
		return nil
	})
}

// testPruneInteractions: the oldest go first, at most limit at a time,
// with the idempotency keys older than the cut.
func testPruneInteractions(t *testing.T, s store.Store) {
	day := 24 * time.Hour
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 5 {
			at := T0.Add(-time.Duration(5-i) * day)
			if err := htx(t, tx).RecordInteraction(ctx, &store.Interaction{Contact: contactA, Number: number1, At: at, Kind: "sms", Direction: "inbound"}); err != nil {
				return err
			}
			if err := htx(t, tx).SaveOutboundRequest(ctx, &store.OutboundRequest{Key: fmt.Sprint("k", i), BodyHash: "h", Response: "{}", Created: at}); err != nil {
				return err
			}
		}
		return nil
	})
	cut := T0.Add(-2*day - time.Hour) // 5, 4 and 3 days old go
	var deleted []int
	for range 3 {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			n, err := htx(t, tx).PruneInteractions(ctx, cut, 2)
			deleted = append(deleted, n)
			return err
		})
	}
	if fmt.Sprint(deleted) != "[2 1 0]" {
		t.Errorf("deleted per batch of 2: %v, want [2 1 0]", deleted)
	}
	if h := history(t, s, contactA, 50); len(h.Recent) != 2 {
		t.Errorf("left: %s, want the 2 newest", describeHistory(h))
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 5 {
			_, err := htx(t, tx).OutboundRequest(ctx, fmt.Sprint("k", i))
			if gone := errors.Is(err, store.ErrNotFound); gone != (i < 3) {
				t.Errorf("key k%d (%d days old): gone %v (%v)", i, 5-i, gone, err)
			}
		}
		return nil
	})
}

// testLists: entries are added and removed one at a time, each change
// moves the lists' version (read by StepState too), and ListEntries is
// sorted bytewise.
func testLists(t *testing.T, s store.Store) {
	version := func() int64 {
		var v int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			st, err := tx.StepState(ctx, contactA, number1, "")
			v = st.ListsVersion
			return err
		})
		return v
	}
	v0 := version()
	var added []bool
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, e := range []string{"+1555b", "+1555a", "Zed", "+1555b"} {
			a, err := htx(t, tx).PutListEntry(ctx, "blocked", e, T0)
			if err != nil {
				return err
			}
			added = append(added, a)
		}
		_, err := htx(t, tx).PutListEntry(ctx, "vip", "+1555a", T0)
		return err
	})
	if fmt.Sprint(added) != "[true true true false]" {
		t.Errorf("added: %v", added)
	}
	v1 := version()
	if v1 <= v0 {
		t.Errorf("lists version %d after adding, %d before", v1, v0)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		h := htx(t, tx)
		entries, v, err := h.ListEntries(ctx, "blocked")
		if err != nil {
			return err
		}
		if fmt.Sprint(entries) != "[+1555a +1555b Zed]" || v != v1 {
			t.Errorf("ListEntries = %v at %d, want [+1555a +1555b Zed] at %d", entries, v, v1)
		}
		if e, _, err := h.ListEntries(ctx, "nothing"); err != nil || len(e) != 0 {
			t.Errorf("an unknown list: %v, %v", e, err)
		}
		lists, err := h.Lists(ctx)
		if err != nil {
			return err
		}
		if fmt.Sprint(lists) != "[{blocked 3} {vip 1}]" {
			t.Errorf("Lists = %v", lists)
		}
		for _, c := range []struct {
			list, entry string
			in          bool
		}{{"blocked", "+1555a", true}, {"vip", "+1555b", false}, {"nothing", "x", false}} {
			if in, err := h.InList(ctx, c.list, c.entry); err != nil || in != c.in {
				t.Errorf("InList(%s, %s) = %v, %v", c.list, c.entry, in, err)
			}
		}
		return h.DeleteListEntry(ctx, "blocked", "+1555a")
	})
	if v2 := version(); v2 <= v1 {
		t.Errorf("lists version %d after a removal, %d before", v2, v1)
	}
	err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return htx(t, tx).DeleteListEntry(ctx, "blocked", "+1555a")
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing an absent entry: %v, want ErrNotFound", err)
	}
}

// testOutboundRequests: a key is stored once.
func testOutboundRequests(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if _, err := htx(t, tx).OutboundRequest(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown key: %v", err)
		}
		return htx(t, tx).SaveOutboundRequest(ctx, &store.OutboundRequest{Key: "k", BodyHash: "h1", Response: `{"a":1}`, Created: T0})
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		r, err := htx(t, tx).OutboundRequest(ctx, "k")
		if err != nil {
			return err
		}
		if r.BodyHash != "h1" || r.Response != `{"a":1}` || !sameTime(r.Created, T0) {
			t.Errorf("OutboundRequest = %+v", r)
		}
		return nil
	})
	err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return htx(t, tx).SaveOutboundRequest(ctx, &store.OutboundRequest{Key: "k", BodyHash: "h2", Response: "{}", Created: T0})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("a key saved twice: %v, want ErrConflict", err)
	}
}

// testDeferOutbox: a deferred item is not claimed before its time, and
// the claim's attempt is not counted.
func testDeferOutbox(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.Enqueue(ctx, &store.OutboxItem{Kind: "sms", To: contactA, From: number1, Body: "hi", Created: T0, NotBefore: T0})
	})
	claim := func(at time.Time) []store.OutboxItem {
		var items []store.OutboxItem
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			items, err = tx.(store.OutboxTx).ClaimOutbox(ctx, store.OutboxClaim{Now: at, Lease: time.Minute})
			return err
		})
		return items
	}
	items := claim(T0)
	if len(items) != 1 {
		t.Fatalf("claimed %d items", len(items))
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.(store.OutboxTx).DeferOutbox(ctx, items[0].ID, T0.Add(5*time.Second))
	})
	if got := claim(T0.Add(4 * time.Second)); len(got) != 0 {
		t.Errorf("claimed before its time: %v", got)
	}
	got := claim(T0.Add(5 * time.Second))
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Errorf("at its time: %+v, want the item at its first attempt", got)
	}
	if len(got) == 1 && !got[0].PaceSlot.Equal(T0.Add(5*time.Second)) {
		t.Errorf("claimed at its slot with PaceSlot %v, want %v", got[0].PaceSlot, T0.Add(5*time.Second))
	}
}

// testReservePace: a number's slots are one pace apart in the order
// they are taken, from now after an idle spell, and each number has
// its own.
func testReservePace(t *testing.T, s store.Store) {
	reserve := func(number string, now time.Time) time.Time {
		var slot time.Time
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			slot, err = tx.(store.OutboxTx).ReservePace(ctx, number, now, time.Second)
			return err
		})
		return slot
	}
	for i, c := range []struct {
		number   string
		now, out time.Time
	}{
		{number1, T0, T0},                  // the first: now
		{number1, T0, T0.Add(time.Second)}, // then one pace on
		{number1, T0.Add(500 * time.Millisecond), T0.Add(2 * time.Second)}, // in order, whatever the clock
		{number2, T0, T0}, // another number's own slots
		{number1, T0.Add(time.Hour), T0.Add(time.Hour)}, // after an idle spell: now again
		{number1, T0.Add(time.Hour), T0.Add(time.Hour + time.Second)},
	} {
		if got := reserve(c.number, c.now); !got.Equal(c.out) {
			t.Errorf("reservation %d (%s at %v): slot %v, want %v", i, c.number, c.now, got, c.out)
		}
	}
}

// testDirectoryVersion: saving the directory setting moves the step
// state's DirectoryVersion on (so other replicas load it again), and
// another setting does not.
func testDirectoryVersion(t *testing.T, s store.Store) {
	version := func() int64 {
		var v int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			st, err := tx.StepState(ctx, contactA, number1, "SM-none")
			if err == nil {
				v = st.DirectoryVersion
			}
			return err
		})
		return v
	}
	set := func(key, value string) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.(store.OutboxTx).SetSetting(ctx, key, value)
		})
	}
	v0 := version()
	if v0 == 0 {
		t.Fatal("DirectoryVersion is 0: the store keeps no directory version")
	}
	set("directory", `{"users":[]}`)
	v1 := version()
	set("directory", `{"users":[],"teams":[]}`)
	v2 := version()
	set("something-else", "x")
	if v3 := version(); !(v0 < v1 && v1 < v2 && v3 == v2) {
		t.Errorf("DirectoryVersion %d, then %d and %d after two saves, %d after another setting: want it to move with the directory only", v0, v1, v2, v3)
	}
}
