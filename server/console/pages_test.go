package console_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/scenario"
)

// Tests of the admin pages: numbers, playground, queues and traces.

// numbers is GET /v1/admin/numbers, by number.
func (e *env) numbers() map[string]server.NumberInfo {
	e.t.Helper()
	code, body := e.api("GET", "/v1/admin/numbers", nil)
	var ans server.NumbersResponse
	if err := json.Unmarshal(body, &ans); err != nil || code != http.StatusOK {
		e.t.Fatalf("numbers: %d %s", code, body)
	}
	out := map[string]server.NumberInfo{}
	for _, n := range ans.Numbers {
		out[n.Number] = n
	}
	return out
}

// row is the numbers page's table row of number.
func row(t *testing.T, page, number string) string {
	t.Helper()
	page = html.UnescapeString(page)
	i := strings.Index(page, `<tr id="n`+strings.TrimPrefix(number, "+")+`">`)
	if i < 0 {
		t.Fatalf("no row for %s on the page:\n%s", number, page)
	}
	j := strings.Index(page[i:], "</tr>")
	return page[i : i+j]
}

// TestNumbersPageAssignUnassign: the directory's number without any
// flow is red in both columns, a flow's number is red for calls only;
// assigning a flow from the page routes the number's texts (the admin
// API's listing says so), unassigning stops it; a bad number is refused
// in words; without the CSRF token nothing changes.
func TestNumbersPageAssignUnassign(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, sc.open(t), &clock{t: start}, nil)
			e.deploy(flowV1)
			b := e.browser()
			b.mustLogin(adminToken)
			code, page := b.get("/ui/numbers")
			if code != http.StatusOK {
				t.Fatalf("numbers page: %d\n%s", code, page)
			}
			dirRow := row(t, page, "+15550800") // examples/directory.json's number
			if strings.Count(dirRow, `class="missing"`) != 2 || !strings.Contains(dirRow, "turboDial inbound") {
				t.Errorf("the directory's number without flows is not red twice:\n%s", dirRow)
			}
			gapsRow := row(t, page, "+15550900")
			if !strings.Contains(gapsRow, `/ui/flows/gaps`) || strings.Count(gapsRow, `class="missing"`) != 1 ||
				!strings.Contains(gapsRow, `<td class="missing" data-channel="voice">`) {
				t.Errorf("the flow's number: want its SMS flow linked and only its call flow red:\n%s", gapsRow)
			}

			csrf := b.csrf("/ui/numbers")
			res, _ := b.do("POST", "/ui/numbers/assign", url.Values{"number": {"+15550800"}, "flow": {"gaps"}})
			if res.StatusCode != http.StatusForbidden || e.numbers()["+15550800"].SMSFlow != "" {
				t.Errorf("assign without csrf: %d, SMS flow %q", res.StatusCode, e.numbers()["+15550800"].SMSFlow)
			}
			res, _ = b.do("POST", "/ui/numbers/assign", url.Values{"csrf": {csrf}, "number": {"+15550800"}, "flow": {"gaps"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("assign: %d", res.StatusCode)
			}
			if n := e.numbers()["+15550800"]; n.SMSFlow != "gaps" {
				t.Errorf("after assigning, the API lists %+v", n)
			}
			_, page = b.get(res.Header.Get("Location"))
			if !strings.Contains(html.UnescapeString(page), "+15550800's texts now go to gaps.") {
				t.Errorf("no flash after assigning:\n%s", page)
			}
			if r := row(t, page, "+15550800"); strings.Count(r, `class="missing"`) != 1 || !strings.Contains(r, "Unassign the SMS flow of +15550800") {
				t.Errorf("after assigning, the row:\n%s", r)
			}

			res, body := b.do("POST", "/ui/numbers/assign", url.Values{"csrf": {csrf}, "number": {"5550800"}, "flow": {"gaps"}})
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is not an E.164 number") {
				t.Errorf("assign a bad number: %d\n%s", res.StatusCode, body)
			}
			res, body = b.do("POST", "/ui/numbers/assign", url.Values{"csrf": {csrf}, "number": {"+15550801"}, "flow": {"nosuch"}})
			if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "Not assigned") {
				t.Errorf("assign an unknown flow: %d\n%s", res.StatusCode, body)
			}

			for _, p := range []string{"/ui/numbers/unassign", "/ui/numbers/sync", "/ui/playground", "/ui/playground/flowtest"} {
				res, _ := b.do("POST", p, url.Values{"number": {"+15550800"}, "channel": {"sms"}, "flow": {"gaps"}})
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s without csrf: %d, want 403", p, res.StatusCode)
				}
			}
			if e.numbers()["+15550800"].SMSFlow != "gaps" {
				t.Error("a refused unassign changed the number")
			}
			res, _ = b.do("POST", "/ui/numbers/unassign", url.Values{"csrf": {csrf}, "number": {"+15550800"}, "channel": {"sms"}})
			if res.StatusCode != http.StatusSeeOther || e.numbers()["+15550800"].SMSFlow != "" {
				t.Errorf("unassign: %d, SMS flow %q", res.StatusCode, e.numbers()["+15550800"].SMSFlow)
			}
			res, body = b.do("POST", "/ui/numbers/unassign", url.Values{"csrf": {csrf}, "number": {"+15550800"}, "channel": {"voice"}})
			if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "Not unassigned") {
				t.Errorf("unassign a channel not routed: %d\n%s", res.StatusCode, body)
			}
		})
	}
}

// TestNumbersSyncFromTwilio: without credentials the page says what to
// set; Twilio refusing says so in words (502) and changes nothing; a
// sync that works lists the account's new number.
func TestNumbersSyncFromTwilio(t *testing.T) {
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "ACtest" || p != "good" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"code": 20003, "message": "Authenticate"}`))
			return
		}
		w.Write([]byte(`{"incoming_phone_numbers": [{"phone_number": "+15550777", "friendly_name": "Billboard", "capabilities": {"sms": true, "voice": true}}], "next_page_uri": null}`))
	}))
	t.Cleanup(twilio.Close)
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, sc.open(t), &clock{t: start}, nil)
			b := e.browser()
			b.mustLogin(adminToken)
			csrf := b.csrf("/ui/numbers")
			res, body := b.do("POST", "/ui/numbers/sync", url.Values{"csrf": {csrf}})
			if res.StatusCode != http.StatusConflict || !strings.Contains(body, "set FLOWC_TWILIO_ACCOUNT_SID and FLOWC_TWILIO_AUTH_TOKEN") {
				t.Errorf("sync without credentials: %d\n%s", res.StatusCode, body)
			}
			e.srv.SetOutbound(&server.Outbound{TwilioAPIURL: twilio.URL, TwilioAccountSID: "ACtest", TwilioAuthToken: "wrong"})
			res, body = b.do("POST", "/ui/numbers/sync", url.Values{"csrf": {csrf}})
			if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, `id="sync-error"`) ||
				!strings.Contains(body, "Twilio answered 401 Unauthorized to IncomingPhoneNumbers page 1: Authenticate (Twilio error 20003); check FLOWC_TWILIO_ACCOUNT_SID") {
				t.Errorf("sync refused by Twilio: %d\n%s", res.StatusCode, body)
			}
			if _, ok := e.numbers()["+15550777"]; ok {
				t.Error("a failed sync stored a number")
			}
			e.srv.SetOutbound(&server.Outbound{TwilioAPIURL: twilio.URL, TwilioAccountSID: "ACtest", TwilioAuthToken: "good"})
			res, body = b.do("POST", "/ui/numbers/sync", url.Values{"csrf": {csrf}})
			if res.StatusCode != http.StatusOK || !strings.Contains(html.UnescapeString(body), "the account holds 1 number(s); new: +15550777") {
				t.Errorf("sync: %d\n%s", res.StatusCode, body)
			}
			if r := row(t, body, "+15550777"); !strings.Contains(r, "Billboard") || strings.Count(r, `class="missing"`) != 2 {
				t.Errorf("the synced number's row:\n%s", r)
			}
		})
	}
}

// TestAdminPagesAre403ForAgents: an agent's session gets 403 on each
// admin page and form, and its navigation links none of them.
func TestAdminPagesAre403ForAgents(t *testing.T) {
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	e.deploy(flowV1)
	b := e.browser()
	b.mustLogin(e.userToken("bob"))
	_, home := b.get("/ui/home")
	csrf := csrfRe.FindStringSubmatch(home)[1]
	for _, p := range []string{"/ui/numbers", "/ui/playground", "/ui/queues", "/ui/traces", "/ui/traces?sid=SM1"} {
		if code, body := b.get(p); code != http.StatusForbidden || !strings.Contains(body, "for administrators") {
			t.Errorf("agent GET %s: %d", p, code)
		}
		if strings.Contains(home, `href="`+strings.Split(p, "?")[0]+`"`) {
			t.Errorf("the agent's navigation links %s", p)
		}
	}
	for _, p := range []string{"/ui/numbers/assign", "/ui/numbers/unassign", "/ui/numbers/sync", "/ui/playground", "/ui/playground/flowtest"} {
		res, _ := b.do("POST", p, url.Values{"csrf": {csrf}, "number": {"+15550800"}, "flow": {"gaps"}, "channel": {"sms"}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("agent POST %s: %d", p, res.StatusCode)
		}
	}
	if n := e.numbers()["+15550800"]; n.SMSFlow != "" {
		t.Errorf("an agent's POST assigned a flow: %+v", n)
	}
}

// compile compiles source as the tests' flow file dir/gaps.flow.
func compile(t *testing.T, dir, source string) *vm.Program {
	t.Helper()
	path := filepath.Join(dir, "gaps.flow")
	if err := os.WriteFile(path, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if all := append(append(diag.List{}, res.Diags...), cd...); all.HasErrors() || len(progs) != 1 {
		t.Fatalf("does not compile: %v", all.Err())
	}
	return progs[0]
}

// TestPlaygroundPlaysAConversation: a deployed flow played as a contact
// (its menu, then a choice that goes to the sales inbox), the trace of
// the shown event marked on the source, the .flowtest it saves parsing
// and passing with flowc test's runner; nothing reaches the store.
func TestPlaygroundPlaysAConversation(t *testing.T) {
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	e.deploy(flowV1)
	b := e.browser()
	b.mustLogin(adminToken)
	csrf := b.csrf("/ui/playground")
	form := url.Values{"csrf": {csrf}, "flow": {"gaps"}, "at": {"2026-11-23T10:00"}, "from": {"+15557654321"}, "add": {"send"}, "message": {"hi"}}
	res, page := b.do("POST", "/ui/playground", form)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("play: %d\n%s", res.StatusCode, page)
	}
	if !strings.Contains(page, `reply &#34;Reply 1 for sales, 2 for news&#34;`) || !strings.Contains(page, `>send &#34;hi&#34;</textarea>`) {
		t.Errorf("the menu is not shown, or the event not kept:\n%s", page)
	}
	if !strings.Contains(page, `class="line hit" id="L8"`) || !strings.Contains(page, `gaps.flow:8:1`) {
		t.Errorf("the menu's line 8 is not marked as run:\n%s", page)
	}
	if !strings.Contains(page, `class="node`) || !strings.Contains(page, ` hit"`) {
		t.Errorf("no box of the drawing is highlighted")
	}
	form.Set("events", `send "hi"`)
	form.Set("message", "1")
	_, page = b.do("POST", "/ui/playground", form)
	if !strings.Contains(page, "inbox team:sales") || !strings.Contains(page, "Delivered: team:sales waits in the team") {
		t.Errorf("the choice 1 did not reach the sales inbox:\n%s", page)
	}
	// The first event's trace, step by step.
	form.Set("events", "send \"hi\"\nsend \"1\"")
	form.Del("add")
	form.Set("step", "1")
	_, page = b.do("POST", "/ui/playground", form)
	if !strings.Contains(page, `Trace of event 1: <code>send &#34;hi&#34;</code>`) {
		t.Errorf("step 1 not shown:\n%s", page)
	}

	res, test := b.do("POST", "/ui/playground/flowtest", form)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Disposition") != `attachment; filename="gaps.flowtest"` {
		t.Fatalf("download: %d %v\n%s", res.StatusCode, res.Header, test)
	}
	dir := t.TempDir()
	prog := compile(t, dir, flowV1)
	if err := os.WriteFile(filepath.Join(dir, "gaps.flowtest"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := scenario.ParseFile(filepath.Join(dir, "gaps.flowtest"))
	if err != nil {
		t.Fatalf("the saved .flowtest does not parse: %v\n%s", err, test)
	}
	for _, want := range []string{"at 2026-11-23T10:00:00Z\n", "  send \"hi\"\n  expect reply \"Reply 1 for sales, 2 for news\"\n  expect wait\n", "  send \"1\"\n  expect inbox team:sales\n"} {
		if !strings.Contains(test, want) {
			t.Errorf("the .flowtest lacks %q:\n%s", want, test)
		}
	}
	if r := scenario.Run(context.Background(), f.Tests[0], prog); len(r.Failures) > 0 {
		t.Errorf("the saved .flowtest fails: %+v\n%s", r.Failures, test)
	}
	// In memory only: the store has no message and no conversation of it.
	if code, _ := e.api("GET", "/v1/admin/executions/SM000001", nil); code != http.StatusNotFound {
		t.Errorf("the playground's message is in the store: %d", code)
	}
	if code, body := e.api("GET", "/v1/admin/contacts/+15557654321", nil); strings.Contains(string(body), "gaps") {
		t.Errorf("the playground's conversation reached the contact: %d %s", code, body)
	}
}

// TestPlaygroundDraftAndBounds: a pasted draft plays without being
// deployed; one that does not compile shows its diagnostics; the
// draft's size, the events and a message are bounded, each refusal
// naming the field.
func TestPlaygroundDraftAndBounds(t *testing.T) {
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	b := e.browser()
	b.mustLogin(adminToken)
	csrf := b.csrf("/ui/playground")
	play := func(f url.Values) (int, string) {
		f.Set("csrf", csrf)
		res, body := b.do("POST", "/ui/playground", f)
		return res.StatusCode, body
	}
	if code, page := play(url.Values{"draft": {flowV2}, "add": {"send"}, "message": {"hello"}}); code != http.StatusOK || !strings.Contains(page, `reply &#34;Hello&#34;`) {
		t.Errorf("draft: %d\n%s", code, page)
	}
	if code, _ := e.api("GET", "/v1/admin/flows/gaps/versions", nil); code != http.StatusNotFound {
		t.Errorf("playing a draft deployed it: %d", code)
	}
	if code, page := play(url.Values{"draft": {"flow broken\nreply\n"}, "add": {"send"}, "message": {"hi"}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "The draft does not compile") || !strings.Contains(page, `id="diagnostics"`) {
		t.Errorf("broken draft: %d\n%s", code, page)
	}
	cases := []struct {
		form url.Values
		want string
	}{
		{url.Values{"draft": {flowV2 + "#" + strings.Repeat("x", 33<<10) + "\n"}}, "draft: the source is"},
		{url.Values{"draft": {flowV2}, "events": {strings.Repeat("send \"x\"\n", 41)}}, "events: 41 events; a playground session plays at most 40"},
		{url.Values{"draft": {flowV2}, "add": {"send"}, "message": {strings.Repeat("y", 1601)}}, "event 1: the message is 1601 bytes; at most 1600"},
		{url.Values{"draft": {flowV2}, "events": {"agent bob accepts"}}, "event 1 (agent bob accepts): the playground plays send, wait"},
		{url.Values{"draft": {flowV2}, "events": {"wait soon"}}, "event 1 (wait soon):"},
		{url.Values{"draft": {flowV2}, "at": {"tomorrow"}}, "at: &#34;tomorrow&#34; is not a time"},
		{url.Values{"draft": {flowV2}, "from": {"5551234"}}, "from: &#34;5551234&#34; is not an E.164 number"},
	}
	for _, c := range cases {
		if code, page := play(c.form); code != http.StatusBadRequest || !strings.Contains(page, c.want) {
			t.Errorf("%v: %d, want 400 with %q\n%s", c.form, code, c.want, page)
		}
	}
	// A form past the console's 64 KiB is refused as such (not as a
	// missing CSRF token).
	if code, page := play(url.Values{"draft": {strings.Repeat("#", 70<<10)}}); code != http.StatusRequestEntityTooLarge || !strings.Contains(page, "larger than 64 KiB") {
		t.Errorf("a 70 KiB form: %d\n%s", code, page)
	}
	// The CSRF token is required.
	if res, _ := b.do("POST", "/ui/playground", url.Values{"draft": {flowV2}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("playground without csrf: %d", res.StatusCode)
	}
}

// TestTracesAndQueuesPages: a message found by its SID, each step with
// its file:line linked to the line of the version that ran; an unknown
// SID is a 404 in words; the queues page lists the directory's teams.
func TestTracesAndQueuesPages(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, sc.open(t), &clock{t: start}, nil)
			v1 := e.deploy(flowV1)
			if code, body := e.api("POST", "/v1/messages", map[string]string{"sid": "SMtrace1", "from": "+15557654321", "to": "+15550900", "body": "hi"}); code != http.StatusOK {
				t.Fatalf("message: %d %s", code, body)
			}
			b := e.browser()
			b.mustLogin(adminToken)
			code, page := b.get("/ui/traces?sid=SMtrace1")
			if code != http.StatusOK || !strings.Contains(page, "Message <code>SMtrace1</code>") {
				t.Fatalf("trace: %d\n%s", code, page)
			}
			if !strings.Contains(page, `href="/ui/flows/gaps?version=`+v1+`#L8"`) || !strings.Contains(page, "gaps.flow:8:1") {
				t.Errorf("the trace does not link its steps to the source lines:\n%s", page)
			}
			if code, page := b.get("/ui/traces?sid=SMnone"); code != http.StatusNotFound || !strings.Contains(page, "No message and no call has the SID SMnone") {
				t.Errorf("unknown SID: %d\n%s", code, page)
			}
			if code, page := b.get("/ui/traces?sid=" + url.QueryEscape("a/b c")); code != http.StatusBadRequest || !strings.Contains(page, "sid:") {
				t.Errorf("bad SID: %d\n%s", code, page)
			}
			// A call, step by step.
			src, _ := os.ReadFile("../../examples/main-line.flow")
			if code, body := e.api("POST", "/v1/admin/flows", server.DeployRequest{File: "main-line.flow", Source: string(src)}); code >= 300 {
				t.Fatalf("deploy main-line: %d %s", code, body)
			}
			call := url.Values{"CallSid": {"CAtrace1"}, "From": {"+15557654321"}, "To": {"+15550100"}, "CallStatus": {"ringing"}}
			res, err := http.PostForm(e.ts.URL+server.VoicePath, call)
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("call: %v %v", err, res)
			}
			res.Body.Close()
			code, page = b.get("/ui/traces?sid=CAtrace1")
			page = html.UnescapeString(page)
			if code != http.StatusOK || !strings.Contains(page, "Call <code>CAtrace1</code>") || !strings.Contains(page, "Step 1: call from +15557654321") ||
				!strings.Contains(page, `href="/ui/flows/main-line?version=`) || !strings.Contains(page, "main-line.flow:44:3</a> <code>voicemail</code>") || !strings.Contains(page, "<Record ") {
				t.Errorf("call trace: %d\n%s", code, page)
			}
			// By contact: their text and their call, each linking to its trace.
			code, page = b.get("/ui/traces?contact=" + url.QueryEscape("+15557654321"))
			if code != http.StatusOK || !strings.Contains(page, `href="/ui/traces?sid=SMtrace1"`) || !strings.Contains(page, `href="/ui/traces?sid=CAtrace1"`) {
				t.Errorf("traces by contact: %d\n%s", code, page)
			}
			if code, page := b.get("/ui/traces?contact=" + url.QueryEscape("+15550000")); code != http.StatusOK || !strings.Contains(html.UnescapeString(page), "No text or call of +15550000 is stored.") {
				t.Errorf("a contact with no history: %d\n%s", code, page)
			}
			e.queueOne()
			code, page = b.get("/ui/queues")
			if code != http.StatusOK || !strings.Contains(page, `<tr id="q-sales">`) {
				t.Errorf("queues: %d\n%s", code, page)
			}
			if r := page[strings.Index(page, `<tr id="q-support">`):]; !strings.HasPrefix(r[strings.Index(r, "<td"):], `<td class="waiting">1</td>
    <td>3m0s</td>`) {
				t.Errorf("the support queue: want 1 waiting for 3m0s:\n%s", r[:min(len(r), 400)])
			}
		})
	}
}

// TestPlaygroundPlaysACall: a call flow pasted as a draft is called
// first, then plays the caller's keys and the ring's answer with the
// server's directory (team:sales rung in order: alice first); the saved
// .flowtest parses and passes beside the flow and the directory.
func TestPlaygroundPlaysACall(t *testing.T) {
	src, err := os.ReadFile("../../examples/main-line.flow")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	b := e.browser()
	b.mustLogin(adminToken)
	form := url.Values{"csrf": {b.csrf("/ui/playground")}, "draft": {string(src)}, "at": {"2026-11-23T10:00"}, "events": {"press 1"}, "add": {"call"}, "callevent": {"ringing alice answers"}}
	res, page := b.do("POST", "/ui/playground", form)
	page = html.UnescapeString(page)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("play: %d\n%s", res.StatusCode, page)
	}
	for _, want := range []string{"call\npress 1\nringing alice answers</textarea>", `gather "For sales, press 1.`, "ring alice (team:sales) in order", `id="event-3"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the call's page lacks %q:\n%s", want, page)
		}
	}
	form.Del("add")
	form.Set("events", "call\npress 1\nringing alice answers")
	res, test := b.do("POST", "/ui/playground/flowtest", form)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Disposition") != `attachment; filename="main-line.flowtest"` {
		t.Fatalf("download: %d\n%s", res.StatusCode, test)
	}
	dir := t.TempDir()
	dirJSON, _ := os.ReadFile("../../examples/directory.json")
	os.WriteFile(filepath.Join(dir, "directory.json"), dirJSON, 0o644)
	if err := os.WriteFile(filepath.Join(dir, "main-line.flow"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "main-line.flowtest"), []byte(test), 0o644)
	lr, err := lang.Load([]string{filepath.Join(dir, "main-line.flow")})
	if err != nil {
		t.Fatal(err)
	}
	progs, _ := compiler.All(lr)
	f, err := scenario.ParseFile(filepath.Join(dir, "main-line.flowtest"))
	if err != nil {
		t.Fatalf("the saved .flowtest does not parse: %v\n%s", err, test)
	}
	if r := scenario.Run(context.Background(), f.Tests[0], progs[0]); len(r.Failures) > 0 {
		t.Errorf("the saved .flowtest fails: %+v\n%s", r.Failures, test)
	}
	if !strings.Contains(test, "  call\n  expect say \"Thanks for calling Example Co.\"\n") || !strings.Contains(test, "  press 1\n  expect ring in order alice\n") {
		t.Errorf("the .flowtest:\n%s", test)
	}
}

// queueOne deploys a flow that queues every text to team:support and
// texts it; three minutes pass.
func (e *env) queueOne() {
	e.t.Helper()
	const queueFlow = `flow support-queue
numbers "+15550960"
timezone "UTC"

queue team:support round-robin max 2 wait 10m service-level 2m reserve 1m <
  on full    -> reply "All our agents are busy." then end
  on timeout -> reply "Sorry, nobody is free." then end
>
`
	if code, body := e.api("POST", "/v1/admin/flows", server.DeployRequest{File: "support-queue.flow", Source: queueFlow}); code >= 300 {
		e.t.Fatalf("deploy: %d %s", code, body)
	}
	if code, body := e.api("POST", "/v1/messages", map[string]string{"sid": "SMqueue1", "from": "+15557650001", "to": "+15550960", "body": "my order is late"}); code != http.StatusOK {
		e.t.Fatalf("message: %d %s", code, body)
	}
	e.clock.Add(3 * time.Minute)
}

// TestNumbersPagePages: 60 numbers synced show 50 on the first page and
// the rest after "Next page" (the listing's cursor).
func TestNumbersPagePages(t *testing.T) {
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var nums []string
		for i := 0; i < 60; i++ {
			nums = append(nums, `{"phone_number": "+1555070`+strconv.Itoa(1000+i)+`", "capabilities": {"sms": true, "voice": false}}`)
		}
		w.Write([]byte(`{"incoming_phone_numbers": [` + strings.Join(nums, ",") + `], "next_page_uri": null}`))
	}))
	t.Cleanup(twilio.Close)
	e := newEnv(t, stores[0].open(t), &clock{t: start}, func(c *server.Config) {
		c.Outbound = &server.Outbound{TwilioAPIURL: twilio.URL, TwilioAccountSID: "ACtest", TwilioAuthToken: "good"}
	})
	b := e.browser()
	b.mustLogin(adminToken)
	if res, _ := b.do("POST", "/ui/numbers/sync", url.Values{"csrf": {b.csrf("/ui/numbers")}}); res.StatusCode != http.StatusOK {
		t.Fatalf("sync: %d", res.StatusCode)
	}
	_, page := b.get("/ui/numbers")
	if n := strings.Count(page, `<tr id="n`); n != 50 {
		t.Errorf("first page: %d numbers, want 50", n)
	}
	next := regexp.MustCompile(`href="(/ui/numbers\?after=[^"]+)" id="next-page"`).FindStringSubmatch(page)
	if next == nil {
		t.Fatal("no next page link")
	}
	// The second page: +15550701050 to +15550701059, then the directory's +15550800.
	_, page = b.get(html.UnescapeString(next[1]))
	if n := strings.Count(page, `<tr id="n`); n != 11 || strings.Contains(page, `id="next-page"`) {
		t.Errorf("second page: %d numbers (want 11), next link: %v", n, strings.Contains(page, `id="next-page"`))
	}
	if r := row(t, page, "+15550701059"); strings.Count(r, `class="missing"`) != 1 || !strings.Contains(r, "cannot receive calls") {
		t.Errorf("a number that cannot receive calls is red for them:\n%s", r)
	}
}
