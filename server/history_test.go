package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// mostRecent is turboDial's "most recent interaction" routing, written
// with what flows can read today (replies saying whom the text would go
// to: computed inbox targets are the language side's).
const mostRecent = `flow most-recent
numbers "+15550700", "+15550701"
timezone "UTC"

when (contact.last_interaction != nil and contact.last_interaction.campaign != nil) <
  reply "campaign {{contact.campaign.name}} reply to {{contact.campaign.reply_user}}"
> else when (contact.last_texted_by != nil) <
  reply "to {{contact.last_texted_by}}"
> else when (contact.last_called_by != nil) <
  reply "called {{contact.last_called_by}}"
> else when (contact.owner != nil) <
  reply "owner {{contact.owner}}"
> else reply "backup"
`

const (
	histNumber  = "+15550700"
	histNumber2 = "+15550701"
)

// startHistory serves mostRecent on st (nil: a fresh SQLite file) with
// the admin token set; cfg may change the configuration.
func startHistory(t *testing.T, st store.Store, cfg func(*server.Config)) *harness {
	t.Helper()
	return startHistoryFlow(t, st, mostRecent, cfg)
}

// startHistoryFlow is startHistory serving the flow src.
func startHistoryFlow(t *testing.T, st store.Store, src string, cfg func(*server.Config)) *harness {
	t.Helper()
	return startFlowAt(t, st, "most-recent.flow", src, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), cfg)
}

// startFlowAt serves the flow src, as the file name, on st (nil: a fresh
// SQLite file) with examples/directory.json, the admin and API tokens
// set and a fake clock at at; cfg may change the configuration.
func startFlowAt(t *testing.T, st store.Store, name, src string, at time.Time, cfg func(*server.Config)) *harness {
	t.Helper()
	return startFlowsAt(t, st, map[string]string{name: src}, at, cfg)
}

// startFlowsAt is startFlowAt for several files.
func startFlowsAt(t *testing.T, st store.Store, files map[string]string, at time.Time, cfg func(*server.Config)) *harness {
	t.Helper()
	res, err := lang.Load([]string{flowDir(t, files)})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() {
		t.Fatalf("flows do not compile: %v %v", res.Diags.Err(), cd.Err())
	}
	d, err := server.LoadDirectory("../examples/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		if st, err = sqlite.Open(context.Background(), t.TempDir()+"/flowc.db"); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: at}
	c := server.Config{TwilioAuthToken: authToken, AdminToken: adminToken, APIToken: "api-token",
		Directory: d, Now: clk.Now, Logger: quiet}
	if cfg != nil {
		cfg(&c)
	}
	srv := server.New(c, st)
	if _, _, err := srv.EnsureAdminToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Deploy(context.Background(), progs); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); st.Close() })
	return &harness{t: t, srv: srv, http: hs, store: st, clock: clk}
}

// api calls a public JSON endpoint with the API token.
func (h *harness) api(path string, body any, header ...string) (int, http.Header, map[string]any) {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer api-token")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("POST %s: %d, not JSON: %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, out
}

// sendSMS is POST /v1/outbound, wanting 202.
func (h *harness) sendSMS(req server.OutboundRequest) map[string]any {
	h.t.Helper()
	code, _, out := h.api("/v1/outbound", req)
	if code != http.StatusAccepted {
		h.t.Fatalf("POST /v1/outbound %+v: %d %v", req, code, out)
	}
	return out
}

func (h *harness) texts(from, to, body string) string {
	h.t.Helper()
	return h.text(from, to, body)
}

// TestMostRecentInteractionThroughTheServer: turboDial's four cases and
// the campaign case, with the history made by real sends (POST
// /v1/outbound) and reported calls (POST /v1/interactions), on both
// stores.
func TestMostRecentInteractionThroughTheServer(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startHistory(t, sc.open(t), nil)
			const texted, called, unknown, campaigned = "+15551110001", "+15551110002", "+15551110003", "+15551110004"

			// 1. A reply to a manually sent SMS.
			h.sendSMS(server.OutboundRequest{From: histNumber, To: texted, Body: "Hi, it's Alice", User: "alice"})
			h.clock.Set(h.clock.Now().Add(time.Minute))
			if got := h.texts(texted, histNumber, "hello"); got != twiml("to alice") {
				t.Errorf("case 1: %s", got)
			}
			// The flow's own reply has no user: alice stays who last texted.
			if got := h.texts(texted, histNumber, "again"); got != twiml("to alice") {
				t.Errorf("case 1, second text: %s", got)
			}
			// 2. A contact who was only called (the dialer reports it).
			code, _, out := h.api("/v1/interactions", server.InteractionReport{Contact: called, Number: histNumber, User: "carol",
				Direction: "outbound", At: "2026-11-23T09:00:00Z", SID: "CA100"})
			if code != http.StatusCreated || out["recorded"] != true {
				t.Fatalf("POST /v1/interactions: %d %v", code, out)
			}
			if code, _, out := h.api("/v1/interactions", server.InteractionReport{Contact: called, Number: histNumber, User: "carol",
				Direction: "outbound", At: "2026-11-23T09:00:00Z", SID: "CA100"}); code != http.StatusOK || out["recorded"] != false {
				t.Errorf("the same call reported again: %d %v, want 200 and recorded false", code, out)
			}
			if got := h.texts(called, histNumber, "you called?"); got != twiml("called carol") {
				t.Errorf("case 2: %s", got)
			}
			// 3. A contact with an owner and no history.
			if got := h.texts(ann, histNumber, "hi"); got != twiml("owner alice") {
				t.Errorf("case 3: %s", got)
			}
			// 4. An unknown sender: the number's backup.
			if got := h.texts(unknown, histNumber, "hi"); got != twiml("backup") {
				t.Errorf("case 4: %s", got)
			}
			// 5. A reply to a campaign message.
			h.sendSMS(server.OutboundRequest{From: histNumber, To: campaigned, Body: "Spring sale!", Campaign: "spring", ReplyUser: "bob",
				ReplyEmail: "sales@example.com"})
			h.clock.Set(h.clock.Now().Add(time.Minute))
			if got := h.texts(campaigned, histNumber, "interested"); got != twiml("campaign spring reply to bob") {
				t.Errorf("campaign case: %s", got)
			}

			// What was recorded for the texted contact: alice's send,
			// then two texts in and the flow's two replies.
			var hist *store.History
			inTx(t, h.store, func(ctx context.Context, tx store.Tx) error {
				var err error
				hist, err = tx.(store.HistoryTx).ContactHistory(ctx, texted, 50)
				return err
			})
			var got []string
			for _, in := range hist.Recent {
				got = append(got, in.Direction+":"+in.User)
			}
			if want := "[outbound: inbound: outbound: inbound: outbound:alice]"; fmt.Sprint(got) != want {
				t.Errorf("the texted contact's interactions, newest first: %v, want %s", got, want)
			}
		})
	}
}

func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), func(tx store.Tx) error { return fn(context.Background(), tx) }); err != nil {
		t.Fatal(err)
	}
}

// TestOutboundRefusals: every refusal names its field and reason, and
// leaves the outbox empty; the outbound blacklist is an operator list.
func TestOutboundRefusals(t *testing.T) {
	h := startHistory(t, nil, nil)
	const c = "+15551110009"
	ok := server.OutboundRequest{From: histNumber, To: c, Body: "hi", User: "alice"}
	with := func(f func(r *server.OutboundRequest)) server.OutboundRequest { r := ok; f(&r); return r }
	h.texts("+15551110010", histNumber, "STOP")
	if code, body := h.admin("PUT", "/v1/admin/lists/blocked-outbound/%2B15551110011", adminToken, nil); code != http.StatusCreated {
		t.Fatalf("PUT list entry: %d %s", code, body)
	}
	cases := []struct {
		name          string
		req           server.OutboundRequest
		code          int
		field, reason string
	}{
		{"from not E.164", with(func(r *server.OutboundRequest) { r.From = "5550700" }), 400, "from", ""},
		{"to not E.164", with(func(r *server.OutboundRequest) { r.To = "+1 555" }), 400, "to", ""},
		{"empty body", with(func(r *server.OutboundRequest) { r.Body = " " }), 400, "body", ""},
		{"long body", with(func(r *server.OutboundRequest) { r.Body = strings.Repeat("x", 1601) }), 400, "body", ""},
		{"neither user nor campaign", with(func(r *server.OutboundRequest) { r.User = "" }), 400, "user", ""},
		{"unknown user", with(func(r *server.OutboundRequest) { r.User = "mallory" }), 400, "user", "unknown-user"},
		{"reply without campaign", with(func(r *server.OutboundRequest) { r.ReplyUser = "bob" }), 400, "reply_user", ""},
		{"bad reply e-mail", with(func(r *server.OutboundRequest) { r.User, r.Campaign, r.ReplyEmail = "", "x", "Bob <b@x.com>" }), 400, "reply_email", ""},
		{"not our number", with(func(r *server.OutboundRequest) { r.From = "+15559999999" }), 422, "from", "not-our-number"},
		{"opted out", with(func(r *server.OutboundRequest) { r.To = "+15551110010" }), 422, "to", "opted-out"},
		{"blacklisted", with(func(r *server.OutboundRequest) { r.To = "+15551110011" }), 422, "to", "blacklisted"},
	}
	for _, tc := range cases {
		code, _, out := h.api("/v1/outbound", tc.req)
		if code != tc.code || out["field"] != tc.field || (tc.reason != "" && out["reason"] != tc.reason) || out["error"] == "" {
			t.Errorf("%s: %d %v, want %d field %q reason %q", tc.name, code, out, tc.code, tc.field, tc.reason)
		}
	}
	if items := outbox(t, h.store); len(items) != 0 {
		t.Errorf("refused sends enqueued %d items", len(items))
	}
	// Off the blacklist: sent.
	if code, body := h.admin("DELETE", "/v1/admin/lists/blocked-outbound/%2B15551110011", adminToken, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE list entry: %d %s", code, body)
	}
	h.sendSMS(with(func(r *server.OutboundRequest) { r.To = "+15551110011" }))
	// Without the API token: 401.
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/v1/outbound", strings.NewReader(`{}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %v %v", resp.StatusCode, err)
	}
}

func outbox(t *testing.T, st store.Store) []store.OutboxItem {
	t.Helper()
	var items []store.OutboxItem
	inTx(t, st, func(ctx context.Context, tx store.Tx) error {
		var err error
		items, err = tx.(store.OutboxTx).OutboxItems(ctx, "", 0)
		return err
	})
	return items
}

// TestOutboundIdempotency: the same key and body get the first answer
// (one item enqueued, one interaction); the same key with another body
// is a 409 naming the key; the header and the field are one key.
func TestOutboundIdempotency(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startHistory(t, sc.open(t), nil)
			req := server.OutboundRequest{From: histNumber, To: "+15551110020", Body: "hello", User: "alice"}
			code, hdr, first := h.api("/v1/outbound", req, "Idempotency-Key", "k-1")
			if code != http.StatusAccepted || hdr.Get("Idempotent-Replayed") != "" {
				t.Fatalf("first: %d %v %v", code, hdr, first)
			}
			h.clock.Set(h.clock.Now().Add(time.Minute))
			keyed := req
			keyed.IdempotencyKey = "k-1"
			code, hdr, again := h.api("/v1/outbound", keyed)
			if code != http.StatusAccepted || hdr.Get("Idempotent-Replayed") != "true" || fmt.Sprint(again) != fmt.Sprint(first) {
				t.Errorf("again: %d %v %v, want the first answer %v", code, hdr, again, first)
			}
			other := keyed
			other.Body = "hello!"
			if code, _, out := h.api("/v1/outbound", other); code != http.StatusConflict || out["field"] != "idempotency_key" {
				t.Errorf("another body: %d %v, want 409 on idempotency_key", code, out)
			}
			if code, _, out := h.api("/v1/outbound", keyed, "Idempotency-Key", "k-2"); code != http.StatusBadRequest {
				t.Errorf("header and field differ: %d %v", code, out)
			}
			if items := outbox(t, h.store); len(items) != 1 || items[0].Body != "hello" || items[0].Contact != req.To {
				t.Errorf("outbox: %+v, want the one item", items)
			}
			// The same request under a new key from 8 clients at once: one
			// send, and every client gets its answer.
			var wg sync.WaitGroup
			answers := make([]string, 8)
			for i := range answers {
				wg.Go(func() {
					code, _, out := h.api("/v1/outbound", server.OutboundRequest{From: histNumber, To: "+15551110021", Body: "at once", User: "bob"},
						"Idempotency-Key", "k-race")
					answers[i] = fmt.Sprint(code, out["outbox_id"])
				})
			}
			wg.Wait()
			for _, a := range answers[1:] {
				if a != answers[0] || !strings.HasPrefix(a, "202") {
					t.Errorf("concurrent answers %q, want one 202 answer", answers)
					break
				}
			}
			if items := outbox(t, h.store); len(items) != 2 {
				t.Errorf("outbox after the concurrent sends: %d items, want 2", len(items))
			}
			var hist *store.History
			inTx(t, h.store, func(ctx context.Context, tx store.Tx) error {
				var err error
				hist, err = tx.(store.HistoryTx).ContactHistory(ctx, req.To, 50)
				return err
			})
			if len(hist.Recent) != 1 || hist.Recent[0].User != "alice" || hist.Recent[0].OutboxID != int64(first["outbox_id"].(float64)) {
				t.Errorf("interactions: %+v", hist.Recent)
			}
		})
	}
}

// pacedProvider is Twilio's Messages API recording, for every message,
// the server's clock when it arrived.
type pacedProvider struct {
	mu   sync.Mutex
	sent map[string][]time.Time // From → arrival times
	body map[string][]string
}

// startPacedProvider serves a pacedProvider that reads the arrival time
// from the clock clk gives (the harness is made after the provider) and
// answers each message as Twilio does, and the Outbound that sends to it.
func startPacedProvider(t *testing.T, clk func() *clock) (*pacedProvider, *server.Outbound) {
	p := &pacedProvider{sent: map[string][]time.Time{}, body: map[string][]string{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		from := r.PostForm.Get("From")
		p.sent[from] = append(p.sent[from], clk().Now())
		p.body[from] = append(p.body[from], r.PostForm.Get("Body"))
		n := len(p.sent[from])
		p.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SM%s%d","status":"queued"}`, from[1:], n)
	}))
	t.Cleanup(hs.Close)
	return p, &server.Outbound{TwilioAPIURL: hs.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "secret"}
}

// TestOutboundPacedPerNumber: 200 sends (150 from one number, 50 from
// another) go out at one per second per number on a fake clock: each
// number's messages in the order sent, never two within a second, the
// two numbers side by side.
func TestOutboundPacedPerNumber(t *testing.T) {
	var h *harness
	p, out := startPacedProvider(t, func() *clock { return h.clock })
	h = startHistory(t, nil, func(c *server.Config) { c.SMSPace = time.Second })
	h.srv.SetOutbound(out)
	for i := range 200 {
		from := histNumber
		if i%4 == 3 {
			from = histNumber2
		}
		h.sendSMS(server.OutboundRequest{From: from, To: fmt.Sprintf("+1555222%04d", i), Body: fmt.Sprint("msg ", i), Campaign: "spring"})
	}
	t0 := h.clock.Now()
	for sec := 0; sec < 200; sec++ {
		h.clock.Set(t0.Add(time.Duration(sec) * time.Second))
		if _, err := h.srv.SendOutbox(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		from string
		n    int
	}{{histNumber, 150}, {histNumber2, 50}} {
		times := p.sent[c.from]
		if len(times) != c.n {
			t.Fatalf("%s: %d sent, want %d", c.from, len(times), c.n)
		}
		for i, at := range times {
			if want := t0.Add(time.Duration(i) * time.Second); !at.Equal(want) {
				t.Fatalf("%s: message %d sent at +%v, want +%v (one a second)", c.from, i, at.Sub(t0), want.Sub(t0))
			}
		}
		prev := -1
		for _, b := range p.body[c.from] {
			var n int
			fmt.Sscanf(b, "msg %d", &n)
			if n <= prev {
				t.Fatalf("%s: %q after msg %d: not in the order sent", c.from, b, prev)
			}
			prev = n
		}
	}
	for _, it := range outbox(t, h.store) {
		if it.Status != "sent" || it.Attempts != 1 {
			t.Fatalf("item %d: %s after %d attempts, want sent at the first (a paced wait is no attempt)", it.ID, it.Status, it.Attempts)
		}
	}
}

// TestWhatIsRecorded: a text and the flow's reply in the webhook's
// answer; a timer's reply through the outbox; a STOP but not its
// confirmation.
func TestWhatIsRecorded(t *testing.T) {
	h := start(t, authToken, "testdata/timeout.flow")
	const c = "+15551110030"
	h.text(c, "+15550910", "hi") // the menu's question
	h.clock.Set(h.clock.Now().Add(11 * time.Minute))
	if n, err := h.srv.FireTimers(context.Background()); err != nil || n != 1 {
		t.Fatalf("FireTimers: %d %v", n, err)
	}
	h.text(c, "+15550910", "STOP")
	var hist *store.History
	inTx(t, h.store, func(ctx context.Context, tx store.Tx) error {
		var err error
		hist, err = tx.(store.HistoryTx).ContactHistory(ctx, c, 50)
		return err
	})
	var got []string
	for _, in := range hist.Recent {
		got = append(got, in.Direction+" "+in.SID)
	}
	// Newest first: STOP (no confirmation), the timer's reply, the menu's
	// question, the text.
	if len(got) != 4 || got[0] != "inbound SM00000000000000000000000000000002" || got[1] != "outbound " ||
		got[2] != "outbound " || got[3] != "inbound SM00000000000000000000000000000001" {
		t.Errorf("recorded, newest first: %q", got)
	}
	if hist.Recent[1].CauseSID == "" || hist.Recent[1].CauseSID == hist.Recent[2].CauseSID {
		t.Errorf("the timer's reply is caused by %q, the menu's by %q: want the timer's run and the text", hist.Recent[1].CauseSID, hist.Recent[2].CauseSID)
	}
}

// TestOutboundPacedAcrossReplicas: two replicas delivering one store's
// backlog while a campaign is still being enqueued (two sends a second),
// each running its delivery pass every second, still send one SMS a
// second per number between them (the slots are the store's, not each
// process's: with a pacer per process each replica claimed new items
// into slots of its own), in order, each item once, on both stores.
func TestOutboundPacedAcrossReplicas(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			var h *harness
			p, out := startPacedProvider(t, func() *clock { return h.clock })
			h = startHistory(t, sc.open(t), func(c *server.Config) { c.SMSPace = time.Second })
			h.srv.SetOutbound(out)
			d, err := server.LoadDirectory("../examples/directory.json")
			if err != nil {
				t.Fatal(err)
			}
			replica := server.New(server.Config{TwilioAuthToken: authToken, Directory: d, Now: h.clock.Now, Logger: quiet, SMSPace: time.Second}, h.store)
			replica.SetOutbound(out)
			const n = 30
			t0 := h.clock.Now()
			for sec := 0; sec < n; sec++ {
				h.clock.Set(t0.Add(time.Duration(sec) * time.Second))
				for i := 2 * sec; i < 2*sec+2 && i < n; i++ {
					h.sendSMS(server.OutboundRequest{From: histNumber, To: fmt.Sprintf("+1555333%04d", i), Body: fmt.Sprint("msg ", i), Campaign: "spring"})
				}
				first, second := h.srv, replica
				if sec%2 == 1 {
					first, second = replica, h.srv
				}
				for _, r := range []*server.Server{first, second} {
					if _, err := r.SendOutbox(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			}
			times := p.sent[histNumber]
			if len(times) != n {
				t.Fatalf("%d sent, want %d", len(times), n)
			}
			for i, at := range times {
				if want := t0.Add(time.Duration(i) * time.Second); !at.Equal(want) {
					t.Fatalf("message %d sent at +%v, want +%v: the replicas paced apart", i, at.Sub(t0), want.Sub(t0))
				}
				if want := fmt.Sprint("msg ", i); p.body[histNumber][i] != want {
					t.Fatalf("message %d is %q, want %q (in the order sent)", i, p.body[histNumber][i], want)
				}
			}
		})
	}
}

// TestOutboundPacedAfterDowntime: sends deferred to their slots, claimed
// long after those slots passed (the server was down), go out at the
// pace again, not all at once.
func TestOutboundPacedAfterDowntime(t *testing.T) {
	var h *harness
	p, out := startPacedProvider(t, func() *clock { return h.clock })
	h = startHistory(t, nil, func(c *server.Config) { c.SMSPace = time.Second })
	h.srv.SetOutbound(out)
	const n = 5
	for i := range n {
		h.sendSMS(server.OutboundRequest{From: histNumber, To: fmt.Sprintf("+1555444%04d", i), Body: fmt.Sprint("msg ", i), Campaign: "spring"})
	}
	t0 := h.clock.Now()
	if _, err := h.srv.SendOutbox(context.Background()); err != nil { // sends one, defers four to +1s … +4s
		t.Fatal(err)
	}
	back := t0.Add(time.Hour) // every slot passed while the server was down
	for sec := 0; sec < n; sec++ {
		h.clock.Set(back.Add(time.Duration(sec) * time.Second))
		if _, err := h.srv.SendOutbox(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	times := p.sent[histNumber]
	if len(times) != n {
		t.Fatalf("%d sent, want %d", len(times), n)
	}
	for i, at := range times[1:] {
		if want := back.Add(time.Duration(i) * time.Second); !at.Equal(want) {
			t.Fatalf("after the downtime, message %d sent at +%v, want +%v (one a second)", i+1, at.Sub(back), want.Sub(back))
		}
	}
}
