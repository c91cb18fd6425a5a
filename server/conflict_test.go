package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
	"github.com/flowc-dev/flowc/server/store/sqlite"
	"github.com/flowc-dev/flowc/vm"
)

// TestReplicaCommitFirstMakesTheOtherRunAgain: replica A holds a
// message's applet while replica B handles the next message of the same
// conversation and commits. A's commit then finds the conversation's
// revision moved, and A runs its step again on B's state: no update is
// lost (the count goes 1, 2), and A's applet is called twice.
func TestReplicaCommitFirstMakesTheOtherRunAgain(t *testing.T) {
	opens := []struct {
		name string
		two  func(t *testing.T) (store.Store, store.Store)
	}{
		{"sqlite", func(t *testing.T) (store.Store, store.Store) {
			path := t.TempDir() + "/flowc.db"
			return openSQLite(t, path), openSQLite(t, path)
		}},
		{"postgres", func(t *testing.T) (store.Store, store.Store) {
			u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
			return openPostgres(t, u), openPostgres(t, u)
		}},
	}
	for _, o := range opens {
		t.Run(o.name, func(t *testing.T) {
			stA, stB := o.two(t)
			var calls atomic.Int32
			entered, release := make(chan struct{}), make(chan struct{})
			applets := func(ctx context.Context, _ *vm.Applet, in vm.AppletInput) (any, error) {
				arg := fmt.Sprint(in.Args...)
				if arg == "slow" && calls.Add(1) == 1 { // only A's first run is held
					close(entered)
					<-release
				}
				return arg, nil
			}
			a := startWith(t, setup{token: authToken, store: stA, applets: applets}, "testdata/slowcount.flow")
			b := startWith(t, setup{token: authToken, store: stB, applets: applets}, "testdata/slowcount.flow")
			const from, to = "+15550005555", "+15550970"
			if got := a.text(from, to, "open"); got != twiml("next") {
				t.Fatalf("open: %s", got)
			}
			done := make(chan string)
			go func() {
				f := a.form("SMreplicaA", from, to, "slow")
				code, body := a.postForm(f)
				done <- fmt.Sprint(code, " ", body)
			}()
			<-entered
			f := b.form("SMreplicaB", from, to, "fast")
			if code, body := b.postForm(f); code != http.StatusOK || body != twiml("1 fast", "next") {
				t.Fatalf("B: %d %s", code, body)
			}
			close(release)
			if got, want := <-done, fmt.Sprint("200 ", twiml("2 slow", "next")); got != want {
				t.Fatalf("A answered %q, want %q (its step must run again on B's state)", got, want)
			}
			if n := calls.Load(); n != 2 {
				t.Fatalf("A's applet ran %d times, want 2 (held, then again after the conflict)", n)
			}
			if code, got := b.postForm(b.form("SMreplicaB2", from, to, "after")); code != http.StatusOK || got != twiml("3 after", "next") {
				t.Fatalf("next message: %d %s", code, got)
			}
		})
	}
}

// TestSameSIDOnTwoReplicasCommitsOnce: a provider's retry reaching
// replica B while replica A still runs the first delivery's applet. Both
// run the step, B commits first; A's commit finds the conversation's
// revision moved (or, had it got that far, the MessageSid's insert would
// fail), rolls back, and A's next read finds the MessageSid stored and
// answers what B answered, writing nothing: the count moves once.
func TestSameSIDOnTwoReplicasCommitsOnce(t *testing.T) {
	u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	applets := func(ctx context.Context, _ *vm.Applet, in vm.AppletInput) (any, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		return fmt.Sprint(in.Args...), nil
	}
	a := startWith(t, setup{token: authToken, store: openPostgres(t, u), applets: applets}, "testdata/slowcount.flow")
	b := startWith(t, setup{token: authToken, store: openPostgres(t, u), applets: applets}, "testdata/slowcount.flow")
	const from, to = "+15550007777", "+15550970"
	if got := a.text(from, to, "open"); got != twiml("next") {
		t.Fatalf("open: %s", got)
	}
	f := a.form("SMtwice", from, to, "hello")
	done := make(chan string)
	go func() { code, body := a.postForm(f); done <- fmt.Sprint(code, " ", body) }()
	<-entered
	want := fmt.Sprint("200 ", twiml("1 hello", "next"))
	if code, body := b.postForm(f); fmt.Sprint(code, " ", body) != want {
		t.Fatalf("B: %d %s, want %s", code, body, want)
	}
	close(release)
	if got := <-done; got != want {
		t.Fatalf("A answered %q, want B's answer %q", got, want)
	}
	if code, got := b.postForm(b.form("SMtwice2", from, to, "again")); code != http.StatusOK || got != twiml("2 again", "next") {
		t.Fatalf("next message: %d %s (the retried message must count once)", code, got)
	}
}

func openSQLite(t *testing.T, path string) store.Store {
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func openPostgres(t *testing.T, u string) store.Store {
	st, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// alwaysConflicting is a store on which every revision check fails, as
// if other replicas kept committing steps of every conversation.
type alwaysConflicting struct{ store.Store }

func (s alwaysConflicting) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error { return fn(conflictingTx{tx, tx.(store.DeployTx)}) })
}

type conflictingTx struct {
	store.Tx
	store.DeployTx
}

func (conflictingTx) AdvanceRevision(context.Context, string, string, int64) error {
	return fmt.Errorf("test: %w", store.ErrConflict)
}

func (conflictingTx) AdvanceRevisionRouted(context.Context, string, string, int64, int64) (bool, error) {
	return false, fmt.Errorf("test: %w", store.ErrConflict)
}

// TestEndlessConflictsGiveUpWith503: a step whose commit keeps finding
// its conversation changed runs at most server.MaxStepAttempts times,
// then the webhook answers 503 (the provider retries later) and nothing
// is stored.
func TestEndlessConflictsGiveUpWith503(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/flowc.db")
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	applets := func(context.Context, *vm.Applet, vm.AppletInput) (any, error) { runs.Add(1); return "x", nil }
	h := startWith(t, setup{token: authToken, store: alwaysConflicting{st}, applets: applets}, "testdata/slow.flow")
	code, body := h.postForm(h.form("SMconflicts", ann, "+15550950", "hi"))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, fmt.Sprintf("changed during each of %d attempts", server.MaxStepAttempts)) {
		t.Fatalf("%d %q, want 503", code, body)
	}
	if n := runs.Load(); n != server.MaxStepAttempts {
		t.Fatalf("the step ran %d times, want server.MaxStepAttempts = %d", n, server.MaxStepAttempts)
	}
	if m := h.message("SMconflicts"); m != nil {
		t.Fatalf("stored anyway: %+v", m)
	}
}
