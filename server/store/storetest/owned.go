package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// testOwnedNumbers: store.OwnedNumbersTx. A replacement adds and updates
// numbers and removes the source's others, saying which; pages list
// them bytewise after a cursor; an empty replacement removes them all.
func testOwnedNumbers(t *testing.T, s store.Store) {
	own := func(t *testing.T, fn func(ctx context.Context, o store.OwnedNumbersTx) error) {
		t.Helper()
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			o, ok := tx.(store.OwnedNumbersTx)
			if !ok {
				t.Fatalf("%T does not implement store.OwnedNumbersTx", tx)
			}
			return fn(ctx, o)
		})
	}
	replace := func(t *testing.T, at time.Time, nums ...store.OwnedNumber) []string {
		t.Helper()
		var removed []string
		own(t, func(ctx context.Context, o store.OwnedNumbersTx) error {
			var err error
			removed, err = o.ReplaceOwnedNumbers(ctx, "twilio", nums, at)
			return err
		})
		return removed
	}
	page := func(t *testing.T, after string, limit int) []store.OwnedNumber {
		t.Helper()
		var out []store.OwnedNumber
		own(t, func(ctx context.Context, o store.OwnedNumbersTx) error {
			var err error
			out, err = o.OwnedNumbersPage(ctx, after, limit)
			return err
		})
		return out
	}
	numbers := func(ns []store.OwnedNumber) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.Number)
		}
		return out
	}

	if got := page(t, "", 0); len(got) != 0 {
		t.Fatalf("an empty store owns %v", got)
	}
	t1 := T0.Add(time.Hour)
	removed := replace(t, T0,
		store.OwnedNumber{Number: "+15550200", Name: "Support", SMS: true, Voice: true},
		store.OwnedNumber{Number: "+15550100", Name: "Main line", SMS: true, Voice: true},
		store.OwnedNumber{Number: "+15550300", Name: "Fax", Voice: true},
		store.OwnedNumber{Number: "+442071838750", SMS: true})
	if len(removed) != 0 {
		t.Errorf("first replacement removed %v", removed)
	}
	all := page(t, "", 0)
	if want := []string{"+15550100", "+15550200", "+15550300", "+442071838750"}; !slices.Equal(numbers(all), want) {
		t.Fatalf("owned %v, want %v", numbers(all), want)
	}
	want0 := store.OwnedNumber{Number: "+15550100", Name: "Main line", Source: "twilio", SMS: true, Voice: true, Synced: T0}
	if got := all[0]; got.Number != want0.Number || got.Name != want0.Name || got.Source != want0.Source || got.SMS != want0.SMS ||
		got.Voice != want0.Voice || !got.Synced.Equal(T0) {
		t.Errorf("owned[0] = %+v, want %+v", got, want0)
	}
	if fax := all[2]; fax.SMS || !fax.Voice {
		t.Errorf("fax capabilities %+v, want voice only", fax)
	}
	// Pages: two at a time, after the last number of the page before.
	if got := numbers(page(t, "", 2)); !slices.Equal(got, []string{"+15550100", "+15550200"}) {
		t.Errorf("first page %v", got)
	}
	if got := numbers(page(t, "+15550200", 2)); !slices.Equal(got, []string{"+15550300", "+442071838750"}) {
		t.Errorf("second page %v", got)
	}
	if got := page(t, "+442071838750", 2); len(got) != 0 {
		t.Errorf("past the end: %v", got)
	}

	// The second sync: +15550200 released, +15550100 renamed and its
	// texts gone, +15550400 bought.
	removed = replace(t, t1,
		store.OwnedNumber{Number: "+15550400", Name: "New", SMS: true, Voice: true},
		store.OwnedNumber{Number: "+15550100", Name: "Front desk", Voice: true},
		store.OwnedNumber{Number: "+15550300", Name: "Fax", Voice: true},
		store.OwnedNumber{Number: "+442071838750", SMS: true})
	if !slices.Equal(removed, []string{"+15550200"}) {
		t.Errorf("second replacement removed %v, want [+15550200]", removed)
	}
	all = page(t, "", 0)
	if want := []string{"+15550100", "+15550300", "+15550400", "+442071838750"}; !slices.Equal(numbers(all), want) {
		t.Fatalf("owned after the second sync %v, want %v", numbers(all), want)
	}
	if got := all[0]; got.Name != "Front desk" || got.SMS || !got.Voice || !got.Synced.Equal(t1) {
		t.Errorf("the renamed number: %+v", got)
	}
	for _, n := range all {
		if !n.Synced.Equal(t1) {
			t.Errorf("%s synced %v, want %v", n.Number, n.Synced, t1)
		}
	}
	// A sync that finds none removes them all.
	removed = replace(t, t1.Add(time.Hour))
	if want := []string{"+15550100", "+15550300", "+15550400", "+442071838750"}; !reflect.DeepEqual(removed, want) {
		t.Errorf("an empty sync removed %v, want %v", removed, want)
	}
	if got := page(t, "", 0); len(got) != 0 {
		t.Errorf("owned after an empty sync: %v", numbers(got))
	}
}

// testNumbersListing: NumbersListingPage reads in one statement what
// NumbersPage, CallNumbersPage, OwnedNumbersPage and UnroutedNumbersPage
// read apart, after any cursor and at any limit, with the directory's
// version.
func testNumbersListing(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		sales, line := program("sales", "s1", T0, "+15550100", "+15550300"), program("main-line", "m1", T0, "+15550100", "+15550200")
		line.Channel = "voice"
		for _, p := range []store.Program{sales, line} {
			if err := tx.SaveProgram(ctx, &p); err != nil {
				return err
			}
			if err := tx.Activate(ctx, p.Flow, p.Version, p.Numbers, T0); err != nil {
				return err
			}
		}
		for i, to := range []string{"+15550050", "+15550400", "+15550400", "+15550300"} { // +15550300 is routed
			if err := tx.InsertMessage(ctx, &store.Message{SID: fmt.Sprintf("SMl%d", i), From: "+15557654321", To: to, Outcome: "no-flow", Response: "{}", Received: T0}); err != nil {
				return err
			}
		}
		if err := tx.(store.OutboxTx).SetSetting(ctx, "directory", `{"users": []}`); err != nil {
			return err
		}
		_, err := tx.(store.OwnedNumbersTx).ReplaceOwnedNumbers(ctx, "twilio", []store.OwnedNumber{
			{Number: "+15550100", Name: "Main", SMS: true, Voice: true}, {Number: "+15550500", Name: "Fax", Voice: true}}, T0)
		return err
	})
	ur, ok := s.(store.UsersReader)
	if !ok {
		t.Fatalf("store %T is not a store.UsersReader", s)
	}
	dirVersion, err := ur.StoredDirectoryVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []string{"", "+15550050", "+15550100", "+15550250", "+15550500"} {
		for _, limit := range []int{0, 1, 2, 5} {
			inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				a := tx.(store.AdminTx)
				got, err := tx.(store.NumbersListingReader).NumbersListingPage(ctx, after, limit)
				if err != nil {
					return err
				}
				var want store.NumbersListing
				if want.Texts, err = a.NumbersPage(ctx, after, limit); err != nil {
					return err
				}
				if want.Calls, err = a.CallNumbersPage(ctx, after, limit); err != nil {
					return err
				}
				if want.Owned, err = tx.(store.OwnedNumbersTx).OwnedNumbersPage(ctx, after, limit); err != nil {
					return err
				}
				for i := range want.Owned {
					want.Owned[i].Synced = time.Time{}
				}
				if want.Unrouted, err = a.UnroutedNumbersPage(ctx, after, limit); err != nil {
					return err
				}
				want.DirectoryVersion = dirVersion
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("NumbersListingPage(%q, %d) =\n %+v\nwant %+v", after, limit, *got, want)
				}
				return nil
			})
		}
	}
}
