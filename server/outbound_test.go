package server_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
)

// fakeProvider is Twilio's Messages API on loopback. It fails the first
// failFirst requests, and counts accepted messages by idempotency token.
type fakeProvider struct {
	mu        sync.Mutex
	failFirst int
	requests  int
	accepted  map[string]string // token → "To|Body"
}

func newFakeProvider(t *testing.T, failFirst int) (*fakeProvider, *httptest.Server) {
	f := &fakeProvider{failFirst: failFirst, accepted: map[string]string{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests++
		if user, pass, ok := r.BasicAuth(); !ok || user != "AC123" || pass != "secret" {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/2010-04-01/Accounts/AC123/Messages.json") {
			http.Error(w, "not found: "+r.URL.Path, http.StatusNotFound)
			return
		}
		if f.requests <= f.failFirst {
			http.Error(w, "temporarily broken", http.StatusInternalServerError)
			return
		}
		r.ParseForm()
		f.accepted[r.Header.Get("I-Twilio-Idempotency-Token")] = r.PostForm.Get("To") + "|" + r.PostForm.Get("Body")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid":"SMout","status":"queued"}`)
	}))
	t.Cleanup(hs.Close)
	return f, hs
}

func (f *fakeProvider) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.accepted {
		out = append(out, m)
	}
	return out
}

func startOutbound(t *testing.T, ob *server.Outbound, paths ...string) *harness {
	h := start(t, authToken, paths...)
	h.srv.SetOutbound(ob)
	return h
}

func TestMenuTimeoutSendsThroughProviderOnce(t *testing.T) {
	prov, ps := newFakeProvider(t, 0)
	h := startOutbound(t, &server.Outbound{TwilioAPIURL: ps.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "secret"}, "testdata/timeout.flow")
	ctx := context.Background()
	contact, number := "+15550005555", "+15550910"
	if got := h.text(contact, number, "hi"); got != twiml("Reply 1 for a callback") {
		t.Fatalf("first: %s", got)
	}
	// Not yet due: nothing fires.
	h.clock.Set(h.clock.Now().Add(9 * time.Minute))
	if n, err := h.srv.FireTimers(ctx); err != nil || n != 0 {
		t.Fatalf("before the deadline: fired %d, %v", n, err)
	}
	h.clock.Set(h.clock.Now().Add(2 * time.Minute))
	for i := 0; i < 3; i++ { // firing again must not repeat anything
		if _, err := h.srv.FireTimers(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := h.srv.SendOutbox(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := prov.messages()
	if len(got) != 1 || got[0] != contact+"|No answer? A person will text you." {
		t.Fatalf("provider got %q, want exactly one timeout reply", got)
	}
	if n := len(h.inbox("team", "sales")); n != 1 {
		t.Fatalf("sales inbox has %d items, want 1", n)
	}
	// The sales inbox holds it until a member finishes it; then the next
	// message starts a new one.
	h.finish(contact, number, "alice")
	if got := h.text(contact, number, "hello"); got != twiml("Reply 1 for a callback") {
		t.Fatalf("after the timeout: %s", got)
	}
}

func TestProviderFailingTwiceStillSendsOnce(t *testing.T) {
	prov, ps := newFakeProvider(t, 2)
	h := startOutbound(t, &server.Outbound{TwilioAPIURL: ps.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "secret"}, "testdata/timeout.flow")
	ctx := context.Background()
	h.text("+15550006666", "+15550910", "hi")
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))
	if _, err := h.srv.FireTimers(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		if _, err := h.srv.SendOutbox(ctx); err != nil {
			t.Fatal(err)
		}
		h.clock.Set(h.clock.Now().Add(time.Minute)) // past every backoff
	}
	if got := prov.messages(); len(got) != 1 {
		t.Fatalf("provider accepted %d messages, want 1 (%q)", len(got), got)
	}
	if prov.requests != 3 {
		t.Fatalf("provider saw %d requests, want 3 (two failures, one success)", prov.requests)
	}
	items := h.outbox("sent")
	if len(items) != 1 || items[0].Attempts != 3 {
		t.Fatalf("outbox = %+v", items)
	}
}

func TestNothingReachesAnOptedOutContact(t *testing.T) {
	prov, ps := newFakeProvider(t, 0)
	h := startOutbound(t, &server.Outbound{TwilioAPIURL: ps.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "secret"}, "testdata/timeout.flow")
	ctx := context.Background()
	contact, number := "+15550007777", "+15550910"
	h.text(contact, number, "hi")
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))
	if _, err := h.srv.FireTimers(ctx); err != nil { // the reply is queued…
		t.Fatal(err)
	}
	h.text(contact, number, "STOP") // …and the contact opts out before it leaves
	if _, err := h.srv.SendOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if got := prov.messages(); len(got) != 0 {
		t.Fatalf("an opted-out contact was sent %q", got)
	}
	if d := h.outbox("dropped"); len(d) != 1 || d[0].LastError != "contact opted out" {
		t.Fatalf("dropped = %+v", d)
	}
}

// fakeSMTP accepts one session at a time and records each message.
func fakeSMTP(t *testing.T) (addr string, got chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				say := func(s string) { fmt.Fprintf(c, "%s\r\n", s) }
				say("220 fake ESMTP")
				var rcpt string
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						say("250 fake")
					case strings.HasPrefix(cmd, "MAIL FROM"):
						say("250 ok")
					case strings.HasPrefix(cmd, "RCPT TO"):
						rcpt = strings.TrimSpace(line[len("RCPT TO:"):])
						say("250 ok")
					case cmd == "DATA":
						say("354 go ahead")
						var b strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil || l == ".\r\n" {
								break
							}
							b.WriteString(l)
						}
						got <- rcpt + "\n" + b.String()
						say("250 queued")
					case cmd == "QUIT":
						say("221 bye")
						return
					default:
						say("250 ok")
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), got
}

func TestEmailForwardReachesSMTP(t *testing.T) {
	addr, got := fakeSMTP(t)
	h := startOutbound(t, &server.Outbound{SMTPAddr: addr, SMTPFrom: "flowc@example.com"}, "../examples")
	h.text("+15550008888", "+15550300", "Is the store open on Sunday?")
	if _, err := h.srv.SendOutbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if !strings.HasPrefix(m, "<owner@example.com>") || !strings.Contains(m, "Is the store open on Sunday?") || !strings.Contains(m, "Subject: SMS from +15550008888 to +15550300") {
			t.Fatalf("SMTP got:\n%s", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no e-mail reached the SMTP server")
	}
	if s := h.outbox("sent"); len(s) != 1 {
		t.Fatalf("outbox sent = %+v", s)
	}
}

func TestWebhookForwardIsSigned(t *testing.T) {
	const secret = "whsec-test"
	type delivery struct {
		sig, id string
		body    []byte
	}
	got := make(chan delivery, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get("X-Flowc-Signature"), r.Header.Get("X-Flowc-Event-Id"), b}
	}))
	defer hook.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "agents.flow"), []byte(fmt.Sprintf("flow agents\nnumbers \"+15550920\"\ntimezone \"UTC\"\n\nforward webhook:%q\n", hook.URL+"/inbound")), 0o644)
	h := startOutbound(t, &server.Outbound{WebhookSecret: secret}, dir)
	h.text("+15550009999", "+15550920", "I need a person")
	if _, err := h.srv.SendOutbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := <-got
	// Verify as a receiver would: t=…,v1=HMAC-SHA256(secret, t + "." + body).
	parts := map[string]string{}
	for _, kv := range strings.Split(d.sig, ",") {
		k, v, _ := strings.Cut(kv, "=")
		parts[k] = v
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts["t"] + "."))
	mac.Write(d.body)
	if want := hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(parts["v1"])) {
		t.Fatalf("signature %q does not verify", d.sig)
	}
	if !strings.Contains(string(d.body), `"body":"I need a person"`) || d.id == "" {
		t.Fatalf("delivery = %+v", d)
	}
}

func (h *harness) outbox(status string) []store.OutboxItem {
	h.t.Helper()
	var items []store.OutboxItem
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		items, err = tx.(store.OutboxTx).OutboxItems(context.Background(), status, 0)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return items
}
