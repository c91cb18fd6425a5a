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
		if err := a.AssignNumber(ctx, "+15550999", "support"); err != nil {
			return err
		}
		if err := a.AssignNumber(ctx, "+15550100", "support"); err != nil { // moves it
			return err
		}
		if err := a.AssignNumber(ctx, "+15550101", "nosuchflow"); !errors.Is(err, store.ErrNotFound) {
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
		if err := a.UnassignNumber(ctx, "+15550999"); err != nil {
			return err
		}
		if err := a.UnassignNumber(ctx, "+15550999"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unassign twice: %v, want ErrNotFound", err)
		}
		return nil
	})
}
