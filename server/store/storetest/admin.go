package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// RunAdmin checks the number routing table (store.AdminTx) and the
// paginated admin listings (RunPages).
func RunAdmin(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Numbers", func(t *testing.T) { s := open(t); defer s.Close(); testNumbers(t, s) })
	t.Run("CallNumbers", func(t *testing.T) { s := open(t); defer s.Close(); testCallNumbers(t, s) })
	RunPages(t, open)
}

func atx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx, a store.AdminTx) error) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		a, ok := tx.(store.AdminTx)
		if !ok {
			t.Fatalf("%T does not implement store.AdminTx", tx)
		}
		return fn(ctx, tx, a)
	})
}

func testNumbers(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	atx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
		for _, p := range []store.Program{program("sales", "s1", t0, "+15550100"), program("support", "p1", t0, "+15550400")} {
			if err := tx.SaveProgram(ctx, &p); err != nil {
				return err
			}
			if err := tx.Activate(ctx, p.Flow, p.Version, p.Numbers, t0); err != nil {
				return err
			}
		}
		// A message to a number no flow serves.
		return tx.InsertMessage(ctx, &store.Message{SID: "SMx", From: "+15557654321", To: "+15550999", Outcome: "no-flow", Response: "{}", Received: t0})
	})
	atx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
		un, err := a.UnroutedNumbers(ctx)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(un, []string{"+15550999"}) {
			t.Errorf("unrouted = %q, want [+15550999]", un)
		}
		if ch, err := a.AssignNumber(ctx, "+15550999", "support"); err != nil || ch != "sms" {
			t.Errorf("assign to an SMS flow: channel %q, %v; want sms", ch, err)
		}
		if _, err := a.AssignNumber(ctx, "+15550100", "support"); err != nil { // moves it
			return err
		}
		if _, err := a.AssignNumber(ctx, "+15550101", "nosuchflow"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("assign to a flow with no active version: %v, want ErrNotFound", err)
		}
		return nil
	})
	atx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
		got, err := a.Numbers(ctx)
		if err != nil {
			return err
		}
		want := []store.NumberRoute{
			{Number: "+15550100", Flow: "support", Version: "p1"},
			{Number: "+15550400", Flow: "support", Version: "p1"},
			{Number: "+15550999", Flow: "support", Version: "p1"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("numbers = %+v, want %+v", got, want)
		}
		if un, _ := a.UnroutedNumbers(ctx); len(un) != 0 {
			t.Errorf("unrouted after assigning = %v", un)
		}
		if err := a.UnassignNumber(ctx, "+15550999", "voice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unassign calls of a number routed for texts only: %v, want ErrNotFound", err)
		}
		if err := a.UnassignNumber(ctx, "+15550999", "sms"); err != nil {
			return err
		}
		if err := a.UnassignNumber(ctx, "+15550999", "sms"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unassign twice: %v, want ErrNotFound", err)
		}
		return nil
	})
}

// testCallNumbers: a number routed to an SMS flow and to a call flow
// keeps both; AssignNumber routes calls when the flow is a call flow
// (and says so), UnassignNumber takes the channel's route only, and
// CallNumbersPage pages the call routes bytewise.
func testCallNumbers(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	atx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
		sales, line := program("sales", "s1", t0, "+15550100"), program("main-line", "m1", t0, "+15550100", "+15550101")
		line.Channel = "voice"
		for _, p := range []store.Program{sales, line} {
			if err := tx.SaveProgram(ctx, &p); err != nil {
				return err
			}
			if err := tx.Activate(ctx, p.Flow, p.Version, p.Numbers, t0); err != nil {
				return err
			}
		}
		if ch, err := a.AssignNumber(ctx, "+15550300", "main-line"); err != nil || ch != "voice" {
			t.Errorf("assign to a call flow: channel %q, %v; want voice", ch, err)
		}
		return nil
	})
	calls := func() []store.NumberRoute {
		var out []store.NumberRoute
		atx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
			var err error
			out, err = a.CallNumbersPage(ctx, "", 0)
			return err
		})
		return out
	}
	want := []store.NumberRoute{
		{Number: "+15550100", Flow: "main-line", Version: "m1"},
		{Number: "+15550101", Flow: "main-line", Version: "m1"},
		{Number: "+15550300", Flow: "main-line", Version: "m1"},
	}
	if got := calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("call routes = %+v, want %+v", got, want)
	}
	atx(t, s, func(ctx context.Context, tx store.Tx, a store.AdminTx) error {
		if got, err := a.CallNumbersPage(ctx, "+15550100", 1); err != nil || !reflect.DeepEqual(got, want[1:2]) {
			t.Errorf("CallNumbersPage(+15550100, 1) = %+v, %v; want %+v", got, err, want[1:2])
		}
		texts, err := a.Numbers(ctx)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(texts, []store.NumberRoute{{Number: "+15550100", Flow: "sales", Version: "s1"}}) {
			t.Errorf("SMS routes = %+v: the call flow's numbers are not routed for texts", texts)
		}
		if err := a.UnassignNumber(ctx, "+15550100", "voice"); err != nil {
			return err
		}
		if err := a.UnassignNumber(ctx, "+15550300", "sms"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unassign texts of a number routed for calls only: %v, want ErrNotFound", err)
		}
		texts, err = a.Numbers(ctx)
		if err != nil || len(texts) != 1 || texts[0].Flow != "sales" {
			t.Errorf("SMS routes after unassigning the calls: %+v, %v; want sales kept", texts, err)
		}
		return nil
	})
	if got := calls(); !reflect.DeepEqual(got, want[1:]) {
		t.Errorf("call routes after unassigning +15550100's = %+v, want %+v", got, want[1:])
	}
}
