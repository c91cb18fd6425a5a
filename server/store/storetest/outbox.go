package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// RunOutbox checks the delivery side of the outbox (store.OutboxTx) and
// settings. open returns a fresh store whose Tx implements OutboxTx.
func RunOutbox(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("OutboxDelivery", func(t *testing.T) { s := open(t); defer s.Close(); testOutboxDelivery(t, s) })
	t.Run("Settings", func(t *testing.T) { s := open(t); defer s.Close(); testSettings(t, s) })
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
		got, err := tx.ClaimOutbox(ctx, t0.Add(time.Second), lease, 1)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[0] || got[0].Attempts != 1 || got[0].Contact != "+15550001" {
			t.Errorf("first claim = %+v", got)
		}
		got, err = tx.ClaimOutbox(ctx, t0.Add(time.Second), lease, 10)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[1] {
			t.Errorf("second claim = %+v, want only item %d (item %d is leased, item %d not due)", got, ids[1], ids[0], ids[2])
		}
		return nil
	})
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		if err := tx.MarkOutboxSent(ctx, ids[0], t0.Add(2*time.Second)); err != nil {
			return err
		}
		if err := tx.RetryOutbox(ctx, ids[1], t0.Add(time.Hour), "provider said 500"); err != nil {
			return err
		}
		// Sent items cannot be sent again.
		if err := tx.MarkOutboxSent(ctx, ids[0], t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("marking a sent item sent again: %v, want ErrNotFound", err)
		}
		return nil
	})
	// After the lease of nothing: item 2 is due, item 1 waits an hour.
	otx(t, s, func(ctx context.Context, tx store.OutboxTx) error {
		got, err := tx.ClaimOutbox(ctx, t0.Add(3*time.Second), lease, 10)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[2] {
			t.Errorf("claim after retry = %+v, want item %d", got, ids[2])
		}
		// Its lease runs out: claimable again, with a second attempt.
		got, err = tx.ClaimOutbox(ctx, t0.Add(3*time.Second+lease), lease, 10)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ids[2] || got[0].Attempts != 2 {
			t.Errorf("claim after the lease = %+v", got)
		}
		if err := tx.DropOutbox(ctx, ids[2], "opted out", t0.Add(4*time.Second)); err != nil {
			return err
		}
		got, err = tx.ClaimOutbox(ctx, t0.Add(2*time.Hour), lease, 10)
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
			got, err := tx.OutboxItems(ctx, status)
			if err != nil {
				return err
			}
			if len(got) != want {
				t.Errorf("OutboxItems(%q) has %d items, want %d", status, len(got), want)
			}
		}
		dropped, _ := tx.OutboxItems(ctx, "dropped")
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
		return nil
	})
}
