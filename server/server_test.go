package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	_ "time/tzdata"

	twilioclient "github.com/twilio/twilio-go/client"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
	"github.com/flowc-dev/flowc/vm"
)

const authToken = "test-auth-token-0123456789abcdef"

// quiet drops the server's request logs in tests.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type harness struct {
	t     *testing.T
	srv   *server.Server
	http  *httptest.Server
	store store.Store
	clock *clock
	seq   int
	// tokens are the per-user tokens made for the agent API (agent_test.go).
	tokens map[string]string
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var ny = func() *time.Location { l, _ := time.LoadLocation("America/New_York"); return l }()

// start serves the flows under paths on a fresh database, as `flowc serve` does.
func start(t *testing.T, token string, paths ...string) *harness {
	t.Helper()
	return startWith(t, setup{token: token}, paths...)
}

// setup is what startWith varies.
type setup struct {
	token    string
	apiToken string      // FLOWC_API_TOKEN, for POST /v1/messages
	store    store.Store // nil: a fresh SQLite database
	applets  func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error)
	deadline time.Duration    // Config.WebhookDeadline; 0: the default
	outbound *server.Outbound // Config.Outbound; nil: none
}

func startWith(t *testing.T, o setup, paths ...string) *harness {
	t.Helper()
	res, err := lang.Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() {
		t.Fatalf("flows do not compile: %v %v", res.Diags.Err(), cd.Err())
	}
	dir, err := server.LoadDirectory("../examples/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	st := o.store
	if st == nil {
		if st, err = sqlite.Open(context.Background(), t.TempDir()+"/flowc.db"); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, ny)}
	srv := server.New(server.Config{TwilioAuthToken: o.token, Directory: dir, Now: clk.Now, Logger: quiet, Applets: o.applets, APIToken: o.apiToken,
		WebhookDeadline: o.deadline, Outbound: o.outbound}, st)
	if err := srv.Deploy(context.Background(), progs); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); st.Close() })
	return &harness{t: t, srv: srv, http: hs, store: st, clock: clk}
}

// sign signs a form as Twilio does, and checks the signature with the
// official twilio-go validator: an independent check of the scheme.
func (h *harness) sign(path string, form url.Values) string {
	full := h.http.URL + path
	sig := server.TwilioSignature(authToken, full, form)
	params := map[string]string{}
	for k := range form {
		params[k] = form.Get(k)
	}
	validator := twilioclient.NewRequestValidator(authToken)
	if !validator.Validate(full, params, sig) {
		h.t.Fatalf("twilio-go's RequestValidator rejects our signature for %s", full)
	}
	return sig
}

func (h *harness) post(form url.Values, sig string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) form(sid, from, to, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"},
		"AccountSid": {"AC0123"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
}

// text sends a signed message and returns the TwiML.
func (h *harness) text(from, to, body string) string {
	h.t.Helper()
	h.seq++
	f := h.form(fmt.Sprintf("SM%032d", h.seq), from, to, body)
	code, out := h.post(f, h.sign("/webhooks/twilio/sms", f))
	if code != http.StatusOK {
		h.t.Fatalf("POST %q: %d %s", body, code, out)
	}
	return out
}

func (h *harness) inbox(kind, name string) []store.InboxItem {
	h.t.Helper()
	var items []store.InboxItem
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		items, err = tx.InboxItems(context.Background(), kind, name, true)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return items
}

func twiml(msgs ...string) string {
	return server.TwiML(msgs)
}

const ann = "+15557654321"

func TestMenuConversationAcrossMessages(t *testing.T) {
	h := start(t, authToken, "../examples")
	if got := h.text(ann, "+15550100", "hi"); got != twiml("Reply 1 for sales, 2 for support") {
		t.Fatalf("first message: %s", got)
	}
	if got := h.text(ann, "+15550100", "x"); got != twiml("Please reply 1 or 2.", "Reply 1 for sales, 2 for support") {
		t.Fatalf("wrong key: %s", got)
	}
	if got := h.text(ann, "+15550100", "2"); got != twiml("Thanks Ann! Support will text you shortly.") {
		t.Fatalf("key 2: %s", got)
	}
	items := h.inbox("team", "support")
	if len(items) != 1 || items[0].Body != "2" || items[0].Contact != ann {
		t.Fatalf("support inbox = %+v", items)
	}
	// The support team's inbox holds the conversation: the next text joins
	// it (no answer, the flow does not run) until a member finishes it.
	if got := h.text(ann, "+15550100", "are you there?"); got != twiml() {
		t.Fatalf("a text while the inbox holds the conversation: %s", got)
	}
	h.finish(ann, "+15550100", "carol")
	// Then the next message starts the flow again.
	if got := h.text(ann, "+15550100", "hello again"); got != twiml("Reply 1 for sales, 2 for support") {
		t.Fatalf("new conversation: %s", got)
	}
	// After hours: the closed reply and the sales inbox.
	h.clock.Set(time.Date(2026, 11, 23, 20, 0, 0, 0, ny))
	if got := h.text("+15550001111", "+15550101", "hi"); got != twiml("We're closed. We'll text you back at 9am.") {
		t.Fatalf("after hours: %s", got)
	}
	if n := len(h.inbox("team", "sales")); n != 1 {
		t.Fatalf("sales inbox has %d items, want 1", n)
	}
}

func TestRetriedMessageSidIsAnsweredTheSameAndChangesNothing(t *testing.T) {
	h := start(t, authToken, "../examples")
	h.clock.Set(time.Date(2026, 11, 23, 20, 0, 0, 0, ny))
	f := h.form("SMretry000000000000000000000000001", ann, "+15550100", "hello")
	sig := h.sign("/webhooks/twilio/sms", f)
	code1, first := h.post(f, sig)
	code2, second := h.post(f, sig)
	if code1 != 200 || code2 != 200 || first != second {
		t.Fatalf("retry answered differently:\n%d %s\n%d %s", code1, first, code2, second)
	}
	if first != twiml("We're closed. We'll text you back at 9am.") {
		t.Fatalf("answer: %s", first)
	}
	if n := len(h.inbox("team", "sales")); n != 1 {
		t.Fatalf("sales inbox has %d items after a retry, want 1", n)
	}
	// Even when the world changed in between (now in hours), the retry
	// gets the stored answer.
	h.clock.Set(time.Date(2026, 11, 24, 10, 0, 0, 0, ny))
	if _, third := h.post(f, sig); third != first {
		t.Fatalf("later retry: %s", third)
	}
}

func TestStopStartHelp(t *testing.T) {
	h := start(t, authToken, "../examples")
	num := "+15550100"
	if got := h.text(ann, num, "hi"); got != twiml("Reply 1 for sales, 2 for support") {
		t.Fatalf("hi: %s", got)
	}
	if got := h.text(ann, num, "Stop"); got != twiml(server.OptOutConfirmation) {
		t.Fatalf("STOP: %s", got)
	}
	if got := h.text(ann, num, "STOP"); got != twiml() {
		t.Fatalf("second STOP must not confirm again: %s", got)
	}
	if got := h.text(ann, num, "1"); got != twiml() {
		t.Fatalf("an opted-out contact got an answer: %s", got)
	}
	if got := h.text(ann, num, "help"); got != twiml() {
		t.Fatalf("an opted-out contact got HELP: %s", got)
	}
	if n := len(h.inbox("team", "sales")); n != 0 {
		t.Fatalf("messages after STOP were routed: %d inbox items", n)
	}
	if got := h.text(ann, num, "start"); got != twiml(server.OptInConfirmation) {
		t.Fatalf("START: %s", got)
	}
	if got := h.text(ann, num, "HELP"); got != twiml("Sales line of Example Co. Reply STOP to opt out.") {
		t.Fatalf("HELP: %s", got)
	}
	// STOP is per number: another number of the same flow still answers.
	h.text(ann, "+15550101", "stop")
	if got := h.text(ann, num, "hi"); got != twiml("Reply 1 for sales, 2 for support") {
		t.Fatalf("after START: %s", got)
	}
	// A sentence containing stop is not an opt-out.
	if got := h.text("+15550002222", num, "please don't stop"); got != twiml("Reply 1 for sales, 2 for support") {
		t.Fatalf("sentence: %s", got)
	}
}

func TestBadInput(t *testing.T) {
	h := start(t, authToken, "../examples")
	good := h.form("SMbad00000000000000000000000000001", ann, "+15550100", "hi")
	t.Run("bad signature is 403", func(t *testing.T) {
		if code, _ := h.post(good, "bm90IGEgc2lnbmF0dXJl"); code != http.StatusForbidden {
			t.Fatalf("code %d", code)
		}
		if code, _ := h.post(good, ""); code != http.StatusForbidden {
			t.Fatalf("missing signature: code %d", code)
		}
	})
	for _, field := range []string{"MessageSid", "From", "To"} {
		t.Run("missing "+field+" is 400 naming it", func(t *testing.T) {
			f := h.form("SMbad00000000000000000000000000002", ann, "+15550100", "hi")
			f.Del(field)
			code, body := h.post(f, h.sign("/webhooks/twilio/sms", f))
			if code != http.StatusBadRequest || !strings.Contains(body, field) {
				t.Fatalf("code %d body %q", code, body)
			}
		})
	}
	t.Run("body over 64 KiB is 413", func(t *testing.T) {
		f := h.form("SMbad00000000000000000000000000003", ann, "+15550100", strings.Repeat("x", 70<<10))
		if code, _ := h.post(f, "unchecked"); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("code %d", code)
		}
	})
	t.Run("absurdly long message is 413", func(t *testing.T) {
		f := h.form("SMbad00000000000000000000000000004", ann, "+15550100", strings.Repeat("y", 20000))
		code, body := h.post(f, h.sign("/webhooks/twilio/sms", f))
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "Body") {
			t.Fatalf("code %d %q", code, body)
		}
	})
	t.Run("invalid UTF-8 is 400", func(t *testing.T) {
		f := h.form("SMbad00000000000000000000000000005", ann, "+15550100", "bad \xff\xfe")
		code, body := h.post(f, h.sign("/webhooks/twilio/sms", f))
		if code != http.StatusBadRequest || !strings.Contains(body, "UTF-8") {
			t.Fatalf("code %d %q", code, body)
		}
	})
	t.Run("a number with no flow is answered 200 and stored", func(t *testing.T) {
		f := h.form("SMbad00000000000000000000000000006", ann, "+15559999999", "hi")
		code, body := h.post(f, h.sign("/webhooks/twilio/sms", f))
		if code != http.StatusOK || body != twiml() {
			t.Fatalf("code %d %q", code, body)
		}
		var m *store.Message
		h.store.InTx(context.Background(), func(tx store.Tx) error {
			m, _ = tx.MessageBySID(context.Background(), "SMbad00000000000000000000000000006")
			return nil
		})
		if m == nil || m.Outcome != "no-flow" {
			t.Fatalf("stored message = %+v", m)
		}
	})
	t.Run("unknown parameters are tolerated", func(t *testing.T) {
		f := h.form("SMbad00000000000000000000000000007", ann, "+15550100", "hi")
		f.Set("FromCity", "SPRINGFIELD")
		f.Set("SomethingNew", "1")
		if code, _ := h.post(f, h.sign("/webhooks/twilio/sms", f)); code != http.StatusOK {
			t.Fatalf("code %d", code)
		}
	})
}

func TestJSONEndpointInDevMode(t *testing.T) {
	h := start(t, "", "../examples")
	h.clock.Set(time.Date(2026, 11, 23, 20, 0, 0, 0, ny))
	body := `{"sid":"J1","from":"+15550003333","to":"+15550100","body":"hi"}`
	resp, err := http.Post(h.http.URL+"/v1/messages", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans server.Answer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	if ans.Outcome != "routed" || len(ans.Replies) != 1 || ans.Replies[0] != "We're closed. We'll text you back at 9am." {
		t.Fatalf("answer %+v", ans)
	}
	resp2, _ := http.Post(h.http.URL+"/v1/messages", "application/json", strings.NewReader(`{"sid":"J2","to":"+15550100"}`))
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != 400 || !strings.Contains(string(b), "from") {
		t.Fatalf("missing from: %d %s", resp2.StatusCode, b)
	}
}

// TestOneContactInArrivalOrder: 50 messages from one contact, all in
// flight at once, are handled one after another in the order they
// arrived.
func TestOneContactInArrivalOrder(t *testing.T) {
	h := start(t, authToken, "testdata/counter.flow")
	const n = 50
	from, to := "+15550004444", "+15550900"
	if got := h.text(from, to, "open"); got != twiml("next") {
		t.Fatalf("first: %s", got)
	}
	key := from + "\x00" + to
	// Hold the conversation, queue all 50 in a known arrival order, release.
	server.LockConversation(h.srv, key)
	queued := make(chan struct{}, 1)
	server.SetQueuedHook(h.srv, func(k string) {
		if k == key {
			queued <- struct{}{}
		}
	})
	replies := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ans, err := h.srv.Handle(context.Background(), server.Inbound{SID: fmt.Sprintf("SMorder%03d", i), From: from, To: to, Body: fmt.Sprint(i)}, server.JSONFields)
			if err != nil {
				t.Error(err)
				return
			}
			replies[i] = strings.Join(ans.Replies, "|")
		}(i)
		<-queued
	}
	server.UnlockConversation(h.srv, key)
	wg.Wait()
	for i := 0; i < n; i++ {
		if want := fmt.Sprintf("%d %d|next", i+1, i); replies[i] != want {
			t.Fatalf("message %d answered %q, want %q (handled out of order)", i, replies[i], want)
		}
	}
}

// TestManyContactsConcurrentlyLoseNothing: 1,000 concurrent messages
// from different contacts are all stored and routed.
func TestManyContactsConcurrentlyLoseNothing(t *testing.T) {
	h := start(t, authToken, "../examples")
	h.clock.Set(time.Date(2026, 11, 23, 20, 0, 0, 0, ny)) // closed: one inbox item each
	const n = 1000
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			f := h.form(fmt.Sprintf("SMmany%05d", i), fmt.Sprintf("+1555%07d", i), "+15550200", "hello")
			full := h.http.URL + "/webhooks/twilio/sms"
			req, _ := http.NewRequest(http.MethodPost, full, strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", server.TwilioSignature(authToken, full, f))
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode != 200 {
				mu.Lock()
				failures++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if failures > 0 {
		t.Fatalf("%d of %d requests failed", failures, n)
	}
	if got := len(h.inbox("team", "front-desk")); got != n {
		t.Fatalf("front-desk inbox has %d items, want %d", got, n)
	}
}

func TestReadyz(t *testing.T) {
	h := start(t, authToken, "../examples")
	get := func(path string) int {
		resp, err := http.Get(h.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("/readyz") != 200 || get("/healthz") != 200 {
		t.Fatal("ready server not ready")
	}
	h.srv.SetReady(false)
	if get("/readyz") != 503 {
		t.Fatal("draining server still ready")
	}
	h.text(ann, "+15550100", "hi")
	resp, _ := http.Get(h.http.URL + "/metrics")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `flowc_messages_total{flow="sales",outcome="routed"} 1`) {
		t.Fatalf("metrics do not count the message:\n%s", b)
	}
}
