package server_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/scenario"
)

// TestCallScenariosThroughTheServer: every scenario of
// examples/main-line.flowtest (the main line's call flow) runs once,
// driving both the simulator (`flowc test`, where every expectation is
// checked) and the server's voice webhook as Twilio would: each callback
// is the one the last TwiML answer asked for (its Gather's, Dial's or
// Record's action URL, a rung number's statusCallback), signed and
// checked with twilio-go's validator. After each step the server's TwiML
// must say, play, gather, ring and record what the simulator's actions
// did, be well-formed (xmllint when installed; required in CI), the texts
// back must be in the outbox and the voicemails in the inbox, and the call
// must be over exactly when the simulator's is. Every callback is then
// sent again, as Twilio retries it: the same TwiML, and nothing new
// stored. On both stores.
func TestCallScenariosThroughTheServer(t *testing.T) {
	const flowPath = "../examples/main-line.flow"
	src, err := os.ReadFile(flowPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{flowPath})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() || len(progs) != 1 {
		t.Fatalf("main-line.flow: %v %v", res.Diags.Err(), cd.Err())
	}
	file, err := scenario.ParseFile("../examples/main-line.flowtest")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			for _, test := range file.Tests {
				t.Run(test.Name, func(t *testing.T) {
					h := startFlowAt(t, sc.open(t), "main-line.flow", string(src), time.Date(2026, 11, 23, 10, 0, 0, 0, ny), nil)
					d := &callDriver{h: h, t: t, caller: test.From, number: progs[0].CallNumbers[0]}
					r := scenario.RunWith(context.Background(), test, progs[0], nil, scenario.WithObserver(d.observe))
					for _, f := range r.Failures {
						t.Errorf("%s: expected %s, got %s", f.Where, f.Expected, f.Got)
					}
					if d.steps == 0 {
						t.Error("the server was never driven")
					}
				})
			}
		})
	}
}

// callDriver plays each scenario step as Twilio's request for it.
type callDriver struct {
	h              *harness
	t              *testing.T
	caller, number string
	calls          int
	sid            string
	last           *twimlDoc // the server's last answer
	steps          int
	texts          int            // outbox items seen so far
	inbox          map[int64]bool // inbox items seen so far
}

func (d *callDriver) observe(ctx context.Context, o scenario.Observed) error {
	d.steps++
	d.h.clock.Set(o.Conv.Env.Clock)
	var answers []string
	switch s := o.Step; s.Kind {
	case scenario.StepCall:
		d.calls++
		d.sid = fmt.Sprintf("CA%032d", d.calls)
		answers = append(answers, d.request(ctx, "call", "/webhooks/twilio/voice", nil))
	case scenario.StepPress:
		answers = append(answers, d.request(ctx, "press", d.waiting("Gather"), url.Values{"Digits": {s.Call.Event.Message.Body}}))
	case scenario.StepWait:
		for range o.Results { // each gather timeout the simulator fired
			answers = append(answers, d.request(ctx, "timeout", d.waiting("Gather"), url.Values{"Digits": {""}}))
		}
	case scenario.StepRinging:
		if r := d.last.verb("Redirect"); r != nil { // nobody to ring: Twilio follows the redirect
			answers = append(answers, d.request(ctx, "redirect", r.URL, nil))
			break
		}
		ev := s.Call.Event.Call
		status := map[string]string{"answered": "completed", "no-answer": "no-answer", "busy": "busy", "failed": "failed"}[ev.Status]
		if ev.Status == "answered" {
			leg := d.last.legOf(ev.Member)
			if leg == "" {
				return fmt.Errorf("the server's dial has no leg for %s: %s", ev.Member, d.last.raw)
			}
			d.leg(leg)
		}
		answers = append(answers, d.request(ctx, "dial", d.waiting("Dial"), url.Values{"DialCallStatus": {status}}))
	case scenario.StepRecord:
		rec := ""
		for _, r := range o.Results {
			for _, a := range r.Actions {
				if a.Kind == vm.ActRecorded {
					rec = a.Text
				}
			}
		}
		answers = append(answers, d.request(ctx, "record", d.waiting("Record"), url.Values{
			"RecordingUrl": {rec}, "RecordingDuration": {fmt.Sprint(int(s.Call.Event.Call.Length / time.Second))}}))
	case scenario.StepCallerHangsUp:
		d.status("completed")
	default:
		return fmt.Errorf("the call driver does not take %q", s.Text)
	}
	// What the caller heard and who was rung: the TwiML's verbs against
	// the simulator's actions.
	var got, want []string
	for _, a := range answers {
		doc := parseTwiML(d.t, a)
		got = append(got, doc.describe()...)
		d.last = doc
	}
	for _, r := range o.Results {
		for _, a := range r.Actions {
			if w := describeAction(a); w != "" {
				want = append(want, w)
			}
		}
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%q: the server answered %q, the simulator did %q", o.Step.Text, got, want)
	}
	if got, want := d.newTexts(), textsOf(o.Results); !slices.Equal(got, want) {
		return fmt.Errorf("%q: the server texted %q, the simulator %q", o.Step.Text, got, want)
	}
	if got, want := d.newInboxItems(), deliveriesOf(o.Results); !slices.Equal(got, want) {
		return fmt.Errorf("%q: the server delivered to %q, the simulator to %q", o.Step.Text, got, want)
	}
	if over := d.callOver(ctx); over != (o.Conv.State == nil) {
		return fmt.Errorf("%q: the server's call over %v, the simulator's %v", o.Step.Text, over, o.Conv.State == nil)
	}
	return nil
}

// request posts one voice request for the call (to a URL the server's
// TwiML gave, or the webhook itself), checks its answer, then posts it
// again as a retry would: the same answer, nothing more stored.
func (d *callDriver) request(ctx context.Context, what, target string, extra url.Values) string {
	d.t.Helper()
	form := url.Values{"CallSid": {d.sid}, "AccountSid": {"AC" + strings.Repeat("0", 32)}, "From": {d.caller}, "To": {d.number},
		"CallStatus": {"in-progress"}, "Direction": {"inbound"}}
	for k, v := range extra {
		form[k] = v
	}
	path := d.path(target)
	code, body := d.h.postSigned(path, form)
	if code != http.StatusOK {
		d.t.Fatalf("%s: POST %s: %d %s", what, path, code, body)
	}
	xmllint(d.t, body)
	before := d.storedCounts(ctx)
	if code2, body2 := d.h.postSigned(path, form); code2 != code || body2 != body {
		d.t.Fatalf("%s retried: %d %s, first %d %s", what, code2, body2, code, body)
	}
	if after := d.storedCounts(ctx); after != before {
		d.t.Fatalf("%s retried: the store went from %v to %v", what, before, after)
	}
	return body
}

// path is a callback URL the server wrote, as a path on the test server.
func (d *callDriver) path(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		d.t.Fatalf("callback URL %q: %v", target, err)
	}
	if u.RawQuery == "" {
		return u.Path
	}
	return u.Path + "?" + u.RawQuery
}

// waiting is the action URL of the last answer's verb that waits.
func (d *callDriver) waiting(verb string) string {
	d.t.Helper()
	if d.last == nil {
		d.t.Fatalf("no answer waits for a %s callback", verb)
	}
	v := d.last.verb(verb)
	if v == nil || v.Action == "" {
		d.t.Fatalf("the last answer has no <%s action>: %s", verb, d.last.raw)
	}
	return v.Action
}

// leg posts a rung leg's answer (the noun's statusCallback).
func (d *callDriver) leg(cb string) {
	d.t.Helper()
	form := url.Values{"CallSid": {"CA" + strings.Repeat("9", 32)}, "ParentCallSid": {d.sid}, "CallStatus": {"in-progress"},
		"AccountSid": {"AC" + strings.Repeat("0", 32)}}
	for range 2 { // Twilio may send it twice
		if code, body := d.h.postSigned(d.path(cb), form); code != http.StatusNoContent {
			d.t.Fatalf("leg answered: %d %s", code, body)
		}
	}
}

// status posts the call's status callback.
func (d *callDriver) status(st string) {
	d.t.Helper()
	form := url.Values{"CallSid": {d.sid}, "From": {d.caller}, "To": {d.number}, "CallStatus": {st}}
	for range 2 {
		if code, body := d.h.postSigned("/webhooks/twilio/voice/status", form); code != http.StatusNoContent {
			d.t.Fatalf("status %s: %d %s", st, code, body)
		}
	}
}

// storedCounts is what a retry must not change: the call's steps, the
// outbox and the inbox.
func (d *callDriver) storedCounts(ctx context.Context) [3]int {
	var n [3]int
	err := d.h.store.InTx(ctx, func(tx store.Tx) error {
		steps, err := tx.(store.CallsTx).CallSteps(ctx, d.sid)
		if err != nil {
			return err
		}
		items, err := tx.(store.OutboxTx).OutboxItems(ctx, "", 0)
		if err != nil {
			return err
		}
		inbox, err := tx.InboxItems(ctx, "", "", false)
		n = [3]int{len(steps), len(items), len(inbox)}
		return err
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

func (d *callDriver) newTexts() []string {
	var out []string
	items := d.h.outbox("")
	for _, it := range items[d.texts:] {
		if it.Kind == "sms" && it.To == d.caller && it.From == d.number {
			out = append(out, it.Body)
		}
	}
	d.texts = len(items)
	return out
}

// newInboxItems are the targets of the inbox items not seen before,
// each checked to carry the recording.
func (d *callDriver) newInboxItems() []string {
	var items []store.InboxItem
	err := d.h.store.InTx(context.Background(), func(tx store.Tx) error {
		for _, team := range []string{"sales", "support"} {
			its, err := tx.InboxItems(context.Background(), "team", team, false)
			if err != nil {
				return err
			}
			items = append(items, its...)
		}
		return nil
	})
	if err != nil {
		d.t.Fatal(err)
	}
	if d.inbox == nil {
		d.inbox = map[int64]bool{}
	}
	var out []string
	for _, it := range items {
		if d.inbox[it.ID] {
			continue
		}
		d.inbox[it.ID] = true
		out = append(out, it.TargetKind+":"+it.TargetName)
		if !strings.HasPrefix(it.Body, "Voicemail (") || it.Contact != d.caller || it.Number != d.number ||
			len(it.Messages) != 1 || len(it.Messages[0].Media) != 1 || !strings.Contains(it.Body, it.Messages[0].Media[0]) {
			d.t.Errorf("voicemail inbox item %+v: want its body and media to carry the recording", it)
		}
	}
	return out
}

func (d *callDriver) callOver(ctx context.Context) bool {
	var c *store.Call
	err := d.h.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.(store.CallsTx).Call(ctx, d.sid)
		return err
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return c.State == nil && !c.Ended.IsZero()
}

func textsOf(results []*vm.Result) []string {
	var out []string
	for _, r := range results {
		for _, a := range r.Actions {
			if a.Kind == vm.ActText {
				out = append(out, a.Text)
			}
		}
	}
	return out
}

func deliveriesOf(results []*vm.Result) []string {
	var out []string
	for _, r := range results {
		for _, a := range r.Actions {
			if a.Kind == vm.ActDeliver {
				out = append(out, a.Target.Kind+":"+a.Target.Name)
			}
		}
	}
	return out
}

// describeAction is what a simulator's call action sounds like, as
// twimlDoc.describe tells the server's answer ("": not heard).
func describeAction(a vm.Action) string {
	switch a.Kind {
	case vm.ActSay:
		return "say " + a.Text
	case vm.ActPlay:
		return "play " + a.Text
	case vm.ActGather:
		return fmt.Sprintf("gather %ds %s", int(a.Voice.Timeout/time.Second), a.Text)
	case vm.ActDial:
		return fmt.Sprintf("dial %ds %s", int(a.Voice.Timeout/time.Second), strings.Join(a.Voice.Members, ","))
	case vm.ActRecord:
		return fmt.Sprintf("record %ds", int(a.Voice.Length/time.Second))
	case vm.ActForward:
		return "forward " + a.Target.Name
	}
	return ""
}

// twimlDoc is a voice answer, parsed.
type twimlDoc struct {
	raw   string
	Verbs []twimlVerb `xml:",any"`
}

type twimlVerb struct {
	XMLName  xml.Name
	Text     string      `xml:",chardata"`
	Action   string      `xml:"action,attr"`
	Timeout  string      `xml:"timeout,attr"`
	Max      string      `xml:"maxLength,attr"`
	Input    string      `xml:"input,attr"`
	OnEmpty  string      `xml:"actionOnEmptyResult,attr"`
	Callback string      `xml:"recordingStatusCallback,attr"`
	URL      string      `xml:"-"`
	Nouns    []twimlNoun `xml:",any"`
}

type twimlNoun struct {
	XMLName        xml.Name
	Text           string `xml:",chardata"`
	StatusCallback string `xml:"statusCallback,attr"`
	Event          string `xml:"statusCallbackEvent,attr"`
}

func parseTwiML(t *testing.T, s string) *twimlDoc {
	t.Helper()
	doc := &twimlDoc{raw: s}
	if err := xml.Unmarshal([]byte(s), doc); err != nil {
		t.Fatalf("TwiML %s: %v", s, err)
	}
	for i := range doc.Verbs {
		if v := &doc.Verbs[i]; v.XMLName.Local == "Redirect" {
			v.URL = strings.TrimSpace(v.Text)
		}
	}
	return doc
}

func (d *twimlDoc) verb(name string) *twimlVerb {
	for i := range d.Verbs {
		if d.Verbs[i].XMLName.Local == name {
			return &d.Verbs[i]
		}
	}
	return nil
}

// legOf is the statusCallback of the last dial's leg ringing member.
func (d *twimlDoc) legOf(member string) string {
	if v := d.verb("Dial"); v != nil {
		for _, n := range v.Nouns {
			if u, err := url.Parse(n.StatusCallback); err == nil && u.Query().Get("member") == member {
				return n.StatusCallback
			}
		}
	}
	return ""
}

// describe is what the answer makes the caller hear and who it rings,
// checking each verb's structure against Twilio's documentation of it.
func (d *twimlDoc) describe() []string {
	var out []string
	for _, v := range d.Verbs {
		switch v.XMLName.Local {
		case "Say":
			out = append(out, "say "+v.Text)
		case "Play":
			out = append(out, "play "+strings.TrimSpace(v.Text))
		case "Gather":
			prompt := ""
			for _, n := range v.Nouns {
				if n.XMLName.Local == "Say" {
					prompt = n.Text
				}
			}
			if v.Input != "dtmf" || v.OnEmpty != "true" || v.Action == "" {
				out = append(out, "malformed gather: "+d.raw)
			}
			out = append(out, fmt.Sprintf("gather %ss %s", v.Timeout, prompt))
		case "Dial":
			var members []string
			if v.Action == "" { // a forward
				out = append(out, "forward "+strings.TrimSpace(v.Nouns[0].Text))
				continue
			}
			for _, n := range v.Nouns {
				u, err := url.Parse(n.StatusCallback)
				if err != nil || n.Event != "answered" || strings.TrimSpace(n.Text) == "" {
					out = append(out, "malformed dial noun: "+d.raw)
					continue
				}
				if m := u.Query().Get("member"); !slices.Contains(members, m) {
					members = append(members, m)
				}
			}
			out = append(out, fmt.Sprintf("dial %ss %s", v.Timeout, strings.Join(members, ",")))
		case "Record":
			if v.Action == "" || v.Callback == "" {
				out = append(out, "malformed record: "+d.raw)
			}
			out = append(out, fmt.Sprintf("record %ss", v.Max))
		case "Hangup", "Redirect":
		default:
			out = append(out, "unexpected <"+v.XMLName.Local+">")
		}
	}
	return out
}

// xmllint checks that the answer is well-formed XML with xmllint
// (libxml2-utils), when installed; FLOWC_TEST_REQUIRE_XMLLINT=1 (CI)
// makes its absence a failure.
func xmllint(t *testing.T, doc string) {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("FLOWC_TEST_REQUIRE_XMLLINT") == "1" {
			t.Fatal("xmllint is not installed (FLOWC_TEST_REQUIRE_XMLLINT=1)")
		}
		return
	}
	cmd := exec.Command(path, "--noout", "-")
	cmd.Stdin = strings.NewReader(doc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xmllint: %v: %s\n%s", err, stderr.String(), doc)
	}
}
