package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/server"
)

// fakeIncomingNumbers is a one-page Twilio IncomingPhoneNumbers list of
// the account AC1 with auth token tok.
func fakeIncomingNumbers(t *testing.T, numbers string) *httptest.Server {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "AC1" || p != "tok" || r.URL.Path != "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code": 20003, "message": "Authenticate", "status": 401}`)
			return
		}
		fmt.Fprintf(w, `{"incoming_phone_numbers": [%s], "next_page_uri": null}`, numbers)
	}))
	t.Cleanup(hs.Close)
	return hs
}

// TestNumbersCommand: `flowc numbers sync` imports the Twilio account's
// numbers; `flowc numbers` lists every number with its SMS flow and call
// flow, MISSING where there is none (no color into a pipe), and exits 0;
// assign routes a call flow's calls; unassign --calls / --texts picks.
func TestNumbersCommand(t *testing.T) {
	twilio := fakeIncomingNumbers(t, `{"phone_number": "+15550950", "friendly_name": "Fax line", "capabilities": {"sms": false, "voice": true}},
		{"phone_number": "+15550100", "friendly_name": "Main", "capabilities": {"sms": true, "voice": true}}`)
	as := startAdminServer(t, "../../examples", server.Config{Outbound: &server.Outbound{TwilioAPIURL: twilio.URL, TwilioAccountSID: "AC1", TwilioAuthToken: "tok"}})
	flowc := as.flowc
	code, out, errOut := flowc("numbers", "sync")
	if code != exitOK || !strings.Contains(out, "the Twilio account holds 2 numbers: 2 new, 0 removed") || !strings.Contains(out, "+ +15550950") {
		t.Fatalf("numbers sync: %d %s %s", code, out, errOut)
	}
	row := func(out, number string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, number+" ") {
				return l
			}
		}
		t.Fatalf("no row for %s in\n%s", number, out)
		return ""
	}
	code, out, errOut = flowc("numbers")
	if code != exitOK || !regexp.MustCompile(`^NUMBER +NAME +SMS FLOW +CALL FLOW\n`).MatchString(out) || strings.Contains(out, "\x1b") {
		t.Fatalf("numbers: %d %q %s", code, out, errOut)
	}
	for number, want := range map[string]string{
		"+15550100": `^\+15550100 +Main +sales \([0-9a-f]{12}\) +main-line \([0-9a-f]{12}\)$`,
		"+15550950": `^\+15550950 +Fax line +- +MISSING$`,
		"+15550800": `^\+15550800 +turboDial inbound +most-recent \([0-9a-f]{12}\) +take-a-message \([0-9a-f]{12}\)$`,
	} {
		if l := row(out, number); !regexp.MustCompile(want).MatchString(l) {
			t.Errorf("row %q, want %s", l, want)
		}
	}
	// The columns line up: every row's SMS FLOW starts where its title does.
	col := strings.Index(out, "SMS FLOW")
	for _, n := range []string{"+15550100", "+15550950", "+15550800"} {
		if l := row(out, n); len(l) < col || l[col-2:col] != "  " || l[col] == ' ' {
			t.Errorf("row %q: SMS FLOW not at column %d", l, col)
		}
	}

	if code, out, _ := flowc("numbers", "assign", "+15550950", "main-line"); code != exitOK || !strings.Contains(out, "+15550950 → main-line (its calls)") {
		t.Fatalf("assign a call flow: %d %s", code, out)
	}
	if code, out, _ := flowc("numbers", "unassign", "+15550100", "--calls"); code != exitOK || !strings.Contains(out, "its calls no longer routed") {
		t.Fatalf("unassign --calls: %d %s", code, out)
	}
	_, out, _ = flowc("numbers")
	if l := row(out, "+15550950"); !regexp.MustCompile(`-\s+main-line \(`).MatchString(l) {
		t.Errorf("the fax line after assigning its call flow: %q", l)
	}
	if l := row(out, "+15550100"); !regexp.MustCompile(`sales \([0-9a-f]{12}\)\s+MISSING$`).MatchString(l) {
		t.Errorf("+15550100 after unassigning its calls: %q", l)
	}
	if code, out, _ := flowc("numbers", "unassign", "+15550100"); code != exitOK || !strings.Contains(out, "its texts no longer routed") {
		t.Fatalf("unassign: %d %s", code, out)
	}
	if code, _, errOut := flowc("numbers", "unassign", "+15550100"); code != exitFail || !strings.Contains(errOut, "neither texts nor calls") {
		t.Fatalf("unassign an unrouted number: %d %s", code, errOut)
	}
	if code, _, errOut := flowc("numbers", "unassign", "+15550100", "--calls", "--texts"); code != exitUsage || !strings.Contains(errOut, "not both") {
		t.Errorf("--calls --texts: %d %s", code, errOut)
	}
	if code, _, errOut := flowc("numbers", "--calls"); code != exitUsage || !strings.Contains(errOut, "go with unassign") {
		t.Errorf("numbers --calls: %d %s", code, errOut)
	}

	// A server without the account's credentials says which to set.
	as.srv.SetOutbound(&server.Outbound{})
	if code, _, errOut := flowc("numbers", "sync"); code != exitFail || !strings.Contains(errOut, "FLOWC_TWILIO_ACCOUNT_SID") {
		t.Errorf("sync without credentials: %d %s", code, errOut)
	}
}

// TestNumbersColor: on a terminal "missing" is red and the columns
// still line up (the escapes take no room); not on a file, /dev/null (a
// character device, not a terminal) or with NO_COLOR set.
func TestNumbersColor(t *testing.T) {
	nums := []numberInfo{
		{Number: "+15550100", Name: "Main", SMSFlow: "sales", SMSVersion: "0123456789abcdef", Missing: []string{"call_flow"}},
		{Number: "+15550900", Name: "Spare \x1b[2Jline", TextedUnrouted: true, Missing: []string{"sms_flow", "call_flow"}},
	}
	var plain, red bytes.Buffer
	printNumbers(&plain, nums, false)
	printNumbers(&red, nums, true)
	if !strings.Contains(red.String(), "\x1b[31mmissing\x1b[0m") || !strings.Contains(red.String(), "\x1b[31mmissing (texted)\x1b[0m") {
		t.Errorf("colored:\n%q", red.String())
	}
	stripped := regexp.MustCompile("\x1b\\[[0-9]+m").ReplaceAllString(red.String(), "")
	if want := strings.ReplaceAll(plain.String(), "MISSING", "missing"); stripped != want {
		t.Errorf("colored, escapes stripped:\n%s\nwant the plain table\n%s", stripped, want)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("a name's escape reached the table: %q", plain.String())
	}
	if colorOK(&plain) {
		t.Error("color into a buffer")
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	if colorOK(devnull) {
		t.Error("color into /dev/null")
	}
	if colorOK(os.Stdout) { // a terminal: only when the tests run on one
		t.Setenv("NO_COLOR", "1")
		if colorOK(os.Stdout) {
			t.Error("color with NO_COLOR set")
		}
	}
}
