package main

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

// TestInboxShowsWhatTheContactWrote: after a menu reply `flowc inbox`
// shows the conversation (the question and its photo, then "2"), and
// after a menu timeout the question, not an empty message.
func TestInboxShowsWhatTheContactWrote(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) // 10:00 in New York: the sales line is open
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	at := func(min int) { mu.Lock(); now = time.Date(2026, 11, 23, 15, min, 0, 0, time.UTC); mu.Unlock() }
	as := startAdminServer(t, "../../examples", server.Config{Now: clock})
	srv, flowc := as.srv, as.flowc
	send := func(sid, from, body string, media ...string) {
		t.Helper()
		if _, err := srv.Handle(context.Background(), server.Inbound{SID: sid, From: from, To: "+15550100", Body: body, Media: media}, server.TwilioFieldNames()); err != nil {
			t.Fatal(err)
		}
	}
	send("SM1", "+15557654321", "My order arrived broken", "https://api.twilio.com/m/photo1")
	at(2)
	send("SM2", "+15557654321", "2")
	at(5)
	send("SM3", "+15550002222", "Do you ship to Canada?")
	at(16)
	if n, err := srv.FireTimers(context.Background()); err != nil || n != 1 {
		t.Fatalf("FireTimers: %d %v", n, err)
	}

	code, out, errOut := flowc("inbox", "team:support")
	if code != exitOK {
		t.Fatalf("inbox: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "MESSAGES") ||
		!regexp.MustCompile(`^1 .*\+15557654321 .* 15:00 "My order arrived broken" https://api\.twilio\.com/m/photo1$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^ +15:02 "2"$`).MatchString(lines[2]) {
		t.Fatalf("inbox team:support:\n%s", out)
	}
	// The continuation line's text starts in the MESSAGES column.
	if col := strings.Index(lines[0], "MESSAGES"); strings.Index(lines[2], "15:02") != col || strings.Index(lines[1], "15:00") != col {
		t.Errorf("messages not aligned under MESSAGES:\n%s", out)
	}
	code, out, errOut = flowc("inbox", "team:sales")
	if code != exitOK || !regexp.MustCompile(`(?m)^\d+ .*\+15550002222 .* 15:05 "Do you ship to Canada\?"$`).MatchString(out) {
		t.Fatalf("inbox team:sales: %d %s\n%s", code, errOut, out)
	}
}
