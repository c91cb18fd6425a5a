package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// pipelined starts step's writes in tx's pipeline, where the store has
// pipelines (store.PipelineTx).
func pipelined(tx store.Tx, step int) {
	if p, ok := tx.(store.PipelineTx); ok {
		p.PipelineStep(step)
	}
}

// flushTx sends what tx queued.
func flushTx(ctx context.Context, tx store.Tx) error {
	if p, ok := tx.(store.PipelineTx); ok {
		return p.Flush(ctx)
	}
	return nil
}

// testPipeline: a group commit's writes queued in a pipeline
// (store.PipelineTx) are committed as written at once would be: each
// kind of write a step makes, for two steps; an id is set once sent; a
// read in between sees what was queued before it; a failing write fails
// its own step (store.StepError), at Flush or at once, and a
// revision's compare-and-swap and AdvanceRevisionRoutedThen check as
// their unqueued forms do.
func testPipeline(t *testing.T, s store.Store) {
	const number = "+1555900"
	contact := func(i int) string { return fmt.Sprintf("+1555%03d", 100+i) }
	var inbox, outbox []int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		inbox, outbox = nil, nil
		for i := range 2 {
			pipelined(tx, i)
			c := contact(i)
			if err := tx.LockConversation(ctx, c, number); err != nil {
				return err
			}
			if err := tx.AdvanceRevision(ctx, c, number, 0); err != nil {
				return err
			}
			if err := tx.SaveConversation(ctx, &store.Conversation{Contact: c, Number: number, Flow: "f", Version: "v", State: []byte("s"), Updated: T0, Started: T0}); err != nil {
				return err
			}
			if err := tx.SetOptOut(ctx, c, number, false, T0); err != nil {
				return err
			}
			if err := tx.AddContactTag(ctx, c, "t"); err != nil {
				return err
			}
			it := &store.InboxItem{TargetKind: "team", TargetName: "x", MessageSID: "SMp" + c, Contact: c, Number: number, Body: "b", Flow: "f", Created: T0}
			if err := tx.AddInboxItem(ctx, it); err != nil {
				return err
			}
			o := &store.OutboxItem{Kind: "sms", To: c, From: number, Body: "hi", Contact: c, Created: T0, NotBefore: T0}
			if err := tx.Enqueue(ctx, o); err != nil {
				return err
			}
			in := &store.Interaction{Contact: c, Number: number, At: T0, Kind: "sms", Direction: "inbound", SID: "SMp" + c}
			if err := htx(t, tx).RecordInteraction(ctx, in); err != nil {
				return err
			}
			if err := tx.InsertMessage(ctx, &store.Message{SID: "SMp" + c, From: c, To: number, Body: "b", Received: T0}); err != nil {
				return err
			}
			defer func() { inbox, outbox = append(inbox, it.ID), append(outbox, o.ID) }()
		}
		// A read in the transaction sees the writes queued before it.
		got, err := tx.Conversation(ctx, contact(1), number)
		if err != nil {
			return fmt.Errorf("a read after queued writes: %w", err)
		}
		if got.Flow != "f" {
			return fmt.Errorf("a read after queued writes: flow %q", got.Flow)
		}
		if err := tx.DeleteConversation(ctx, contact(1), number); err != nil {
			return err
		}
		return flushTx(ctx, tx)
	})
	for i := range 2 {
		if inbox[i] == 0 || outbox[i] == 0 {
			t.Errorf("step %d: inbox item %d, outbox item %d: want their ids once sent", i, inbox[i], outbox[i])
		}
		if got := revision(t, s, contact(i), number); got != 1 {
			t.Errorf("step %d: revision %d, want 1", i, got)
		}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 2 {
			c := contact(i)
			conv, err := tx.Conversation(ctx, c, number)
			switch {
			case i == 0 && err != nil:
				return fmt.Errorf("conversation %s: %w", c, err)
			case i == 1 && !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("conversation %s deleted last: %v, %v", c, conv, err)
			}
			if _, err := tx.MessageBySID(ctx, "SMp"+c); err != nil {
				return err
			}
			tags, err := tx.ContactTags(ctx, c)
			if err != nil || len(tags) != 1 {
				return fmt.Errorf("tags of %s: %v, %v", c, tags, err)
			}
		}
		return nil
	})

	// A failing write fails its step: a stored SID, a stale revision.
	routes := routesVersion(t, s)
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, tx store.Tx) error
	}{
		{"stored SID", func(ctx context.Context, tx store.Tx) error {
			return tx.InsertMessage(ctx, &store.Message{SID: "SMp" + contact(0), From: contact(0), To: number, Received: T0})
		}},
		{"stale revision", func(ctx context.Context, tx store.Tx) error { return tx.AdvanceRevision(ctx, contact(0), number, 0) }},
		{"stale revision, routed", func(ctx context.Context, tx store.Tx) error {
			return routedThen(ctx, tx, contact(0), number, 0, routes, func(context.Context) error { return errors.New("moved: not asked") })
		}},
	} {
		err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
			pipelined(tx, 0)
			if err := tx.InsertMessage(ctx, &store.Message{SID: "SMfine", From: contact(5), To: number, Received: T0}); err != nil {
				return err
			}
			pipelined(tx, 1)
			if err := tc.write(ctx, tx); err != nil {
				return err
			}
			pipelined(tx, 2)
			if err := tx.AddContactTag(ctx, contact(6), "t"); err != nil {
				return err
			}
			return flushTx(ctx, tx)
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", tc.name, err)
		}
		if se, ok := errors.AsType[*store.StepError](err); ok && se.Step != 1 {
			t.Errorf("%s: failed step %d, want 1", tc.name, se.Step)
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if _, err := tx.MessageBySID(ctx, "SMfine"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: the other step's message after the rollback: %v", tc.name, err)
			}
			return nil
		})
	}

	// AdvanceRevisionRoutedThen: moved runs only when the routes moved.
	var moved int
	count := func(context.Context) error { moved++; return nil }
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		pipelined(tx, 0)
		return routedThen(ctx, tx, contact(0), number, 1, routes, count)
	})
	if moved != 0 || revision(t, s, contact(0), number) != 2 {
		t.Fatalf("at the same routes: moved %d times, revision %d; want 0, 2", moved, revision(t, s, contact(0), number))
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SaveProgram(ctx, &store.Program{Flow: "sales", Version: "s1", Encoded: []byte("x"), Created: T0}); err != nil {
			return err
		}
		return tx.Activate(ctx, "sales", "s1", []string{number}, T0)
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		pipelined(tx, 0)
		if err := routedThen(ctx, tx, contact(0), number, 2, routes, count); err != nil {
			return err
		}
		return routedThen(ctx, tx, contact(7), number, 0, routes, count) // a first step
	})
	if moved != 2 || revision(t, s, contact(0), number) != 3 || revision(t, s, contact(7), number) != 1 {
		t.Fatalf("after a deploy: moved %d times, revisions %d, %d; want 2, 3, 1 (advanced all the same)", moved,
			revision(t, s, contact(0), number), revision(t, s, contact(7), number))
	}
}

// routedThen is AdvanceRevisionRoutedThen where the Tx has it, else
// AdvanceRevisionRouted and moved.
func routedThen(ctx context.Context, tx store.Tx, contact, number string, from, routes int64, moved func(context.Context) error) error {
	if r, ok := tx.(store.RoutedRevisionTx); ok {
		return r.AdvanceRevisionRoutedThen(ctx, contact, number, from, routes, moved)
	}
	m, err := tx.AdvanceRevisionRouted(ctx, contact, number, from, routes)
	if err != nil || !m {
		return err
	}
	return moved(ctx)
}

func routesVersion(t *testing.T, s store.Store) int64 {
	t.Helper()
	var v int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		v, err = tx.RoutesVersion(ctx)
		return err
	})
	return v
}

// testReadSteps: a store.StepBatchReader's one statement reads, for each
// key, what ReadStep reads of it: a conversation in progress with its
// revision, tags and opt-out, an answered SID, a key with nothing
// stored, the same conversation twice.
func testReadSteps(t *testing.T, s store.Store) {
	r, ok := s.(store.StepBatchReader)
	if !ok {
		t.Skip("not a store.StepBatchReader")
	}
	const number = "+1555900"
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, c := range []string{"+1555101", "+1555102"} {
			if err := tx.AdvanceRevision(ctx, c, number, 0); err != nil {
				return err
			}
			if err := tx.SaveConversation(ctx, &store.Conversation{Contact: c, Number: number, Flow: "f", Version: "v", State: []byte(c),
				Deadline: T0, Updated: T0, Started: T0}); err != nil {
				return err
			}
		}
		if err := tx.AddContactTag(ctx, "+1555101", "b"); err != nil {
			return err
		}
		if err := tx.AddContactTag(ctx, "+1555101", "a"); err != nil {
			return err
		}
		if err := tx.SetOptOut(ctx, "+1555102", number, true, T0); err != nil {
			return err
		}
		return tx.InsertMessage(ctx, &store.Message{SID: "SMr1", From: "+1555102", To: number, Version: "v", Response: `{"outcome":"routed"}`, Received: T0})
	})
	key := func(contact, sid string) store.StepKey {
		return store.StepKey{Contact: contact, Number: number, SID: sid}
	}
	keys := []store.StepKey{key("+1555101", "SMnone"), key("+1555102", "SMr1"), key("+1555199", "SMx"), key("+1555101", "SMr1")}
	got, err := r.ReadSteps(t.Context(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("%d states for %d keys", len(got), len(keys))
	}
	for i, k := range keys {
		want, err := s.(store.StepReader).ReadStep(t.Context(), k.Contact, k.Number, k.SID)
		if err != nil {
			t.Fatal(err)
		}
		checkEqual(t, fmt.Sprintf("ReadSteps' state %d (%v) against ReadStep's", i, k), stepView(got[i]), stepView(want))
	}
}

// testPrefetchContactMessages: ContactMessages answers, after
// PrefetchContactMessages (store.ContactMessagesPrefetcher) read it with
// others, what it answers read alone: the count and the newest rows,
// timers' left out, for a limit, no limit room (0), a since that leaves
// some out and a conversation with none.
func testPrefetchContactMessages(t *testing.T, s store.Store) {
	const number = "+1555900"
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 5 {
			for _, c := range []string{"+1555101", "+1555102"} {
				outcome := "routed"
				if i == 3 {
					outcome = "timer"
				}
				if err := tx.InsertMessage(ctx, &store.Message{SID: fmt.Sprintf("SMc%s%d", c, i), From: c, To: number, Body: fmt.Sprint("b", i),
					Media: []string{"https://m.example/" + fmt.Sprint(i)}, Outcome: outcome, Received: T0.Add(time.Duration(i) * time.Minute)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	keys := []store.ContactMessagesKey{
		{Contact: "+1555101", Number: number, Since: T0, Limit: 2},
		{Contact: "+1555102", Number: number, Since: T0.Add(2 * time.Minute), Limit: 19},
		{Contact: "+1555101", Number: number, Since: T0, Limit: 0},
		{Contact: "+1555199", Number: number, Since: T0, Limit: 5},
	}
	type answer struct {
		Msgs  []store.InboxMessage
		Total int
	}
	read := func(prefetch bool) []answer {
		var out []answer
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			out = nil
			if pf, ok := tx.(store.ContactMessagesPrefetcher); ok && prefetch {
				if err := pf.PrefetchContactMessages(ctx, keys); err != nil {
					return err
				}
			}
			for _, k := range keys {
				msgs, total, err := tx.ContactMessages(ctx, k.Contact, k.Number, k.Since, k.Limit)
				if err != nil {
					return err
				}
				out = append(out, answer{msgs, total})
			}
			return nil
		})
		return out
	}
	alone, prefetched := read(false), read(true)
	if alone[0].Total != 4 || len(alone[0].Msgs) != 2 || alone[1].Total != 2 {
		t.Fatalf("read alone: %+v", alone)
	}
	for i := range keys {
		if !reflect.DeepEqual(prefetched[i], alone[i]) {
			t.Errorf("ContactMessages(%+v) after PrefetchContactMessages:\n%+v\nalone:\n%+v", keys[i], prefetched[i], alone[i])
		}
	}
}
