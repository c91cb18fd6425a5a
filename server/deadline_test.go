package server_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// deadline is the webhook deadline of these tests, and margin the wide
// allowance of a loaded machine on top of it: far below Twilio's 15 s,
// and far above the deadline, so the bound can only hold if the request
// stopped waiting at its deadline.
const (
	deadline = time.Second
	margin   = 4 * time.Second
)

// TestStuckConversationAnswers503InTime: while a stuck transaction holds
// a conversation's lock (on SQLite: the database's one connection, on
// PostgreSQL: the conversation's advisory lock), a message of that
// conversation is answered 503 within the webhook deadline, not after
// Twilio gave up; once the transaction is gone the provider's retry of
// the same message is handled normally (nothing was written by the 503).
func TestStuckConversationAnswers503InTime(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startWith(t, setup{token: authToken, store: sc.open(t), deadline: deadline}, "testdata/counter.flow")
			locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- h.store.InTx(context.Background(), func(tx store.Tx) error {
					if err := tx.LockConversation(context.Background(), ann, "+15550900"); err != nil {
						return err
					}
					close(locked)
					<-release
					return nil
				})
			}()
			<-locked
			// Without a deadline the request would wait for the stuck
			// transaction: end it after the bound, so such a request fails
			// the test instead of hanging it.
			unstick := sync.OnceFunc(func() { close(release) })
			time.AfterFunc(deadline+margin+time.Second, unstick)
			f := h.form("SMstuck1", ann, "+15550900", "hi")
			start := time.Now()
			code, body := h.postForm(f)
			took := time.Since(start)
			unstick()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if code != http.StatusServiceUnavailable {
				t.Fatalf("behind a stuck transaction: %d %q, want 503", code, body)
			}
			if took > deadline+margin {
				t.Fatalf("answered after %v; the deadline is %v", took, deadline)
			}
			if code, body := h.postForm(f); code != http.StatusOK || !strings.Contains(body, "<Message>next</Message>") {
				t.Fatalf("the retry: %d %q", code, body)
			}
			if m := h.message("SMstuck1"); m == nil || m.Outcome != "routed" {
				t.Fatalf("stored after the retry: %+v", m)
			}
		})
	}
}

// TestLockedSQLiteFileAnswers503InTime: while another process holds the
// SQLite file's write lock (a second connection, as a backup tool or a
// second server on the file would), the webhook answers 503 within its
// deadline plus one busy_timeout (2 s: the driver's busy wait does not
// end with the context), not after InTx's retries.
func TestLockedSQLiteFileAnswers503InTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flowc.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	h := startWith(t, setup{token: authToken, store: st, deadline: deadline}, "testdata/counter.flow")
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	f := h.form("SMfilelock", ann, "+15550900", "hi")
	start := time.Now()
	code, body := h.postForm(f)
	took := time.Since(start)
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || took > deadline+2*time.Second+margin {
		t.Fatalf("behind another process's write lock: %d %q after %v", code, body, took)
	}
	if code, _ := h.postForm(f); code != http.StatusOK {
		t.Fatalf("the retry: %d", code)
	}
}
