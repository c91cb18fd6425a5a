package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
)

// scriptedProvider is Twilio's Messages API answering what answer says,
// recording every request's form, and telling sent about each 2xx.
type scriptedProvider struct {
	mu     sync.Mutex
	forms  []url.Values
	answer func(n int, form url.Values) (status int, header http.Header, body string) // n counts from 1
	sent   chan string                                                                // To of each accepted message
}

func newScriptedProvider(t *testing.T, answer func(n int, form url.Values) (int, http.Header, string)) (*scriptedProvider, *server.Outbound) {
	p := &scriptedProvider{answer: answer, sent: make(chan string, 100)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		p.forms = append(p.forms, r.PostForm)
		n := len(p.forms)
		p.mu.Unlock()
		status, header, body := p.answer(n, r.PostForm)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
		if status/100 == 2 {
			p.sent <- r.PostForm.Get("To")
		}
	}))
	t.Cleanup(hs.Close)
	return p, &server.Outbound{TwilioAPIURL: hs.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "secret"}
}

func (p *scriptedProvider) requests() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.forms...)
}

func accepted(sid string) (int, http.Header, string) {
	return http.StatusCreated, nil, fmt.Sprintf(`{"sid":%q,"status":"queued"}`, sid)
}

// hungSMTP accepts connections and never says a word.
type hungSMTP struct {
	addr  string
	conns chan net.Conn
}

func newHungSMTP(t *testing.T) *hungSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hungSMTP{addr: ln.Addr().String(), conns: make(chan net.Conn, 100)}
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			h.conns <- c
		}
	}()
	return h
}

// runWorkers starts the background workers on ticks the test sends;
// they stop when the test ends.
func runWorkers(t *testing.T, h *harness) (timerTicks, deliveryTicks chan time.Time) {
	timerTicks, deliveryTicks = make(chan time.Time), make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { server.RunWorkers(h.srv, ctx, timerTicks, deliveryTicks); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return timerTicks, deliveryTicks
}

// tick wakes a worker and returns once its round has ended: the loop
// takes the second tick only after finishing the round of the first.
func tick(ch chan time.Time, now time.Time) {
	ch <- now
	ch <- now
}

func waitFor[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second): // a failure bound only: this takes milliseconds
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// TestHungSMTPStallsNothing: an SMTP server that accepts connections and
// never answers holds the e-mail deliveries (at most PerDestination of
// them), while other contacts' menu timeouts still fire on their tick and
// their SMS still leave.
func TestHungSMTPStallsNothing(t *testing.T) {
	smtp := newHungSMTP(t)
	prov, ob := newScriptedProvider(t, func(n int, _ url.Values) (int, http.Header, string) { return accepted(fmt.Sprintf("SMout%d", n)) })
	ob.SMTPAddr, ob.SMTPTimeout = smtp.addr, time.Hour // only the deadline of a delivery would end it
	h := startOutbound(t, ob, "testdata/timeout.flow", "../examples")
	emails := server.PerDestination + 2
	for i := range emails {
		h.text(fmt.Sprintf("+1555001%04d", i), "+15550300", "Is the store open on Sunday?") // forwarded by e-mail
	}
	h.text("+15550002001", "+15550910", "hi") // menus with a 10-minute timeout
	h.text("+15550002002", "+15550910", "hi")

	timers, deliveries := runWorkers(t, h)
	for range server.PerDestination {
		waitFor(t, smtp.conns, "the e-mail deliveries to connect")
	}
	fireAt := h.clock.Now().Add(11 * time.Minute)
	h.clock.Set(fireAt)
	tick(timers, fireAt)
	tick(deliveries, fireAt)
	got := map[string]bool{waitFor(t, prov.sent, "the first timeout SMS"): true, waitFor(t, prov.sent, "the second timeout SMS"): true}
	if !got["+15550002001"] || !got["+15550002002"] {
		t.Fatalf("provider got SMS for %v, want both contacts", got)
	}
	sms, attempted, waiting := 0, 0, 0
	for _, it := range h.outbox("") {
		switch {
		case it.Kind == "sms":
			sms++
			if !it.Created.Equal(fireAt) {
				t.Errorf("timeout reply queued at %s, want the first tick after the deadline (%s)", it.Created, fireAt)
			}
		case it.Kind == "email" && it.Status == "pending" && it.Attempts == 1:
			attempted++
		case it.Kind == "email" && it.Status == "pending" && it.Attempts == 0:
			waiting++
		default:
			t.Errorf("unexpected item %+v", it)
		}
	}
	if sms != 2 || attempted != server.PerDestination || waiting != emails-server.PerDestination {
		t.Fatalf("outbox: %d SMS, %d e-mails in flight, %d waiting; want 2, %d, %d", sms, attempted, waiting, server.PerDestination, emails-server.PerDestination)
	}
}

// enqueue puts an SMS reply to contact in the outbox, as a timer does.
func enqueue(t *testing.T, h *harness, contact, number, messageSID string) int64 {
	t.Helper()
	o := &store.OutboxItem{Kind: "sms", To: contact, From: number, Body: "hello", Contact: contact, MessageSID: messageSID,
		Created: h.clock.Now(), NotBefore: h.clock.Now()}
	if err := h.store.InTx(context.Background(), func(tx store.Tx) error { return tx.Enqueue(context.Background(), o) }); err != nil {
		t.Fatal(err)
	}
	return o.ID
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	for _, c := range []struct {
		name, header string
		wait         time.Duration
	}{
		{"seconds", "120", 120 * time.Second},
		{"http date", "", 90 * time.Second}, // set below from the clock
	} {
		t.Run(c.name, func(t *testing.T) {
			var h *harness
			prov, ob := newScriptedProvider(t, func(n int, _ url.Values) (int, http.Header, string) {
				if n == 1 {
					ra := c.header
					if ra == "" {
						ra = h.clock.Now().Add(c.wait).UTC().Format(http.TimeFormat)
					}
					return http.StatusTooManyRequests, http.Header{"Retry-After": {ra}}, `{"code":20429,"message":"Too Many Requests"}`
				}
				return accepted("SMok")
			})
			h = startOutbound(t, ob, "testdata/timeout.flow")
			enqueue(t, h, "+15550003001", "+15550910", "SMin1")
			if _, err := h.srv.SendOutbox(context.Background()); err != nil {
				t.Fatal(err)
			}
			pending := h.outbox("pending")
			if len(pending) != 1 || !pending[0].NotBefore.Equal(h.clock.Now().Add(c.wait)) || !strings.Contains(pending[0].LastError, "429") {
				t.Fatalf("after a 429: %+v, want it pending until %s", pending, h.clock.Now().Add(c.wait))
			}
			// Not before the time the provider asked for…
			h.clock.Set(h.clock.Now().Add(c.wait - time.Second))
			h.srv.SendOutbox(context.Background())
			if n := len(prov.requests()); n != 1 {
				t.Fatalf("%d requests before Retry-After passed, want 1", n)
			}
			// …and then it goes.
			h.clock.Set(h.clock.Now().Add(time.Second))
			if n, err := h.srv.SendOutbox(context.Background()); err != nil || n != 1 {
				t.Fatalf("after Retry-After: sent %d, %v", n, err)
			}
		})
	}
}

func TestCarrierOptOutOptsTheContactOut(t *testing.T) {
	prov, ob := newScriptedProvider(t, func(int, url.Values) (int, http.Header, string) {
		return http.StatusBadRequest, nil, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`
	})
	h := startOutbound(t, ob, "testdata/timeout.flow")
	contact, number := "+15550003002", "+15550910"
	enqueue(t, h, contact, number, "SMin1")
	h.srv.SendOutbox(context.Background())
	if d := h.outbox("dropped"); len(d) != 1 || !strings.Contains(d[0].LastError, "21610") {
		t.Fatalf("dropped = %+v, want the item dropped with the 21610 answer", d)
	}
	// The contact is opted out of the number: nothing more is tried.
	enqueue(t, h, contact, number, "SMin2")
	h.srv.SendOutbox(context.Background())
	if n := len(prov.requests()); n != 1 {
		t.Fatalf("provider saw %d requests, want 1 (the second item is dropped as opted out)", n)
	}
	if d := h.outbox("dropped"); len(d) != 2 || d[1].LastError != "contact opted out" {
		t.Fatalf("dropped = %+v", d)
	}
	// A text from them now is answered as from an opted-out contact.
	if got := h.text(contact, number, "hi"); got != twiml() {
		t.Fatalf("an opted-out contact was answered %s", got)
	}
}

func TestProviderErrorsPermanentOrRetried(t *testing.T) {
	answers := map[string]int{"+15550003010": 400, "+15550003011": 401, "+15550003012": 500, "+15550003013": 503}
	_, ob := newScriptedProvider(t, func(_ int, f url.Values) (int, http.Header, string) {
		return answers[f.Get("To")], nil, `{"code":21211,"message":"Invalid 'To' Phone Number"}`
	})
	h := startOutbound(t, ob, "testdata/timeout.flow")
	for to := range answers {
		enqueue(t, h, to, "+15550910", "SMin")
	}
	h.srv.SendOutbox(context.Background())
	for _, it := range h.outbox("") {
		want := "pending"
		if answers[it.To] < 500 {
			want = "dropped"
		}
		if it.Status != want || !strings.Contains(it.LastError, fmt.Sprint(answers[it.To])) || it.Attempts != 1 {
			t.Errorf("answered %d: %s after %d attempts (%q), want %s with the error kept", answers[it.To], it.Status, it.Attempts, it.LastError, want)
		}
	}
}

func TestSMSCarryStatusCallbackAndMessagingService(t *testing.T) {
	prov, ob := newScriptedProvider(t, func(int, url.Values) (int, http.Header, string) { return accepted("SMx") })
	ob.TwilioMessagingServiceSID = "MG123"
	h := startOutbound(t, ob, "testdata/timeout.flow")
	srv := server.New(server.Config{PublicURL: "https://sms.example.com/", Outbound: ob, Now: h.clock.Now, Logger: quiet}, h.store)
	enqueue(t, h, "+15550003020", "+15550910", "SMin")
	if n, err := srv.SendOutbox(context.Background()); err != nil || n != 1 {
		t.Fatalf("sent %d, %v", n, err)
	}
	f := prov.requests()[0]
	if f.Get("StatusCallback") != "https://sms.example.com/webhooks/twilio/status" || f.Get("MessagingServiceSid") != "MG123" || f.Has("From") {
		t.Fatalf("provider got %v", f)
	}
	if s := h.outbox("sent"); len(s) != 1 || s[0].ProviderSID != "SMx" || s[0].DeliveryStatus != "queued" {
		t.Fatalf("sent = %+v, want provider sid SMx, status queued", s)
	}
}

// postSigned posts a signed Twilio form to path.
func (h *harness) postSigned(path string, form url.Values) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", h.sign(path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func report(sid, status, code string) url.Values {
	f := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {"AC123"}, "From": {"+15550910"}, "To": {"+15550004001"}, "ApiVersion": {"2010-04-01"}}
	if code != "" {
		f.Set("ErrorCode", code)
	}
	return f
}

// TestStatusCallbacksRecorded: reports are kept against the item sent
// as their sid, in order of a message's life whatever order they come
// in, and shown with the message that caused the send.
func TestStatusCallbacksRecorded(t *testing.T) {
	_, ob := newScriptedProvider(t, func(int, url.Values) (int, http.Header, string) { return accepted("SMreply1") })
	h := startOutbound(t, ob, "testdata/timeout.flow")
	enqueue(t, h, "+15550004001", "+15550910", "SMcause")
	h.srv.SendOutbox(context.Background())
	for _, f := range []url.Values{report("SMreply1", "sent", ""), report("SMreply1", "undelivered", "30003"), report("SMreply1", "sent", ""), report("SMreply1", "undelivered", "30003")} {
		if code, body := h.postSigned("/webhooks/twilio/status", f); code != http.StatusNoContent {
			t.Fatalf("report %s: %d %s", f.Get("MessageStatus"), code, body)
		}
	}
	s := h.outbox("sent")
	if len(s) != 1 || s[0].DeliveryStatus != "undelivered" || s[0].DeliveryError != "30003" {
		t.Fatalf("sent = %+v, want undelivered 30003 (a late sent changes nothing)", s)
	}
	// An unsigned report is refused; a report with a status that is none
	// is refused naming the field.
	f := report("SMreply1", "delivered", "")
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/webhooks/twilio/status", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned report: %v %v", resp.StatusCode, err)
	}
	if code, body := h.postSigned("/webhooks/twilio/status", report("SMreply1", "received", "")); code != http.StatusBadRequest || !strings.Contains(body, "MessageStatus") {
		t.Fatalf("report with status received: %d %s", code, body)
	}
	// A 21610 report opts the recipient out of the number.
	if code, _ := h.postSigned("/webhooks/twilio/status", report("SMreply1", "failed", "21610")); code != http.StatusNoContent {
		t.Fatal(code)
	}
	if got := h.text("+15550004001", "+15550910", "hi"); got != twiml() {
		t.Fatalf("after a 21610 report the contact was answered %s", got)
	}
}

// TestStatusCallbackOnInboundURLIsNoMessage: a delivery report posted to
// the inbound URL is recorded as a report, stores no message, and lists
// no number as unrouted.
func TestStatusCallbackOnInboundURLIsNoMessage(t *testing.T) {
	_, ob := newScriptedProvider(t, func(int, url.Values) (int, http.Header, string) { return accepted("SMreply2") })
	h := startOutbound(t, ob, "testdata/timeout.flow")
	enqueue(t, h, "+15550004001", "+15550910", "SMcause")
	h.srv.SendOutbox(context.Background())
	f := report("SMreply2", "delivered", "")
	f.Set("From", "+15550911") // a business number no flow serves
	if code, body := h.postSigned("/webhooks/twilio/sms", f); code != http.StatusNoContent {
		t.Fatalf("report on the inbound URL: %d %s", code, body)
	}
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		if _, err := tx.MessageBySID(context.Background(), "SMreply2"); err != store.ErrNotFound {
			t.Errorf("a message was stored for the report (%v)", err)
		}
		un, err := tx.(store.AdminTx).UnroutedNumbers(context.Background())
		if len(un) != 0 {
			t.Errorf("unrouted numbers = %v, want none", un)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := h.outbox("sent"); len(s) != 1 || s[0].DeliveryStatus != "delivered" {
		t.Fatalf("sent = %+v, want the report recorded", s)
	}
}

// TestOutboxAdminAPIAndMetrics: the queue, attempts and delivery reports
// are visible in GET /v1/admin/outbox, in executions, and in /metrics.
func TestOutboxAdminAPIAndMetrics(t *testing.T) {
	_, ob := newScriptedProvider(t, func(_ int, f url.Values) (int, http.Header, string) {
		if f.Get("To") == "+15550005002" {
			return http.StatusInternalServerError, nil, "down"
		}
		return accepted("SMa")
	})
	h := startOutbound(t, ob, "testdata/timeout.flow")
	token, _, err := h.srv.EnsureAdminToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.text("+15550005001", "+15550910", "hi")
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))
	h.srv.FireTimers(context.Background())
	enqueue(t, h, "+15550005002", "+15550910", "SMother")
	h.srv.SendOutbox(context.Background())
	h.clock.Set(h.clock.Now().Add(30 * time.Second))

	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.http.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if s, ok := out.(*string); ok {
			*s = string(b)
		} else if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
	var pending []server.Delivery
	get("/v1/admin/outbox", &pending)
	if len(pending) != 1 || pending[0].To != "+15550005002" || pending[0].Attempts != 1 || pending[0].AgeSeconds != 30 || !strings.Contains(pending[0].LastError, "500") {
		t.Fatalf("pending = %+v", pending)
	}
	var sent []server.Delivery
	get("/v1/admin/outbox?status=sent", &sent)
	if len(sent) != 1 || sent[0].ProviderSID != "SMa" || sent[0].DeliveryStatus != "queued" {
		t.Fatalf("sent = %+v", sent)
	}
	var ex server.Execution
	get("/v1/admin/executions/"+url.PathEscape(sent[0].MessageSID), &ex)
	if len(ex.Deliveries) != 1 || ex.Deliveries[0].ProviderSID != "SMa" {
		t.Fatalf("execution deliveries = %+v", ex.Deliveries)
	}
	// The inbox page shows the timeout branch's reply among the item's
	// replies (read for the whole page at once: OutboxByMessages).
	var page server.InboxPage
	get("/v1/admin/inbox/team/sales?limit=10", &page)
	if len(page.Items) != 1 {
		t.Fatalf("inbox page = %+v", page)
	}
	if raw, _ := json.Marshal(page.Items[0]); !strings.Contains(string(raw), `"provider_sid":"SMa"`) {
		t.Errorf("inbox item's replies: %s", raw)
	}
	var metrics string
	get("/metrics", &metrics)
	for _, want := range []string{`flowc_outbox_backlog{kind="sms"} 1`, `flowc_outbox_oldest_age_seconds{kind="sms"} 30`,
		`flowc_outbox_deliveries_total{kind="sms",result="retry"} 1`, `flowc_outbox_deliveries_total{kind="sms",result="sent"} 1`,
		`flowc_timer_lag_seconds_count 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
