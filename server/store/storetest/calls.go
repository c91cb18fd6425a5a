package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// testCallRoutes: a call flow's numbers are routed for calls, beside an
// SMS flow serving the same numbers for texts; the route table lists
// both and its version moves; two call flows cannot share a number; a
// flow whose next version changes channel leaves the other table.
func testCallRoutes(t *testing.T, s store.Store) {
	ctx := context.Background()
	var before int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		rt, err := deployTx(t, tx).RouteTable(ctx)
		before = rt.Version
		return err
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, p := range []store.Program{
			{Flow: "sales", Version: "s1", Encoded: []byte{1}, Numbers: []string{"+1555100"}, Created: T0},
			{Flow: "main-line", Version: "m1", Encoded: []byte{2}, Numbers: []string{"+1555100", "+1555101"}, Created: T0, Channel: "voice", DeployedBy: "alice@laptop"},
			{Flow: "other-line", Version: "o1", Encoded: []byte{3}, Numbers: []string{"+1555101"}, Created: T0, Channel: "voice"},
		} {
			if err := tx.SaveProgram(ctx, &p); err != nil {
				return err
			}
		}
		if err := tx.Activate(ctx, "sales", "s1", []string{"+1555100"}, T0); err != nil {
			return err
		}
		return tx.Activate(ctx, "main-line", "m1", []string{"+1555100", "+1555101"}, T0)
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		rt, err := deployTx(t, tx).RouteTable(ctx)
		if err != nil {
			return err
		}
		if rt.Version <= before {
			t.Errorf("routes version %d after activating a call flow, was %d", rt.Version, before)
		}
		if len(rt.Numbers) != 1 || rt.Numbers[0] != (store.NumberRoute{Number: "+1555100", Flow: "sales", Version: "s1"}) {
			t.Errorf("texts' routes %+v, want +1555100 to sales", rt.Numbers)
		}
		want := []store.NumberRoute{{Number: "+1555100", Flow: "main-line", Version: "m1"}, {Number: "+1555101", Flow: "main-line", Version: "m1"}}
		if len(rt.Calls) != 2 || rt.Calls[0] != want[0] || rt.Calls[1] != want[1] {
			t.Errorf("calls' routes %+v, want %+v", rt.Calls, want)
		}
		p, err := tx.Program(ctx, "m1")
		if err != nil || p.Channel != "voice" || p.DeployedBy != "alice@laptop" {
			t.Errorf("Program(m1) channel %q, deployed by %q, %v; want voice, alice@laptop", p.Channel, p.DeployedBy, err)
		}
		if p, err := tx.Program(ctx, "s1"); err != nil || p.Channel != "" {
			t.Errorf("Program(s1) channel %q, %v; want \"\" (sms)", p.Channel, err)
		}
		return nil
	})
	err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.Activate(ctx, "other-line", "o1", []string{"+1555101"}, T0)
	})
	var taken *store.NumberTakenError
	if !errors.As(err, &taken) || taken.Number != "+1555101" || taken.Flow != "main-line" || taken.Channel != "voice" {
		t.Errorf("a second call flow on +1555101: %v, want NumberTakenError naming main-line", err)
	}
	// main-line's next version is an SMS flow: its call routes go.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SaveProgram(ctx, &store.Program{Flow: "main-line", Version: "m2", Encoded: []byte{4}, Numbers: []string{"+1555101"}, Created: T0}); err != nil {
			return err
		}
		return tx.Activate(ctx, "main-line", "m2", []string{"+1555101"}, T0)
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		rt, err := deployTx(t, tx).RouteTable(ctx)
		if err != nil {
			return err
		}
		if len(rt.Calls) != 0 || len(rt.Numbers) != 2 {
			t.Errorf("after main-line became an SMS flow: calls %+v, texts %+v", rt.Calls, rt.Numbers)
		}
		return nil
	})
	_ = ctx
}

// testCalls: store.CallsTx. A call is stored at step 1 once; each later
// save moves it from the step before, and a save from a step it is past
// is ErrConflict (two replicas answering one callback); its steps are
// kept once each, in order.
func testCalls(t *testing.T, s store.Store) {
	c := &store.Call{SID: "CA1", Contact: "+1555999", Number: "+1555100", Flow: "main-line", Version: "m1",
		State: []byte(`{"pc":3}`), Step: 1, Started: T0, Updated: T0}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ct := tx.(store.CallsTx)
		if _, err := ct.Call(ctx, "CA1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Call before any: %v, want ErrNotFound", err)
		}
		if err := ct.SaveCall(ctx, c); err != nil {
			return err
		}
		return ct.AddCallStep(ctx, &store.CallStep{SID: "CA1", Step: 1, At: T0, Event: "call", Outcome: "call", TwiML: "<Response/>", Trace: []byte(`{}`)})
	})
	if err := txErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.(store.CallsTx).SaveCall(ctx, c) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("the same call stored again: %v, want ErrConflict", err)
	}
	if err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.(store.CallsTx).AddCallStep(ctx, &store.CallStep{SID: "CA1", Step: 1, At: T0, Event: "call", TwiML: "<Response/>"})
	}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("step 1 stored again: %v, want ErrConflict", err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ct := tx.(store.CallsTx)
		for _, tc := range []struct {
			step int
			user string
			want bool
		}{{2, "bob", false}, {1, "carol", true}, {1, "dave", false}} {
			ok, err := ct.SetCallAnswered(ctx, "CA1", tc.step, tc.user)
			if err != nil || ok != tc.want {
				t.Errorf("SetCallAnswered(step %d, %s) = %v, %v; want %v", tc.step, tc.user, ok, err, tc.want)
			}
		}
		if got, err := ct.Call(ctx, "CA1"); err != nil || got.AnsweredBy != "carol" {
			t.Errorf("answered by %q, %v; want carol (the first report)", got.AnsweredBy, err)
		}
		for _, tc := range []struct {
			step int
			want bool
		}{{2, false}, {1, true}, {1, false}} {
			if ok, err := ct.MarkCallEnded(ctx, "CA1", tc.step, T0.Add(time.Second)); err != nil || ok != tc.want {
				t.Errorf("MarkCallEnded(step %d) = %v, %v; want %v", tc.step, ok, err, tc.want)
			}
		}
		if got, err := ct.Call(ctx, "CA1"); err != nil || !got.Ended.Equal(T0.Add(time.Second)) || got.State == nil {
			t.Errorf("after MarkCallEnded: %+v, %v; want ended, its state kept", got, err)
		}
		return nil
	})
	later := T0.Add(5 * time.Second)
	next := *c
	next.Step, next.State, next.Updated, next.Ended, next.AnsweredBy = 2, nil, later, later, "alice"
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ct := tx.(store.CallsTx)
		if err := ct.SaveCall(ctx, &next); err != nil {
			return err
		}
		return ct.AddCallStep(ctx, &store.CallStep{SID: "CA1", Step: 2, At: later, Event: "dial answered alice", Outcome: "call", TwiML: "<Response><Hangup/></Response>"})
	})
	stale := *c
	stale.Step = 2
	if err := txErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.(store.CallsTx).SaveCall(ctx, &stale) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("step 2 saved twice: %v, want ErrConflict", err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ct := tx.(store.CallsTx)
		got, err := ct.Call(ctx, "CA1")
		if err != nil {
			return err
		}
		if got.Step != 2 || got.State != nil || !got.Ended.Equal(later) || got.AnsweredBy != "alice" || !got.Started.Equal(T0) || got.Contact != "+1555999" {
			t.Errorf("Call = %+v", got)
		}
		st, err := ct.CallStep(ctx, "CA1", 2)
		if err != nil || st.TwiML != "<Response><Hangup/></Response>" || st.Event != "dial answered alice" || !st.At.Equal(later) || st.Trace != nil {
			t.Errorf("CallStep(2) = %+v, %v", st, err)
		}
		if _, err := ct.CallStep(ctx, "CA1", 3); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CallStep(3): %v, want ErrNotFound", err)
		}
		steps, err := ct.CallSteps(ctx, "CA1")
		if err != nil || len(steps) != 2 || steps[0].Step != 1 || string(steps[0].Trace) != `{}` || steps[1].Step != 2 {
			t.Errorf("CallSteps = %+v, %v", steps, err)
		}
		if none, err := ct.CallSteps(ctx, "CA2"); err != nil || none == nil || len(none) != 0 {
			t.Errorf("CallSteps of an unknown call = %#v, %v; want an empty list", none, err)
		}
		return nil
	})
	// Retention: a call last changed before the time goes, with its steps.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ct := tx.(store.CallsTx)
		if n, err := ct.PruneCalls(ctx, later, 10); err != nil || n != 0 {
			t.Errorf("PruneCalls before its last change = %d, %v; want 0", n, err)
		}
		if n, err := ct.PruneCalls(ctx, later.Add(time.Nanosecond*1000), 10); err != nil || n != 1 {
			t.Errorf("PruneCalls after its last change = %d, %v; want 1", n, err)
		}
		if _, err := ct.Call(ctx, "CA1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Call after pruning: %v, want ErrNotFound", err)
		}
		if steps, err := ct.CallSteps(ctx, "CA1"); err != nil || len(steps) != 0 {
			t.Errorf("CallSteps after pruning: %d, %v; want none", len(steps), err)
		}
		return nil
	})
}
