package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// RunOutbox checks the delivery side of the outbox (store.OutboxTx) and
// settings. open returns a fresh store whose Tx implements OutboxTx.
func RunOutbox(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("OutboxDelivery", func(t *testing.T) { s := open(t); defer s.Close(); testOutboxDelivery(t, s) })
	t.Run("Settings", func(t *testing.T) { s := open(t); defer s.Close(); testSettings(t, s) })
	t.Run("OutboxDestinations", func(t *testing.T) { s := open(t); defer s.Close(); testOutboxDestinations(t, s) })
	t.Run("DeliveryStatus", func(t *testing.T) { s := open(t); defer s.Close(); testDeliveryStatus(t, s) })
}

func otx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.OutboxTx) error) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		o, ok := tx.(store.OutboxTx)
		if !ok {
			t.Fatalf("%T does not implement store.OutboxTx", tx)
		}
		return fn(ctx, o)
	})
}

func testOutboxDelivery(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var ids []int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, to := range []string{"+15550001", "+15550002", "+15550003"} {
			o := &store.OutboxItem{Kind: "sms", To: to, From: "+15550100", Body: "hi", Contact: to, Created: t0, NotBefore: t0.Add(time.Duration(i) * time.Second)}
			if err := tx.Enqueue(ctx, o); err != nil {
				return err
			}
			ids = append(ids, o.ID)
		}
		return nil
	})
	lease := time.Minute
	// At t0+1s the first two are due; a limit of 1 takes the oldest.
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		got, err := tx.ClaimOutbox(ctx, store.OutboxClaim{Now: t0.Add(time.Second), Lease: lease, Limit: 1})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[0] || got[0].Attempts != 1 || got[0].Contact != "+15550001" {
			t.Errorf("first claim = %+v", got)
		}
		got, err = tx.ClaimOutbox(ctx, store.OutboxClaim{Now: t0.Add(time.Second), Lease: lease, Limit: 10})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[1] {
			t.Errorf("second claim = %+v, want only item %d (item %d is leased, item %d not due)", got, ids[1], ids[0], ids[2])
		}
		return nil
	})
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		if err := tx.MarkOutboxSent(ctx, ids[0], "SM0", t0.Add(2*time.Second)); err != nil {
			return err
		}
		if err := tx.RetryOutbox(ctx, ids[1], t0.Add(time.Hour), "provider said 500"); err != nil {
			return err
		}
		// Sent items cannot be sent again.
		if err := tx.MarkOutboxSent(ctx, ids[0], "SM0", t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("marking a sent item sent again: %v, want ErrNotFound", err)
		}
		return nil
	})
	// After the lease of nothing: item 2 is due, item 1 waits an hour.
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		got, err := tx.ClaimOutbox(ctx, store.OutboxClaim{Now: t0.Add(3 * time.Second), Lease: lease, Limit: 10})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[2] {
			t.Errorf("claim after retry = %+v, want item %d", got, ids[2])
		}
		// Its lease runs out: claimable again, with a second attempt.
		got, err = tx.ClaimOutbox(ctx, store.OutboxClaim{Now: t0.Add(3*time.Second + lease), Lease: lease, Limit: 10})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[2] || got[0].Attempts != 2 {
			t.Errorf("claim after the lease = %+v", got)
		}
		if err := tx.DropOutbox(ctx, ids[2], "opted out", t0.Add(4*time.Second)); err != nil {
			return err
		}
		got, err = tx.ClaimOutbox(ctx, store.OutboxClaim{Now: t0.Add(2 * time.Hour), Lease: lease, Limit: 10})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[1] || got[0].LastError != "provider said 500" {
			t.Errorf("claim an hour later = %+v, want the retried item", got)
		}
		return nil
	})
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		for status, want := range map[string]int{"sent": 1, "dropped": 1, "pending": 1, "": 3} {
			got, err := tx.OutboxItems(ctx, status, 0)
			if err != nil {
				return err
			}
			if len(got) != want {
				t.Errorf("OutboxItems(%q) has %d items, want %d", status, len(got), want)
			}
		}
		dropped, _ := tx.OutboxItems(ctx, "dropped", 0)
		if len(dropped) == 1 && (dropped[0].LastError != "opted out" || !sameTime(dropped[0].DoneAt, t0.Add(4*time.Second))) {
			t.Errorf("dropped item = %+v", dropped[0])
		}
		return nil
	})
}

func testSettings(t *testing.T, s store.Store) {
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		if _, err := tx.Setting(ctx, "admin_token"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unset setting: %v, want ErrNotFound", err)
		}
		if err := tx.SetSetting(ctx, "admin_token", "a"); err != nil {
			return err
		}
		if err := tx.SetSetting(ctx, "admin_token", "b"); err != nil {
			return err
		}
		if v, err := tx.Setting(ctx, "admin_token"); err != nil || v != "b" {
			t.Errorf("setting = %q, %v; want b", v, err)
		}
		// Prefixes are literal (no LIKE pattern: % and _ are themselves).
		for _, k := range []string{"console/session/b", "console/session/a", "console/sessions", "console/session", "console_session/x", "console/session/%"} {
			if err := tx.SetSetting(ctx, k, "v"+k); err != nil {
				return err
			}
		}
		got, err := tx.SettingsPrefixed(ctx, "console/session/")
		if err != nil {
			return err
		}
		var want []store.Setting
		for _, k := range []string{"console/session/%", "console/session/a", "console/session/b"} {
			want = append(want, store.Setting{Key: k, Value: "v" + k})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("settings prefixed console/session/: %v, want %v", got, want)
		}
		if err := tx.DeleteSetting(ctx, "console/session/a"); err != nil {
			return err
		}
		if err := tx.DeleteSetting(ctx, "console/session/none"); err != nil {
			t.Errorf("deleting a setting that is not there: %v", err)
		}
		if _, err := tx.Setting(ctx, "console/session/a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted setting: %v, want ErrNotFound", err)
		}
		if got, err := tx.SettingsPrefixed(ctx, "console/session/%"); err != nil || len(got) != 1 {
			t.Errorf("settings prefixed console/session/%%: %v, %v; want the one", got, err)
		}
		return nil
	})
}

// testOutboxDestinations: Enqueue sets an item's destination; a claim
// skips busy destinations and can take one item per destination, so a
// backlog for one endpoint never hides another's items.
func testOutboxDestinations(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	items := []store.OutboxItem{
		{Kind: "email", To: "a@example.com"},
		{Kind: "email", To: "b@example.com"},
		{Kind: "webhook", To: "https://Hooks.Example.com:8443/in?x=1"},
		{Kind: "sms", To: "+15550001", Contact: "+15550001"},
		{Kind: "email", To: "c@example.com"},
		{Kind: "sms", To: "+15550002", Contact: "+15550002"},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range items {
			items[i].From, items[i].Body, items[i].Created, items[i].NotBefore = "+15550100", "x", t0, t0
			if err := tx.Enqueue(ctx, &items[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if want := "webhook:hooks.example.com:8443"; items[2].Destination != want {
		t.Errorf("webhook destination = %q, want %q", items[2].Destination, want)
	}
	claim := func(c store.OutboxClaim) []int64 {
		var ids []int64
		otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
			c.Now, c.Lease = t0, time.Minute
			got, err := tx.ClaimOutbox(ctx, c)
			for _, it := range got {
				ids = append(ids, it.ID)
				if it.Destination != store.OutboxDestination(it.Kind, it.To) {
					t.Errorf("claimed item %d has destination %q", it.ID, it.Destination)
				}
			}
			return err
		})
		return ids
	}
	id := func(i int) int64 { return items[i].ID }
	// One per destination, e-mail skipped: the oldest SMS and the webhook.
	got := claim(store.OutboxClaim{Limit: 10, Skip: []string{"email"}, OnePerDestination: true})
	if !slices.Equal(got, []int64{id(2), id(3)}) {
		t.Errorf("claim skipping email, one per destination = %v, want %v", got, []int64{id(2), id(3)})
	}
	// The rest, one per destination: one e-mail and the other SMS.
	got = claim(store.OutboxClaim{Limit: 10, OnePerDestination: true})
	if !slices.Equal(got, []int64{id(0), id(5)}) {
		t.Errorf("second claim = %v, want %v", got, []int64{id(0), id(5)})
	}
	// Without the restriction the limit alone counts.
	got = claim(store.OutboxClaim{Limit: 1})
	if !slices.Equal(got, []int64{id(1)}) {
		t.Errorf("third claim = %v, want %v", got, []int64{id(1)})
	}
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		b, err := tx.OutboxBacklog(ctx)
		if err != nil {
			return err
		}
		want := []store.OutboxBacklog{{Kind: "email", Pending: 3}, {Kind: "sms", Pending: 2}, {Kind: "webhook", Pending: 1}}
		if len(b) != len(want) {
			t.Fatalf("backlog = %+v, want %+v", b, want)
		}
		for i := range want {
			if b[i].Kind != want[i].Kind || b[i].Pending != want[i].Pending || !sameTime(b[i].Oldest, t0) {
				t.Errorf("backlog[%d] = %+v, want %+v oldest %s", i, b[i], want[i], t0)
			}
		}
		if got, err := tx.OutboxItems(ctx, "pending", 2); err != nil || len(got) != 2 || got[0].ID != id(0) {
			t.Errorf("OutboxItems(pending, 2) = %+v, %v", got, err)
		}
		return nil
	})
}

// testDeliveryStatus: the provider's sid is kept with a sent item, and
// its reports are kept in order of rank whatever order they arrive in,
// also before the send is recorded.
func testDeliveryStatus(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	o := &store.OutboxItem{Kind: "sms", To: "+15550001", From: "+15550100", Body: "hi", MessageSID: "SMin", Contact: "+15550001", Created: t0, NotBefore: t0}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.Enqueue(ctx, o) })
	report := func(status string, rank int, code string, at time.Time) {
		otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
			return tx.RecordDeliveryStatus(ctx, store.DeliveryStatus{ProviderSID: "SMout", Status: status, Rank: rank, ErrorCode: code, At: at})
		})
	}
	// A report before the send is recorded (the provider can be faster
	// than our commit).
	report("queued", 1, "", t0.Add(time.Second))
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		if _, err := tx.ClaimOutbox(ctx, store.OutboxClaim{Now: t0, Lease: time.Minute}); err != nil {
			return err
		}
		return tx.MarkOutboxSent(ctx, o.ID, "SMout", t0.Add(2*time.Second))
	})
	report("undelivered", 5, "30003", t0.Add(4*time.Second))
	report("sent", 3, "", t0.Add(3*time.Second))             // late: must not regress
	report("undelivered", 5, "30003", t0.Add(5*time.Second)) // again: no change
	check := func(it store.OutboxItem) {
		t.Helper()
		if it.ProviderSID != "SMout" || it.DeliveryStatus != "undelivered" || it.DeliveryError != "30003" || !sameTime(it.DeliveryAt, t0.Add(4*time.Second)) {
			t.Errorf("item = %+v, want SMout undelivered 30003 at %s", it, t0.Add(4*time.Second))
		}
	}
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		it, err := tx.OutboxByProviderSID(ctx, "SMout")
		if err != nil {
			return err
		}
		check(*it)
		byMsg, err := tx.OutboxByMessage(ctx, "SMin")
		if err != nil {
			return err
		}
		if len(byMsg) != 1 {
			t.Fatalf("OutboxByMessage = %+v", byMsg)
		}
		check(byMsg[0])
		if none, err := tx.OutboxByMessage(ctx, "SMother"); err != nil || len(none) != 0 {
			t.Errorf("OutboxByMessage(other) = %+v, %v", none, err)
		}
		// The batched read gives the same items, and no entry for a
		// message that caused nothing.
		many, err := tx.OutboxByMessages(ctx, []string{"SMother", "SMin"})
		if err != nil {
			return err
		}
		if _, ok := many["SMother"]; ok || len(many) != 1 || len(many["SMin"]) != 1 {
			t.Fatalf("OutboxByMessages = %+v", many)
		}
		check(many["SMin"][0])
		_, err = tx.OutboxByProviderSID(ctx, "SMnone")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("OutboxByProviderSID(unknown) = %v, want ErrNotFound", err)
		}
		return nil
	})
}
