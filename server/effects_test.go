package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// startFlow serves one flow's text with cfg's http settings over a
// fresh SQLite store (the store's contract on both stores is storetest's).
func startFlow(t *testing.T, flow string, tweak func(*server.Config)) *harness {
	t.Helper()
	return startFlowOn(t, flow, tweak, nil)
}

func startFlowOn(t *testing.T, flow string, tweak func(*server.Config), st store.Store) *harness {
	t.Helper()
	return startFlowAt(t, st, "f.flow", flow, time.Date(2026, 11, 23, 10, 0, 0, 0, ny), func(c *server.Config) {
		c.AdminToken, c.APIToken = adminTokenForEffects, ""
		if tweak != nil {
			tweak(c)
		}
	})
}

const adminTokenForEffects = "admin-token-0123456789abcdef0123"

// The attack (SSRF): a flow declares a host that is the server's own
// network (here an "internal admin" on loopback; in production a name
// that resolves to 10.x, 169.254.169.254 …). The server refuses to
// connect: the step takes on error, the internal service is never
// reached, and the trace says why.
func TestHTTPStepRefusesInternalAddresses(t *testing.T) {
	reached := false
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		w.Write([]byte(`{"secret": "internal"}`))
	}))
	defer internal.Close()
	host := strings.TrimPrefix(internal.URL, "http://")
	h := startFlow(t, `numbers "+15550100"
hosts "`+host+`"
http "`+internal.URL+`/admin" as r < on error -> reply "lookup failed" then end >
reply "got {{ r.secret }}"
`, nil)
	if got := h.text(ann, "+15550100", "hi"); got != twiml("lookup failed") {
		t.Fatalf("got %s", got)
	}
	if reached {
		t.Fatal("the internal server was reached")
	}
}

// Through the server, with internal addresses allowed (a dev setup) and
// a secret from the environment: the response routes the message.
func TestHTTPStepThroughServer(t *testing.T) {
	t.Setenv("FLOWC_SECRET_CRM_TOKEN", "tok-123")
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123" || r.URL.Query().Get("phone") != ann {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"owner": "bob"}`))
	}))
	defer crm.Close()
	host := strings.TrimPrefix(crm.URL, "http://")
	h := startFlow(t, `numbers "+15550100"
hosts "`+host+`"
http "`+crm.URL+`/contacts?phone={{ from }}" header "Authorization: Bearer ${CRM_TOKEN}" as crm < on error -> reply "lookup failed" then end >
reply "Your rep is {{ crm.owner }}."
`, func(c *server.Config) { c.HTTPAllowPrivate = true })
	if got := h.text(ann, "+15550100", "hi"); got != twiml("Your rep is bob.") {
		t.Fatalf("got %s", got)
	}
}

// untag, field and reply … once per 12h, through the server: kept in
// the store across conversations, per contact (and, for the mark, per
// business number), seen by the next message.
func TestContactEditsAndOncePerThroughServer(t *testing.T) {
	h := startFlow(t, `numbers "+15550100"
reply "We're closed." once per 12h
when "vip" in contact.tags <
  untag "vip"
  field "plan" "pro"
  reply "vip"
  end
>
reply "plan {{ contact.fields.plan ?? 'none' }}"
`, nil)
	if got := h.text(ann, "+15550100", "one"); got != twiml("We're closed.", "vip") {
		t.Fatalf("first: %s", got)
	}
	h.clock.Set(h.clock.Now().Add(time.Hour))
	if got := h.text(ann, "+15550100", "two"); got != twiml("plan pro") {
		t.Fatalf("second (no closed reply, vip removed, field set): %s", got)
	}
	h.clock.Set(h.clock.Now().Add(12 * time.Hour))
	if got := h.text(ann, "+15550100", "three"); got != twiml("We're closed.", "plan pro") {
		t.Fatalf("after the period: %s", got)
	}
	// Another contact has marks and edits of their own.
	if got := h.text("+15550009999", "+15550100", "x"); got != twiml("We're closed.", "plan none") {
		t.Fatalf("another contact: %s", got)
	}
}

// keyRecorder is an http step's client that keeps each request's
// idempotency key.
type keyRecorder struct {
	mu   sync.Mutex
	keys []string
}

func (k *keyRecorder) DoHTTP(_ context.Context, req *vm.HTTPRequest) (*vm.HTTPResponse, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = append(k.keys, req.IdempotencyKey)
	return &vm.HTTPResponse{Status: 200, Body: []byte(`{}`)}, nil
}

// TestHTTPStepIdempotencyKey: an http step's request carries a key made
// of the message's MessageSid and the step, so a step that runs again
// (a retried webhook, a commit that found the conversation changed)
// sends the same key, and another message another one.
func TestHTTPStepIdempotencyKey(t *testing.T) {
	rec := &keyRecorder{}
	h := startFlow(t, "numbers \"+15550100\"\nhosts \"crm.example.com\"\nhttp POST \"https://crm.example.com/log\" as r < on error -> end >\nreply \"ok\"\n",
		func(c *server.Config) { c.HTTP = rec })
	h.text(ann, "+15550100", "one")
	h.text(ann, "+15550100", "two")
	if len(rec.keys) != 2 || !strings.HasPrefix(rec.keys[0], "flowc-SM") || rec.keys[0] == rec.keys[1] ||
		!strings.Contains(rec.keys[0], fmt.Sprintf("SM%032d", 1)) {
		t.Fatalf("keys %q: want one per message, made of its MessageSid", rec.keys)
	}
}
