package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/console"
	"github.com/flowc-dev/flowc/server/store"
)

// The agents' workspace over examples/sms-channel.flow (uContact's SMS
// channel: the support team is bob and carol, round-robin), on Monday
// 2026-11-23 at 10:00 in New York, when it is open.

var wsOpen = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

const wsContact = "+15557654321"

// wsTwilio is Twilio's Messages API: it records every text sent.
type wsTwilio struct {
	mu    sync.Mutex
	forms []url.Values
}

func (f *wsTwilio) sent() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

// wsChannelEnv is a replica serving sms-channel.flow, sending through a
// fake Twilio.
func wsChannelEnv(t *testing.T, st store.Store, c *clock) (*env, *wsTwilio) {
	t.Helper()
	ft := &wsTwilio{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		ft.mu.Lock()
		ft.forms = append(ft.forms, r.PostForm)
		n := len(ft.forms)
		ft.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SMfake%d","status":"queued"}`, n)
	}))
	t.Cleanup(hs.Close)
	e := newEnv(t, st, c, func(cfg *server.Config) {
		cfg.Outbound = &server.Outbound{TwilioAPIURL: hs.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "secret"}
	})
	return e, ft
}

func (e *env) deployChannel() {
	e.t.Helper()
	src, err := os.ReadFile("../../examples/sms-channel.flow")
	if err != nil {
		e.t.Fatal(err)
	}
	code, body := e.api("POST", "/v1/admin/flows", server.DeployRequest{File: "sms-channel.flow", Source: string(src)})
	if code >= 300 {
		e.t.Fatalf("deploy: %d %s", code, body)
	}
}

var wsSMSN int

// contactTexts is the contact texting the channel's number, through Twilio's
// SMS webhook (dev mode: no signature); media are MMS attachments.
func (e *env) contactTexts(body string, media ...string) {
	e.t.Helper()
	wsSMSN++
	f := url.Values{"MessageSid": {fmt.Sprintf("SMin%06d", wsSMSN)}, "From": {wsContact}, "To": {"+15550750"},
		"Body": {body}, "AccountSid": {"AC123"}}
	for i, m := range media {
		f.Set("MediaUrl"+string(rune('0'+i)), m)
		f.Set("MediaContentType"+string(rune('0'+i)), "image/jpeg")
	}
	if len(media) > 0 {
		f.Set("NumMedia", string(rune('0'+len(media))))
	}
	res, err := http.PostForm(e.ts.URL+"/webhooks/twilio/sms", f)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("SMS webhook: %d %s", res.StatusCode, b)
	}
}

// queuedID is the contact's conversation id, as the agent API gives it.
func (e *env) queuedID() string {
	e.t.Helper()
	tk, err := e.st.(store.QueueReader).QueueTicket(context.Background(), wsContact, "+15550750")
	if err != nil {
		e.t.Fatalf("no queued conversation: %v", err)
	}
	return server.ConversationID(tk.Contact, tk.Number, tk.Started)
}

// postForm posts a form with the page's CSRF token.
func (b *browser) postForm(page, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf(page))
	return b.do("POST", path, form)
}

// TestWorkspaceWorksAConversation: bob sees the offered conversation with
// its place in line and waiting time, accepts it, replies (the text
// reaches Twilio), adds a note and transfers it to carol, who accepts
// and finishes it; carol could not see it while it was bob's; a second
// accept is a 409 in the API's words; a reply to a contact on the
// outbound blacklist a 422.
func TestWorkspaceWorksAConversation(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			e, ft := wsChannelEnv(t, sc.open(t), &clock{t: wsOpen})
			e.deployChannel()
			e.contactTexts("hi")
			e.contactTexts("billing", "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages/MM1/Media/ME1")
			id := e.queuedID()
			e.clock.Add(90 * time.Second)

			bob, carol := e.browser(), e.browser()
			bobToken := e.userToken("bob")
			bob.mustLogin(bobToken)
			carol.mustLogin(e.userToken("carol"))
			code, page := bob.get("/ui/workspace")
			if code != http.StatusOK {
				t.Fatalf("workspace: %d\n%s", code, page)
			}
			for _, want := range []string{wsContact[1:], "offered", "<td>1</td>", "1m 30s", `action="/ui/workspace/` + id + `/accept"`, "You are <strong>available</strong>, in sales, support"} {
				if !strings.Contains(page, want) {
					t.Errorf("bob's queue lacks %q:\n%s", want, page)
				}
			}
			if _, page := carol.get("/ui/workspace"); strings.Contains(page, wsContact[1:]) {
				t.Errorf("carol's queue shows bob's offer:\n%s", page)
			}
			// Not carol's: 403 to see or act, and nothing changes.
			if code, page := carol.get("/ui/workspace/" + id); code != http.StatusForbidden || strings.Contains(page, "billing") {
				t.Errorf("carol opens bob's offer: %d\n%s", code, page)
			}
			if res, _ := carol.postForm("/ui/workspace", "/ui/workspace/"+id+"/accept", nil); res.StatusCode != http.StatusForbidden {
				t.Errorf("carol accepts bob's offer: %d, want 403", res.StatusCode)
			}
			if code, _ := carol.get("/ui/workspace/cv_bm9wZQ"); code != http.StatusNotFound {
				t.Errorf("a made-up conversation: %d, want 404", code)
			}
			// Every form needs the CSRF token.
			for _, action := range []string{"accept", "reply", "transfer", "finish", "notes"} {
				res, body := bob.do("POST", "/ui/workspace/"+id+"/"+action, url.Values{"text": {"x"}, "to": {"user:carol"}})
				if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
					t.Errorf("%s without csrf: %d", action, res.StatusCode)
				}
			}
			if res, _ := bob.do("POST", "/ui/workspace/availability", url.Values{"available": {"false"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("availability without csrf: %d", res.StatusCode)
			}

			thread := "/ui/workspace/" + id
			code, page = bob.get(thread)
			if code != http.StatusOK || !strings.Contains(page, "billing") || !strings.Contains(page, `href="https://api.twilio.com/2010-04-01/Accounts/AC123/Messages/MM1/Media/ME1"`) {
				t.Fatalf("bob's thread: %d\n%s", code, page)
			}
			// The strict CSP, no inline script or style.
			for _, p := range []string{"/ui/workspace", thread} {
				res, body := bob.do("GET", p, nil)
				if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
					t.Errorf("GET %s: CSP %q", p, csp)
				}
				for _, bad := range []string{"<script>", "style=\"", "onclick", "javascript:", "<style"} {
					if strings.Contains(body, bad) {
						t.Errorf("GET %s has inline %s", p, bad)
					}
				}
			}
			res, _ := bob.postForm(thread, thread+"/accept", nil)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != thread+"?done=accept" {
				t.Fatalf("accept: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			if _, page = bob.get(thread + "?done=accept"); !strings.Contains(page, "Accepted") || !strings.Contains(page, "open (bob)") {
				t.Errorf("after accepting:\n%s", page)
			}
			if code, _ := carol.get(thread); code != http.StatusForbidden {
				t.Errorf("carol opens bob's conversation: %d, want 403", code)
			}
			// The state forbids a second accept: 409, in the API's words.
			res, page = bob.postForm(thread, thread+"/accept", nil)
			if res.StatusCode != http.StatusConflict || !strings.Contains(page, "Cannot accept the conversation now.") {
				t.Errorf("accept again: %d\n%s", res.StatusCode, page)
			}

			res, _ = bob.postForm(thread, thread+"/reply", url.Values{"text": {"Hi, Bob here. Let me look at your invoice."}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("reply: %d", res.StatusCode)
			}
			if _, err := e.srv.SendOutbox(context.Background()); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range ft.sent() {
				if f.Get("To") == wsContact {
					got = append(got, f.Get("Body"))
				}
			}
			if len(got) == 0 || got[len(got)-1] != "Hi, Bob here. Let me look at your invoice." {
				t.Errorf("Twilio got %q", got)
			}
			// The reply is in the thread, the console's and the agent API's.
			if _, page = bob.get(thread); !strings.Contains(page, "To the contact, from bob") || !strings.Contains(page, "Let me look at your invoice.") {
				t.Errorf("the reply is not in the thread:\n%s", page)
			}
			req, _ := http.NewRequest("GET", e.ts.URL+"/v1/agent/conversations/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+bobToken)
			apiRes, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var th server.AgentThread
			json.NewDecoder(apiRes.Body).Decode(&th)
			apiRes.Body.Close()
			if len(th.Replies) != 1 || th.Replies[0].Text != "Hi, Bob here. Let me look at your invoice." || th.Replies[0].User != "bob" || th.Replies[0].Status != "sent" {
				t.Errorf("the agent API's replies: %+v", th.Replies)
			}
			res, page = bob.postForm(thread, thread+"/reply", url.Values{"text": {"  "}})
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Text is empty.") {
				t.Errorf("empty reply: %d\n%s", res.StatusCode, page)
			}

			res, _ = bob.postForm(thread, thread+"/notes", url.Values{"text": {"Invoice 1234, overcharged twice"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("note: %d", res.StatusCode)
			}
			if _, page = bob.get(thread); !strings.Contains(page, "Invoice 1234, overcharged twice") {
				t.Errorf("the note is not shown:\n%s", page)
			}

			// Blacklisted: the reply is a 422 with the API's message.
			if code, body := e.api("PUT", "/v1/admin/lists/"+server.DefaultOutboundBlacklist+"/"+url.PathEscape(wsContact), nil); code/100 != 2 {
				t.Fatalf("blacklist: %d %s", code, body)
			}
			res, page = bob.postForm(thread, thread+"/reply", url.Values{"text": {"still there?"}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "is on the outbound blacklist") {
				t.Errorf("reply to a blacklisted wsContact: %d\n%s", res.StatusCode, page)
			}
			if code, body := e.api("DELETE", "/v1/admin/lists/"+server.DefaultOutboundBlacklist+"/"+url.PathEscape(wsContact), nil); code/100 != 2 {
				t.Fatalf("unblacklist: %d %s", code, body)
			}

			res, _ = bob.postForm(thread, thread+"/transfer", url.Values{"to": {"team:nosuch"}})
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("transfer to a made-up team: %d", res.StatusCode)
			}
			res, _ = bob.postForm(thread, thread+"/transfer", url.Values{"to": {"user:carol"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("transfer: %d", res.StatusCode)
			}
			code, page = carol.get(thread)
			if code != http.StatusOK || !strings.Contains(page, "Invoice 1234") || !strings.Contains(page, `id="accept"`) {
				t.Fatalf("carol after the transfer: %d\n%s", code, page)
			}
			if res, _ := carol.postForm(thread, thread+"/accept", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("carol accepts: %d", res.StatusCode)
			}
			if code, _ := bob.get(thread); code != http.StatusForbidden {
				t.Errorf("bob opens carol's conversation: %d, want 403", code)
			}
			res, _ = carol.postForm(thread, thread+"/finish", nil)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/ui/workspace?done=finish" {
				t.Fatalf("finish: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			if _, page = carol.get("/ui/workspace?done=finish"); !strings.Contains(page, "Finished") || strings.Contains(page, "row-"+id) {
				t.Errorf("carol's queue after finishing:\n%s", page)
			}
			if code, _ := carol.get(thread); code != http.StatusNotFound {
				t.Errorf("the finished conversation: %d, want 404", code)
			}
		})
	}
}

// TestWorkspaceAvailability: the toggle is the agent API's own
// availability: unavailable, nothing new is offered; available again,
// the waiting conversation is.
func TestWorkspaceAvailability(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			e, _ := wsChannelEnv(t, sc.open(t), &clock{t: wsOpen})
			e.deployChannel()
			bob, carol := e.browser(), e.browser()
			bob.mustLogin(e.userToken("bob"))
			carol.mustLogin(e.userToken("carol"))
			for _, b := range []*browser{bob, carol} {
				res, _ := b.postForm("/ui/workspace", "/ui/workspace/availability", url.Values{"available": {"false"}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("unavailable: %d", res.StatusCode)
				}
			}
			if _, page := bob.get("/ui/workspace?done=unavailable"); !strings.Contains(page, "You are <strong>unavailable</strong>") {
				t.Errorf("bob's page:\n%s", page)
			}
			e.contactTexts("hi")
			e.contactTexts("orders")
			if _, page := bob.get("/ui/workspace"); strings.Contains(page, wsContact[1:]) {
				t.Errorf("offered to an unavailable agent:\n%s", page)
			}
			if res, _ := bob.postForm("/ui/workspace", "/ui/workspace/availability", url.Values{"available": {"maybe"}}); res.StatusCode != http.StatusBadRequest {
				t.Errorf("available=maybe: %d", res.StatusCode)
			}
			if res, _ := bob.postForm("/ui/workspace", "/ui/workspace/availability", url.Values{"available": {"true"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("available: %d", res.StatusCode)
			}
			if _, page := bob.get("/ui/workspace"); !strings.Contains(page, wsContact[1:]) || !strings.Contains(page, "offered") {
				t.Errorf("available again, bob is not offered the waiting conversation:\n%s", page)
			}
		})
	}
}

// eventStream opens a page's event stream (its data-events URL).
func (b *browser) eventStream(page string) (*http.Response, *bufio.Reader) {
	b.t.Helper()
	_, body := b.get(page)
	m := regexp.MustCompile(`data-events="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("%s has no event stream:\n%s", page, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	b.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+strings.ReplaceAll(m[1], "&amp;", "&"), nil)
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { res.Body.Close() })
	return res, bufio.NewReader(res.Body)
}

// nextSSE reads the stream up to its next named event.
func nextSSE(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended: %v", err)
		}
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			return strings.TrimSpace(name)
		}
	}
}

// TestWorkspaceLiveAcrossReplicas: the thread's event stream on one
// replica tells of the contact's text taken by another, and of a note
// added there; the list's stream tells of a new offer. A session keeps
// at most MaxStreams streams; the stream needs a session and is an
// agent's.
func TestWorkspaceLiveAcrossReplicas(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			defer func(old time.Duration) { console.SessionRecheck = old }(console.SessionRecheck)
			console.SessionRecheck = 0 // at every poll
			st := sc.open(t)
			c := &clock{t: wsOpen}
			a, _ := wsChannelEnv(t, st, c)
			b, _ := wsChannelEnv(t, st, c)
			a.deployChannel()
			bob := a.browser()
			bob.mustLogin(a.userToken("bob"))

			res, list := bob.eventStream("/ui/workspace")
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
			}
			b.contactTexts("hi")
			b.contactTexts("billing")
			if ev := nextSSE(t, list); ev != "change" {
				t.Fatalf("list stream: %q", ev)
			}
			id := a.queuedID()
			thread := "/ui/workspace/" + id
			_, th := bob.eventStream(thread)
			b.contactTexts("hello? is anyone there?")
			if ev := nextSSE(t, th); ev != "change" {
				t.Fatalf("thread stream: %q", ev)
			}
			if _, page := bob.get(thread); !strings.Contains(page, "hello? is anyone there?") {
				t.Errorf("the new text is not on the page:\n%s", page)
			}

			// The bound: MaxStreams per session (two are open).
			for i := 2; i < console.MaxStreams; i++ {
				bob.eventStream(thread)
			}
			_, page := bob.get(thread)
			u := regexp.MustCompile(`data-events="([^"]+)"`).FindStringSubmatch(page)[1]
			if code, _ := bob.get(strings.ReplaceAll(u, "&amp;", "&")); code != http.StatusTooManyRequests {
				t.Errorf("stream %d of a session: %d, want 429", console.MaxStreams+1, code)
			}
			if code, _ := a.browser().get("/ui/workspace/events"); code != http.StatusSeeOther {
				t.Errorf("events without a session: %d, want a redirect to sign in", code)
			}
			admin := a.browser()
			admin.mustLogin(adminToken)
			if code, _ := admin.get("/ui/workspace/events"); code != http.StatusForbidden {
				t.Errorf("events for the admin: %d, want 403", code)
			}
			// The admin has no workspace: a page saying so, and 403 to act.
			if code, page := admin.get("/ui/workspace"); code != http.StatusOK || !strings.Contains(page, "The workspace is an agent's") {
				t.Errorf("the admin's workspace: %d\n%s", code, page)
			}
			if res, _ := admin.postForm("/ui/home", thread+"/accept", nil); res.StatusCode != http.StatusForbidden {
				t.Errorf("the admin accepts: %d, want 403", res.StatusCode)
			}

			// Signing out (on the other replica) ends the open streams.
			if res, _ := bob.on(b).postForm("/ui/home", "/ui/logout", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", res.StatusCode)
			}
			for {
				if ev := nextSSE(t, th); ev == "bye" {
					break
				}
			}
		})
	}
}

// TestWorkspaceStreamOutlivesTheWriteTimeout: flowc serve's listener
// has a write timeout for pages (30 s); an event stream sets its own
// deadline, so an event after the timeout still arrives.
func TestWorkspaceStreamOutlivesTheWriteTimeout(t *testing.T) {
	e, _ := wsChannelEnv(t, stores[0].open(t), &clock{t: wsOpen})
	e.deployChannel()
	hs := httptest.NewUnstartedServer(e.srv.Handler())
	hs.Config.WriteTimeout = 50 * time.Millisecond // the stream polls every second: its first event comes later
	hs.Start()
	t.Cleanup(hs.Close)
	short := &env{t: t, st: e.st, clock: e.clock, srv: e.srv, ts: hs}
	bob := e.browser()
	bob.mustLogin(e.userToken("bob"))
	_, list := bob.on(short).eventStream("/ui/workspace")
	e.contactTexts("hi")
	e.contactTexts("billing")
	if ev := nextSSE(t, list); ev != "change" {
		t.Fatalf("stream: %q", ev)
	}
}
