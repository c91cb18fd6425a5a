package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

func deployTx(t *testing.T, tx store.Tx) store.DeployTx {
	t.Helper()
	d, ok := tx.(store.DeployTx)
	if !ok {
		t.Fatalf("%T does not implement store.DeployTx", tx)
	}
	return d
}

// testDrafts: a flow has at most one draft; SetDraft replaces it and its
// test contacts; DraftsFor finds drafts by test contact; DeleteDraft
// removes it with its contacts.
func testDrafts(t *testing.T, s store.Store) {
	v1 := program("support", "v1", T0, "+1555999")
	v2 := program("support", "v2", T0.Add(time.Hour), "+1555999", "+1555998")
	w1 := program("sales", "w1", T0)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, p := range []store.Program{v1, v2, w1} {
			if err := tx.SaveProgram(ctx, &p); err != nil {
				return err
			}
		}
		d := deployTx(t, tx)
		if _, err := d.Draft(ctx, "support"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Draft before SetDraft: %v, want ErrNotFound", err)
		}
		if err := d.SetDraft(ctx, &store.Draft{Flow: "support", Version: "v1", Contacts: []string{"+1555002", "+1555001"}, Numbers: v1.Numbers, Created: T0}); err != nil {
			return err
		}
		if err := d.SetDraft(ctx, &store.Draft{Flow: "sales", Version: "w1", Contacts: []string{"+1555001"}, Created: T0}); err != nil {
			return err
		}
		// Replaced: version, contacts and numbers.
		return d.SetDraft(ctx, &store.Draft{Flow: "support", Version: "v2", Contacts: []string{"+1555003", "+1555002"}, Numbers: v2.Numbers, Created: T0.Add(time.Hour)})
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		d := deployTx(t, tx)
		got, err := d.Draft(ctx, "support")
		if err != nil {
			return err
		}
		checkEqual(t, "Draft(support)", *got, store.Draft{Flow: "support", Version: "v2", Contacts: []string{"+1555002", "+1555003"}, Numbers: v2.Numbers, Created: T0.Add(time.Hour)})
		all, err := d.Drafts(ctx)
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].Flow != "sales" || all[1].Flow != "support" {
			t.Errorf("Drafts = %+v, want sales then support", all)
		}
		for contact, want := range map[string]string{"+1555001": "sales", "+1555002": "support", "+1555003": "support", "+1555009": ""} {
			ds, err := d.DraftsFor(ctx, contact)
			if err != nil {
				return err
			}
			var flows string
			for _, x := range ds {
				flows += x.Flow
			}
			if flows != want {
				t.Errorf("DraftsFor(%s) = %q, want %q", contact, flows, want)
			}
		}
		if err := d.DeleteDraft(ctx, "support"); err != nil {
			return err
		}
		if err := d.DeleteDraft(ctx, "support"); err != nil {
			t.Errorf("DeleteDraft of no draft: %v", err)
		}
		if ds, err := d.DraftsFor(ctx, "+1555002"); err != nil || len(ds) != 0 {
			t.Errorf("DraftsFor after DeleteDraft = %+v, %v", ds, err)
		}
		return nil
	})
	if err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return deployTx(t, tx).SetDraft(ctx, &store.Draft{Flow: "support", Version: "nosuch", Contacts: []string{"+1555001"}})
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetDraft of an unsaved version: %v, want ErrNotFound", err)
	}
}

func testDirectoryVersions(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		d := deployTx(t, tx)
		if v, err := d.DirectoryVersion(ctx, "support"); err != nil || v != "" {
			t.Errorf("DirectoryVersion before any = %q, %v", v, err)
		}
		for _, v := range []string{"v1", "v2"} {
			if err := d.SetDirectoryVersion(ctx, "support", v); err != nil {
				return err
			}
		}
		return d.SetDirectoryVersion(ctx, "sales", "w1")
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		d := deployTx(t, tx)
		for flow, want := range map[string]string{"support": "v2", "sales": "w1", "other": ""} {
			if v, err := d.DirectoryVersion(ctx, flow); err != nil || v != want {
				t.Errorf("DirectoryVersion(%s) = %q, %v, want %q", flow, v, err, want)
			}
		}
		return nil
	})
}

// testConversationStarts: the latest limit starts of a flow since a
// time, oldest first, joined with their messages.
func testConversationStarts(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		d := deployTx(t, tx)
		for i := range 6 {
			flow := "support"
			if i == 3 {
				flow = "sales"
			}
			m := store.Message{SID: fmt.Sprintf("SM%d", i), From: "+1555000", To: "+1555999", Body: fmt.Sprintf("b%d", i), Flow: flow,
				Version: "v1", Outcome: "routed", Response: "{}", Received: T0.Add(time.Duration(i) * time.Hour)}
			if err := tx.InsertMessage(ctx, &m); err != nil {
				return err
			}
			if err := d.RecordStart(ctx, m.SID, flow, m.Received); err != nil {
				return err
			}
		}
		// A message that continued a conversation is not a start.
		m := store.Message{SID: "SMcont", From: "+1555000", To: "+1555999", Flow: "support", Outcome: "routed", Response: "{}", Received: T0.Add(5 * time.Hour)}
		return tx.InsertMessage(ctx, &m)
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		d := deployTx(t, tx)
		ms, err := d.ConversationStarts(ctx, "support", T0.Add(time.Hour), 100)
		if err != nil {
			return err
		}
		var sids []string
		for _, m := range ms {
			sids = append(sids, m.SID)
		}
		if fmt.Sprint(sids) != "[SM1 SM2 SM4 SM5]" {
			t.Errorf("ConversationStarts(support, T0+1h) = %v, want [SM1 SM2 SM4 SM5]", sids)
		}
		if len(ms) > 0 && (ms[0].Body != "b1" || !sameTime(ms[0].Received, T0.Add(time.Hour))) {
			t.Errorf("ConversationStarts[0] = %+v", ms[0])
		}
		ms, err = d.ConversationStarts(ctx, "support", T0, 2)
		if err != nil {
			return err
		}
		if len(ms) != 2 || ms[0].SID != "SM4" || ms[1].SID != "SM5" {
			t.Errorf("ConversationStarts limit 2 = %+v, want SM4, SM5", ms)
		}
		return nil
	})
}

// testInsertStartingMessage: InsertStartingMessage stores the message and
// its start as InsertMessage and RecordStart do; an SID stored before is
// ErrConflict and records no second start.
func testInsertStartingMessage(t *testing.T, s store.Store) {
	m := store.Message{SID: "SMstart", From: "+1555000", To: "+1555999", Body: "hi", Media: []string{"https://x.example/a.png"},
		Flow: "support", Version: "v1", Outcome: "routed", Response: `{"outcome":"routed"}`, Trace: []byte(`{"steps":[]}`),
		Received: T0, Details: []byte(`{"from_city":"Ann Arbor"}`)}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return deployTx(t, tx).InsertStartingMessage(ctx, &m) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.MessageBySID(ctx, m.SID)
		if err != nil {
			return err
		}
		checkEqual(t, "the message", *got, m)
		starts, err := deployTx(t, tx).ConversationStarts(ctx, "support", time.Time{}, 10)
		if err != nil {
			return err
		}
		if len(starts) != 1 || starts[0].SID != m.SID || !sameTime(starts[0].Received, T0) {
			t.Errorf("ConversationStarts = %+v, want the one message", starts)
		}
		return nil
	})
	again := m
	again.Flow = "sales"
	err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return deployTx(t, tx).InsertStartingMessage(ctx, &again)
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the same SID again: %v, want ErrConflict", err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		starts, err := deployTx(t, tx).ConversationStarts(ctx, "sales", time.Time{}, 10)
		if err != nil {
			return err
		}
		if len(starts) != 0 {
			t.Errorf("the refused message recorded a start of sales: %+v", starts)
		}
		return nil
	})
}
