package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// stepStates reads StepState both ways a server may: in a transaction
// and, when the store is a store.StepReader, as one statement of its own
// (ReadStep); both must agree.
func stepStates(t *testing.T, s store.Store, contact, number, sid string) *store.StepState {
	t.Helper()
	var inTxState *store.StepState
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		inTxState, err = tx.StepState(ctx, contact, number, sid)
		return err
	})
	if r, ok := s.(store.StepReader); ok {
		got, err := r.ReadStep(t.Context(), contact, number, sid)
		if err != nil {
			t.Fatalf("ReadStep: %v", err)
		}
		a, b := stepView(got), stepView(inTxState)
		checkEqual(t, "ReadStep's conversation (vs StepState in a transaction)", a.Conv, b.Conv)
		a.Conv, b.Conv = store.Conversation{}, store.Conversation{}
		checkEqual(t, "ReadStep (vs StepState in a transaction)", a, b)
	}
	checkStepReadsFolded(t, s, contact, number, sid, inTxState)
	return inTxState
}

// checkStepReadsFolded: a store.StepReaderWith's one statement reads
// what StepState, the history and the edits read apart, whatever it is
// asked for (the history, the edits, both, neither).
func checkStepReadsFolded(t *testing.T, s store.Store, contact, number, sid string, want *store.StepState) {
	t.Helper()
	r, ok := s.(store.StepReaderWith)
	if !ok {
		return
	}
	var history *store.History
	var edits *store.ContactEdits
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		if history, err = tx.(store.HistoryTx).ContactHistory(ctx, contact, 3); err != nil {
			return err
		}
		edits, err = tx.(store.EditsTx).ContactEdits(ctx, contact, number)
		return err
	})
	for _, with := range []store.StepReads{{}, {History: true, HistoryLimit: 3}, {Edits: true}, {History: true, HistoryLimit: 3, Edits: true}} {
		got, err := r.ReadStepWith(t.Context(), contact, number, sid, with)
		if err != nil {
			t.Fatalf("ReadStepWith(%+v): %v", with, err)
		}
		a, b := stepView(got), stepView(want)
		checkEqual(t, fmt.Sprintf("ReadStepWith(%+v)'s step state (vs StepState)", with), a, b)
		switch {
		case !with.History && got.History != nil:
			t.Errorf("ReadStepWith(%+v) read the history", with)
		case with.History && got.History == nil:
			t.Errorf("ReadStepWith(%+v) read no history", with)
		case with.History:
			checkEqual(t, fmt.Sprintf("ReadStepWith(%+v)'s history (vs ContactHistory)", with), *got.History, *history)
		}
		switch {
		case !with.Edits && got.Edits != nil:
			t.Errorf("ReadStepWith(%+v) read the edits", with)
		case with.Edits && got.Edits == nil:
			t.Errorf("ReadStepWith(%+v) read no edits", with)
		case with.Edits:
			checkEqual(t, fmt.Sprintf("ReadStepWith(%+v)'s edits (vs ContactEdits)", with), *got.Edits, *edits)
		}
	}
}

// stepView is a StepState with its pointers followed, for checkEqual.
type stepViewT struct {
	HasConv                                                     bool
	Conv                                                        store.Conversation
	Revision                                                    int64
	OptedOut                                                    bool
	Tags                                                        []string
	HasAnswered                                                 bool
	AnsweredFrom, AnsweredTo, AnsweredVersion, AnsweredResponse string
	RoutesVersion                                               int64
}

func stepView(st *store.StepState) stepViewT {
	v := stepViewT{Revision: st.Revision, OptedOut: st.OptedOut, Tags: st.Tags, RoutesVersion: st.RoutesVersion}
	if st.Conversation != nil {
		v.HasConv, v.Conv = true, *st.Conversation
	}
	if m := st.Answered; m != nil {
		v.HasAnswered = true
		v.AnsweredFrom, v.AnsweredTo, v.AnsweredVersion, v.AnsweredResponse = m.From, m.To, m.Version, m.Response
	}
	return v
}

// testStepState: StepState is what the separate reads return
// (Conversation, ConversationRevision, OptedOut, ContactTags,
// MessageBySID), for a conversation with nothing stored and with
// everything stored, and other conversations' rows do not leak in.
func testStepState(t *testing.T, s store.Store) {
	const contact, number, other = "+1555001", "+1555900", "+1555002"
	empty := stepStates(t, s, contact, number, "SM1")
	if empty.Conversation != nil || empty.Revision != 0 || empty.OptedOut || empty.Tags != nil || empty.Answered != nil {
		t.Errorf("StepState of nothing stored = %+v, want all empty", stepView(empty))
	}
	if empty.RoutesVersion <= 0 {
		t.Errorf("RoutesVersion = %d, want > 0", empty.RoutesVersion)
	}
	conv := store.Conversation{Contact: contact, Number: number, Flow: "sales", Version: "v1", State: []byte(`{"pc":3}`),
		Deadline: T0.Add(time.Hour), Updated: T0, Started: T0.Add(-time.Minute)}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SaveConversation(ctx, &conv); err != nil {
			return err
		}
		if err := tx.AdvanceRevision(ctx, contact, number, 0); err != nil {
			return err
		}
		if err := tx.AdvanceRevision(ctx, contact, number, 1); err != nil {
			return err
		}
		if err := tx.SetOptOut(ctx, contact, number, true, T0); err != nil {
			return err
		}
		for _, tag := range []string{"vip", "Zed", "a b"} {
			if err := tx.AddContactTag(ctx, contact, tag); err != nil {
				return err
			}
		}
		// Rows of other conversations and contacts, which must not be read.
		if err := tx.SaveConversation(ctx, &store.Conversation{Contact: other, Number: number, Flow: "x", Version: "v9", Updated: T0}); err != nil {
			return err
		}
		if err := tx.AdvanceRevision(ctx, contact, "+1555901", 0); err != nil {
			return err
		}
		if err := tx.SetOptOut(ctx, other, number, true, T0); err != nil {
			return err
		}
		if err := tx.AddContactTag(ctx, other, "other"); err != nil {
			return err
		}
		return tx.InsertMessage(ctx, &store.Message{SID: "SM1", From: contact, To: number, Body: "hi", Flow: "sales", Version: "v1",
			Outcome: "routed", Response: `{"outcome":"routed"}`, Received: T0})
	})
	got := stepStates(t, s, contact, number, "SM1")
	want := stepViewT{HasConv: true, Conv: conv, Revision: 2, OptedOut: true, Tags: []string{"Zed", "a b", "vip"},
		HasAnswered: true, AnsweredFrom: contact, AnsweredTo: number, AnsweredVersion: "v1", AnsweredResponse: `{"outcome":"routed"}`,
		RoutesVersion: empty.RoutesVersion}
	gotView := stepView(got)
	checkEqual(t, "StepState's conversation", gotView.Conv, conv)
	gotView.Conv, want.Conv = store.Conversation{}, store.Conversation{}
	checkEqual(t, "StepState", gotView, want)
	// Another SID, or none: no answer; the rest is the same.
	for _, sid := range []string{"SM2", ""} {
		if got := stepStates(t, s, contact, number, sid); got.Answered != nil || got.Conversation == nil || got.Revision != 2 {
			t.Errorf("StepState(sid %q) = %+v, want no answer, the conversation at revision 2", sid, stepView(got))
		}
	}
	// A START keeps the row, with opted_out false.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.SetOptOut(ctx, contact, number, false, T0) })
	if got := stepStates(t, s, contact, number, ""); got.OptedOut {
		t.Error("StepState after START: still opted out")
	}
	// The history (more interactions than the limit of 3, each part of
	// store.History, times to the microsecond) and the edits (a mark of
	// this number and one of another, untags, fields), with another
	// contact's, which must not be read.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ht, et := tx.(store.HistoryTx), tx.(store.EditsTx)
		at := T0.Add(time.Microsecond)
		for _, in := range []store.Interaction{
			{Contact: contact, Number: number, At: at, Kind: "sms", Direction: "outbound", User: "alice", SID: "SMo1", CauseSID: "SM1"},
			{Contact: contact, Number: number, At: at.Add(time.Minute), Kind: "call", Direction: "inbound", User: "bob", SID: "CA1"},
			{Contact: contact, Number: number, At: at.Add(2 * time.Minute), Kind: "sms", Direction: "outbound", Campaign: "spring", ReplyUser: "carol", ReplyEmail: "c@example.com"},
			{Contact: contact, Number: "+1555901", At: at.Add(3 * time.Minute), Kind: "sms", Direction: "inbound", SID: "SMi2"},
			{Contact: contact, Number: number, At: at.Add(3 * time.Minute), Kind: "sms", Direction: "inbound", SID: "SMi3"},
			{Contact: contact, Number: number, At: at.Add(4 * time.Minute), Kind: "sms", Direction: "outbound"},
			{Contact: other, Number: number, At: at.Add(5 * time.Minute), Kind: "sms", Direction: "outbound", User: "dave"},
		} {
			if err := ht.RecordInteraction(ctx, &in); err != nil {
				return err
			}
		}
		for _, f := range []func() error{
			func() error { return et.UntagContact(ctx, contact, "vip") },
			func() error { return et.UntagContact(ctx, contact, "from-directory") },
			func() error { return et.SetContactField(ctx, contact, "plan", "pro") },
			func() error { return et.SetContactField(ctx, contact, "note", "a \"quoted\" ünïcode\nline") },
			func() error { return et.MarkReply(ctx, contact, number, "reply:a", at) },
			func() error { return et.MarkReply(ctx, contact, "+1555901", "reply:b", at) },
			func() error { return et.SetContactField(ctx, other, "plan", "free") },
			func() error { return et.UntagContact(ctx, other, "x") },
		} {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	})
	stepStates(t, s, contact, number, "SM1")
}

// testRoutesVersion: every change to the route table (Activate, a
// rollback's Activate, AssignNumber, UnassignNumber, SetDraft,
// DeleteDraft) moves RoutesVersion forward in its transaction, and
// RouteTable reads the table as of the version it reports.
func testRoutesVersion(t *testing.T, s store.Store) {
	version := func() int64 {
		var v int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			v, err = tx.RoutesVersion(ctx)
			return err
		})
		return v
	}
	table := func() *store.RouteTable {
		var rt *store.RouteTable
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			rt, err = deployTx(t, tx).RouteTable(ctx)
			return err
		})
		return rt
	}
	v0 := version()
	if rt := table(); rt.Version != v0 || len(rt.Numbers) != 0 || len(rt.Drafts) != 0 {
		t.Fatalf("RouteTable of an empty store = %+v, want version %d and nothing routed", rt, v0)
	}
	last := v0
	moved := func(what string) {
		t.Helper()
		v := version()
		if v <= last {
			t.Errorf("after %s RoutesVersion is %d, want above %d", what, v, last)
		}
		last = v
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, p := range []store.Program{program("sales", "s1", T0, "+1555100"), program("sales", "s2", T0.Add(time.Hour), "+1555100"),
			program("support", "p1", T0, "+1555200")} {
			if err := tx.SaveProgram(ctx, &p); err != nil {
				return err
			}
		}
		return nil
	})
	if v := version(); v != last {
		t.Errorf("SaveProgram moved RoutesVersion from %d to %d: it routes nothing", last, v)
	}
	steps := []struct {
		what string
		fn   func(ctx context.Context, tx store.Tx) error
	}{
		{"Activate", func(ctx context.Context, tx store.Tx) error {
			return tx.Activate(ctx, "sales", "s2", []string{"+1555100"}, T0)
		}},
		{"a rollback's Activate", func(ctx context.Context, tx store.Tx) error {
			return tx.Activate(ctx, "sales", "s1", []string{"+1555100"}, T0)
		}},
		{"Activate of another flow", func(ctx context.Context, tx store.Tx) error {
			return tx.Activate(ctx, "support", "p1", []string{"+1555200"}, T0)
		}},
		{"AssignNumber", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.(store.AdminTx).AssignNumber(ctx, "+1555300", "support")
			return err
		}},
		{"UnassignNumber", func(ctx context.Context, tx store.Tx) error {
			return tx.(store.AdminTx).UnassignNumber(ctx, "+1555300", "sms")
		}},
		{"SetDraft", func(ctx context.Context, tx store.Tx) error {
			return deployTx(t, tx).SetDraft(ctx, &store.Draft{Flow: "sales", Version: "s2", Contacts: []string{"+1555001"}, Numbers: []string{"+1555100"}, Created: T0})
		}},
		{"DeleteDraft", func(ctx context.Context, tx store.Tx) error { return deployTx(t, tx).DeleteDraft(ctx, "sales") }},
	}
	for _, st := range steps {
		inTx(t, s, st.fn)
		moved(st.what)
		if st.what == "SetDraft" {
			rt := table()
			if rt.Version != last || len(rt.Drafts) != 1 || rt.Drafts[0].Version != "s2" || !sameStrings(rt.Drafts[0].Contacts, []string{"+1555001"}) {
				t.Errorf("RouteTable after SetDraft = %+v, want version %d with the sales draft s2 for +1555001", rt, last)
			}
		}
	}
	rt := table()
	want := []store.NumberRoute{{Number: "+1555100", Flow: "sales", Version: "s1"}, {Number: "+1555200", Flow: "support", Version: "p1"}}
	if rt.Version != last || !equalRoutes(rt.Numbers, want) || len(rt.Drafts) != 0 {
		t.Errorf("RouteTable = %+v, want version %d, routes %v, no drafts", rt, last, want)
	}
	// A failed change moves nothing that is visible: it rolls back.
	err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Activate(ctx, "sales", "s2", []string{"+1555100"}, T0); err != nil {
			return err
		}
		return errors.New("test: roll back")
	})
	if err == nil {
		t.Fatal("the rolled-back transaction committed")
	}
	if v := version(); v != last {
		t.Errorf("a rolled-back Activate left RoutesVersion at %d, want %d", v, last)
	}
}

func equalRoutes(a, b []store.NumberRoute) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testAdvanceRevisionRouted: the revision's compare-and-swap with the
// route table's version as a further condition: both hold, it advances;
// the revision moved, ErrConflict and nothing advanced; only the version
// moved, it advances and says so.
func testAdvanceRevisionRouted(t *testing.T, s store.Store) {
	const contact, number = "+1555001", "+1555900"
	var routes int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		routes, err = tx.RoutesVersion(ctx)
		return err
	})
	advance := func(from, routes int64) (bool, error) {
		var moved bool
		err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			moved, err = tx.AdvanceRevisionRouted(ctx, contact, number, from, routes)
			return err
		})
		return moved, err
	}
	for from := int64(0); from < 2; from++ { // the INSERT, then the UPDATE
		if moved, err := advance(from, routes); err != nil || moved {
			t.Fatalf("from %d at the current routes: moved %v, %v", from, moved, err)
		}
		if got := revision(t, s, contact, number); got != from+1 {
			t.Fatalf("revision %d, want %d", got, from+1)
		}
		if _, err := advance(from, routes); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("from %d again: %v, want ErrConflict", from, err)
		}
		if got := revision(t, s, contact, number); got != from+1 {
			t.Fatalf("after the conflict: revision %d, want %d", got, from+1)
		}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SaveProgram(ctx, &store.Program{Flow: "sales", Version: "s1", Encoded: []byte("x"), Created: T0}); err != nil {
			return err
		}
		return tx.Activate(ctx, "sales", "s1", []string{number}, T0)
	})
	if moved, err := advance(2, routes); err != nil || !moved {
		t.Fatalf("after a deploy: moved %v, %v; want moved and no error", moved, err)
	}
	if got := revision(t, s, contact, number); got != 3 {
		t.Fatalf("after a deploy: revision %d, want 3 (advanced all the same)", got)
	}
	if _, err := advance(2, routes); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("an old revision after a deploy: %v, want ErrConflict", err)
	}
	// A first step (from 0) of another conversation after the deploy.
	var moved bool
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		moved, err = tx.AdvanceRevisionRouted(ctx, "+1555002", number, 0, routes)
		return err
	})
	if !moved || revision(t, s, "+1555002", number) != 1 {
		t.Fatalf("a first step after a deploy: moved %v, revision %d; want moved, 1", moved, revision(t, s, "+1555002", number))
	}
}
