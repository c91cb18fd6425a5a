package server

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// FuzzCallRequest drives the voice webhook's decoding (parseCallRequest)
// with arbitrary query strings and form bodies, seeded from the requests
// examples/main-line.flowtest's scenarios make. It must never panic, and
// a request it takes is bounded and storable: a CallSid, From and To of
// at most MaxIDBytes of valid UTF-8 without NUL, a step within
// MaxCallSteps, digits of 0-9 * #, a recording URL of http(s).
//
//	go test ./server/ -run '^$' -fuzz FuzzCallRequest -fuzztime 60s
func FuzzCallRequest(f *testing.F) {
	for _, seed := range [][2]string{
		{"", "CallSid=CA0001&From=%2B15557654321&To=%2B15550100&CallStatus=ringing&Direction=inbound"},
		{"step=1&on=gather", "CallSid=CA0001&From=%2B15557654321&To=%2B15550100&Digits=1"},
		{"step=1&on=gather", "CallSid=CA0001&From=%2B15557654321&To=%2B15550100&Digits="},
		{"on=dial&step=2", "CallSid=CA0001&From=%2B15557654321&To=%2B15550100&DialCallStatus=no-answer"},
		{"on=dial&step=2&unringable=1", "CallSid=CA0001&From=%2B15557654321&To=%2B15550100"},
		{"on=record&step=3", "CallSid=CA0001&From=%2B15557654321&To=%2B15550100&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2FRE1&RecordingDuration=30"},
		{"step=99999999999999999999&on=gather", "CallSid=CA0001&From=1&To=2"},
		{"%zz", "CallSid=%00&From=&To="},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, query, body string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		c, err := parseCallRequest(q, form)
		if err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("error %T %v, want *badRequest", err, err)
			}
			return
		}
		for _, v := range []string{c.SID, c.From, c.To} {
			if v == "" || len(v) > MaxIDBytes || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("took %q", v)
			}
		}
		if c.Step < 0 || c.Step > MaxCallSteps || (c.Step == 0) != (c.Event.Kind == vm.EventCall) {
			t.Fatalf("took step %d for event %v", c.Step, c.Event.Kind)
		}
		if d := c.Event.Message.Body; strings.Trim(d, "0123456789*#") != "" || len(d) > MaxDigits {
			t.Fatalf("took digits %q", d)
		}
		if r := c.Event.Call.Recording; r != "" && !strings.HasPrefix(r, "http") {
			t.Fatalf("took recording %q", r)
		}
	})
}

// FuzzCallTwiML renders arbitrary text (a flow's say, prompt and text
// templates insert contacts' and applets' values) in every verb: the
// answer must always be XML Twilio can parse, and say back what was
// written (invalid UTF-8 and characters XML cannot hold are replaced).
//
//	go test ./server/ -run '^$' -fuzz FuzzCallTwiML -fuzztime 60s
func FuzzCallTwiML(f *testing.F) {
	for _, s := range []string{"Thanks for calling Example Co.", "For sales, press 1 & <stay>", "]]>", "\x00\x01\ufffe", "caf\xe9"} {
		f.Add(s)
	}
	s := New(Config{Logger: discard}, nil)
	f.Fuzz(func(t *testing.T, text string) {
		acts := []vm.Action{
			{Kind: vm.ActSay, Text: text, Voice: &vm.VoiceAction{Voice: text, Language: text}},
			{Kind: vm.ActPlay, Text: text},
			{Kind: vm.ActGather, Text: text, Voice: &vm.VoiceAction{}},
		}
		out := s.renderCall(acts, &store.Call{SID: "CA1", Step: 1}, nil, true)
		var doc struct {
			Say []string `xml:"Say"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("TwiML for %q does not parse: %v\n%s", text, err, out)
		}
		if len(doc.Say) != 1 || doc.Say[0] != xmlText(text) {
			t.Fatalf("say %q came out as %q", text, doc.Say)
		}
	})
}
