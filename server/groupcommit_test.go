package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

const counterNumber = "+15550900"

// prepare reads and runs the step of one message without committing it.
func prepare(t *testing.T, h *harness, sid, from, body string) *server.Pending {
	t.Helper()
	p, err := server.PrepareStep(h.srv, context.Background(),
		server.Inbound{SID: sid, From: from, To: counterNumber, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func answerIs(t *testing.T, p *server.Pending, want ...string) {
	t.Helper()
	a, err := p.Wait()
	if err != nil {
		t.Fatalf("committed together: %v, want %q", err, want)
	}
	if got := strings.Join(a.Replies, "|"); got != strings.Join(want, "|") {
		t.Fatalf("committed together: %q, want %q", got, want)
	}
}

// TestGroupCommitFailsOnlyTheConflictingStep: four steps committed in one
// batch, one of a conversation that changed after its read (another step
// of it committed first) and one whose MessageSid another contact's
// message stored meanwhile. Those two fail with store.ErrConflict (the
// caller runs them again from their reads), the other two commit, and
// nothing of the failed ones is stored.
func TestGroupCommitFailsOnlyTheConflictingStep(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startWith(t, setup{token: authToken, store: sc.open(t)}, "testdata/counter.flow")
			contacts := []string{"+15550001001", "+15550001002", "+15550001003", "+15550001004"}
			for _, c := range contacts {
				if got := h.text(c, counterNumber, "open"); got != twiml("next") {
					t.Fatalf("open %s: %s", c, got)
				}
			}
			steps := []*server.Pending{
				prepare(t, h, "SMgroup1", contacts[0], "a"),
				prepare(t, h, "SMgroup2", contacts[1], "b"),
				prepare(t, h, "SMgroup3", contacts[2], "c"),
				prepare(t, h, "SMgroupdup", contacts[3], "d"),
			}
			// After the reads: a step of contacts[1] commits, and another
			// contact's message takes contacts[3]'s SID.
			if got := h.text(contacts[1], counterNumber, "first"); got != twiml("1 first", "next") {
				t.Fatalf("the step committed in between: %s", got)
			}
			if code, body := h.postForm(h.form("SMgroupdup", "+15550001099", counterNumber, "hi")); code != http.StatusOK {
				t.Fatalf("the SID taken in between: %d %s", code, body)
			}
			server.CommitTogether(h.srv, steps...)
			answerIs(t, steps[0], "1 a", "next")
			answerIs(t, steps[2], "1 c", "next")
			for i, p := range []*server.Pending{steps[1], steps[3]} {
				if _, err := p.Wait(); !errors.Is(err, store.ErrConflict) {
					t.Fatalf("stale step %d: %v, want a conflict", i, err)
				}
			}
			if m := h.message("SMgroup2"); m != nil {
				t.Fatalf("the stale step's message was stored: %+v", m)
			}
			if m := h.message("SMgroupdup"); m == nil || m.From != "+15550001099" {
				t.Fatalf("SMgroupdup is stored as %+v, want the other contact's", m)
			}
			// Each conversation is where its committed steps left it.
			for i, want := range []string{"2 x", "2 x", "2 x", "1 x"} {
				if got := h.text(contacts[i], counterNumber, "x"); got != twiml(want, "next") {
					t.Fatalf("%s after the batch: %s, want %q", contacts[i], got, want)
				}
			}
		})
	}
}

// TestGroupCommitManyConversationsAtOnce: through the webhooks, many
// conversations' messages at once (more than one batch holds) are each
// answered and stored once, in each conversation's order.
func TestGroupCommitManyConversationsAtOnce(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startWith(t, setup{token: authToken, store: sc.open(t)}, "testdata/counter.flow")
			const convs, msgs = 2 * server.MaxBatch, 3
			var wg sync.WaitGroup
			errs := make(chan error, convs)
			for c := range convs {
				from := fmt.Sprintf("+1555100%04d", c)
				wg.Go(func() {
					for m := range msgs + 1 {
						f := h.form(fmt.Sprintf("SMmany%04d-%d", c, m), from, counterNumber, fmt.Sprint("m", m))
						code, body := h.postForm(f)
						want := twiml(fmt.Sprintf("%d m%d", m, m), "next")
						if m == 0 {
							want = twiml("next")
						}
						if code != http.StatusOK || body != want {
							errs <- fmt.Errorf("%s message %d: %d %s, want %s", from, m, code, body, want)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}

// TestGroupCommitLockedConversationCommitsApart (PostgreSQL): a batch
// one of whose conversations is locked by another transaction (a stuck
// one, or another replica's step) commits the others at once; the locked
// one waits for its lock apart and commits when it is free.
func TestGroupCommitLockedConversationCommitsApart(t *testing.T) {
	h := startWith(t, setup{token: authToken, store: pgStore(t)}, "testdata/counter.flow")
	contacts := []string{"+15550002001", "+15550002002", "+15550002003"}
	for _, c := range contacts {
		h.text(c, counterNumber, "open")
	}
	steps := []*server.Pending{
		prepare(t, h, "SMapart1", contacts[0], "a"),
		prepare(t, h, "SMapart2", contacts[1], "b"),
		prepare(t, h, "SMapart3", contacts[2], "c"),
	}
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- h.store.InTx(context.Background(), func(tx store.Tx) error {
			if err := tx.LockConversation(context.Background(), contacts[1], counterNumber); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	server.CommitTogether(h.srv, steps...)
	answerIs(t, steps[0], "1 a", "next")
	answerIs(t, steps[2], "1 c", "next")
	select {
	case <-steps[1].Done():
		a, err := steps[1].Wait()
		t.Fatalf("the locked conversation's step ended while its lock was held: %v %v", a, err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	answerIs(t, steps[1], "1 b", "next")
}

// panickyStore is a store whose SaveConversation panics, once armed, for
// one contact: a bug in a step's commit.
type panickyStore struct {
	store.Store
	contact atomic.Pointer[string]
}

func (p *panickyStore) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	c := p.contact.Load()
	if c == nil {
		return p.Store.InTx(ctx, fn)
	}
	return p.Store.InTx(ctx, func(tx store.Tx) error { return fn(panickyTx{tx, *c}) })
}

type panickyTx struct {
	store.Tx
	contact string
}

func (t panickyTx) SaveConversation(ctx context.Context, c *store.Conversation) error {
	if c.Contact == t.contact {
		panic("SaveConversation of " + t.contact)
	}
	return t.Tx.SaveConversation(ctx, c)
}

// TestGroupCommitPanicStaysWithItsStep: a step whose commit panics (a
// bug) does not end the process, as it did not before commits were
// grouped: its webhook is answered 500, and in a batch the panic is
// raised in that step's caller while the batch's other steps, rolled
// back with it, run again; nothing of either is stored.
func TestGroupCommitPanicStaysWithItsStep(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			real := sc.open(t)
			if real == nil {
				var err error
				if real, err = sqlite.Open(context.Background(), t.TempDir()+"/flowc.db"); err != nil {
					t.Fatal(err)
				}
			}
			st := &panickyStore{Store: real}
			h := startWith(t, setup{token: authToken, store: st}, "testdata/counter.flow")
			const bug, other = "+15550003001", "+15550003002"
			h.text(bug, counterNumber, "open")
			h.text(other, counterNumber, "open")
			buggy := bug
			st.contact.Store(&buggy)

			f := h.form("SMpanic1", bug, counterNumber, "boom")
			if code, body := h.postForm(f); code != http.StatusInternalServerError {
				t.Fatalf("a panicking commit: %d %q, want 500", code, body)
			}
			steps := []*server.Pending{prepare(t, h, "SMpanic2", bug, "boom"), prepare(t, h, "SMpanic3", other, "fine")}
			server.CommitTogether(h.srv, steps...)
			if v := steps[0].Panicked(); v == nil {
				t.Fatal("the panicking step of a batch: no panic raised for it")
			}
			if _, err := steps[1].Wait(); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("the other step of the batch: %v, want a conflict (run it again)", err)
			}
			st.contact.Store(nil)
			for _, sid := range []string{"SMpanic1", "SMpanic2", "SMpanic3"} {
				if m := h.message(sid); m != nil {
					t.Fatalf("%s stored after a panicking commit: %+v", sid, m)
				}
			}
			if code, body := h.postForm(f); code != http.StatusOK || body != twiml("1 boom", "next") {
				t.Fatalf("the retry once fixed: %d %s", code, body)
			}
			if got := h.text(other, counterNumber, "fine"); got != twiml("1 fine", "next") {
				t.Fatalf("the other conversation: %s", got)
			}
		})
	}
}
