package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

// TestTraceACall: `flowc trace CALLSID` tells a call step by step: what
// Twilio said at each step, the flow's steps with file:line, and the text
// back it sent; --json is the server's CallExecution.
func TestTraceACall(t *testing.T) {
	at := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) // 10:00 in New York: in hours
	as := startAdminServer(t, "../../examples/main-line.flow", server.Config{Now: func() time.Time { return at }})
	post := func(path string, f url.Values) {
		t.Helper()
		f.Set("CallSid", "CA0001")
		f.Set("From", "+15557654321")
		f.Set("To", "+15550100")
		resp, err := http.PostForm(as.url+path, f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
	post("/webhooks/twilio/voice", url.Values{})
	post("/webhooks/twilio/voice?step=1&on=gather", url.Values{"Digits": {"2"}})
	post("/webhooks/twilio/voice?step=2&on=dial", url.Values{"DialCallStatus": {"no-answer"}})
	code, out, errOut := as.flowc("trace", "CA0001")
	for _, want := range []string{
		"call CA0001 from +15557654321 to +15550100 at 2026-11-23T15:00:00Z (in progress)",
		"step 1 at 15:00:00: call from +15557654321",
		"step 2 at 15:00:00: gather: pressed 2",
		"step 3 at 15:00:00: dial: no-answer",
		"main-line.flow:",
		"→ sms ",
	} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("trace CA0001: %d, want %q in\n%s%s", code, want, out, errOut)
		}
	}
	if code, out, _ := as.flowc("trace", "CA0001", "--json"); code != exitOK || !strings.Contains(out, `"twiml": "<?xml`) {
		t.Errorf("trace --json: %d\n%s", code, out)
	}
	if code, _, errOut := as.flowc("trace", "CA0404"); code == exitOK || !strings.Contains(errOut, "no call CA0404") {
		t.Errorf("trace of an unknown call: %d %s", code, errOut)
	}
}
