package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
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
