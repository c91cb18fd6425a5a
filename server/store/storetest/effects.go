package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// testContactEdits: store.EditsTx and store.EditsReader. An untag
// removes an added tag and is remembered; KeepTag forgets it; a field set
// twice keeps the last value, "" included; a reply's mark is per contact
// and number, its time kept to the microsecond; ClearContactEdits forgets
// the fields named and, with tags, the tags; the reader outside a
// transaction sees what was committed.
func testContactEdits(t *testing.T, s store.Store) {
	const ann, bob, num, other = "+15550000001", "+15550000002", "+15550100", "+15550101"
	if _, ok := s.(store.EditsReader); !ok {
		t.Fatalf("store %T is not a store.EditsReader", s)
	}
	at := T0.Add(time.Hour)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		et, ok := tx.(store.EditsTx)
		if !ok {
			t.Fatalf("tx %T is not a store.EditsTx", tx)
		}
		e, err := et.ContactEdits(ctx, ann, num)
		if err != nil {
			return err
		}
		if e.Untags != nil || e.Fields != nil || e.Marks != nil {
			t.Errorf("edits before any: %+v", e)
		}
		for _, tag := range []string{"vip", "lead"} {
			if err := tx.AddContactTag(ctx, ann, tag); err != nil {
				return err
			}
		}
		for _, step := range []func() error{
			func() error { return et.UntagContact(ctx, ann, "vip") },
			func() error { return et.UntagContact(ctx, ann, "vip") }, // again: nothing more
			func() error { return et.UntagContact(ctx, ann, "from-directory") },
			func() error { return et.UntagContact(ctx, ann, "gone") },
			func() error { return et.KeepTag(ctx, ann, "gone") },
			func() error { return et.SetContactField(ctx, ann, "plan", "free") },
			func() error { return et.SetContactField(ctx, ann, "plan", "pro") },
			func() error { return et.SetContactField(ctx, ann, "old", "") },
			func() error { return et.SetContactField(ctx, bob, "plan", "bob's") },
			func() error { return et.MarkReply(ctx, ann, num, "reply:a", T0) },
			func() error { return et.MarkReply(ctx, ann, num, "reply:a", at) },
			func() error { return et.MarkReply(ctx, ann, other, "reply:a", T0) },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		tags, err := tx.ContactTags(ctx, ann)
		if err != nil {
			return err
		}
		if !slices.Equal(tags, []string{"lead"}) {
			t.Errorf("added tags after untag: %q, want [lead]", tags)
		}
		return nil
	})
	e, err := s.(store.EditsReader).ReadContactEdits(context.Background(), ann, num)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"from-directory", "vip"}; !slices.Equal(e.Untags, want) {
		t.Errorf("untags = %q, want %q", e.Untags, want)
	}
	if want := map[string]string{"plan": "pro", "old": ""}; !maps.Equal(e.Fields, want) {
		t.Errorf("fields = %q, want %q", e.Fields, want)
	}
	if len(e.Marks) != 1 || !e.Marks["reply:a"].Equal(at) {
		t.Errorf("marks on %s = %v, want reply:a at %v", num, e.Marks, at)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		et := tx.(store.EditsTx)
		e, err := et.ContactEdits(ctx, ann, other)
		if err != nil {
			return err
		}
		if len(e.Marks) != 1 || !e.Marks["reply:a"].Equal(T0) {
			t.Errorf("marks on %s = %v, want reply:a at %v", other, e.Marks, T0)
		}
		if err := et.ClearContactEdits(ctx, ann, []string{"plan"}, true); err != nil {
			return err
		}
		e, err = et.ContactEdits(ctx, ann, num)
		if err != nil {
			return err
		}
		if e.Untags != nil || !maps.Equal(e.Fields, map[string]string{"old": ""}) || len(e.Marks) != 1 {
			t.Errorf("after ClearContactEdits: %+v", e)
		}
		if tags, err := tx.ContactTags(ctx, ann); err != nil || len(tags) != 0 {
			t.Errorf("added tags after ClearContactEdits: %q %v", tags, err)
		}
		b, err := et.ContactEdits(ctx, bob, num)
		if err != nil {
			return err
		}
		if !maps.Equal(b.Fields, map[string]string{"plan": "bob's"}) {
			t.Errorf("another contact's fields: %q", b.Fields)
		}
		return nil
	})
}
