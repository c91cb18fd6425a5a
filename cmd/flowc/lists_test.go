package main

import (
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

// TestListsAndSendCommands: flowc lists adds, shows and removes entries
// one at a time; flowc send queues a text, and is refused for a contact
// on the outbound blacklist with the server's reason.
func TestListsAndSendCommands(t *testing.T) {
	as := startAdminServer(t, "../../examples", server.Config{})
	flowc := as.flowc
	if code, out, errOut := flowc("lists", "add", "blocked-outbound", "+15551230000"); code != exitOK || out != "added +15551230000 to blocked-outbound\n" {
		t.Fatalf("lists add: %d %q %s", code, out, errOut)
	}
	if code, out, _ := flowc("lists", "add", "blocked-outbound", "+15551230000"); code != exitOK || !strings.Contains(out, "already") {
		t.Fatalf("lists add again: %d %q", code, out)
	}
	flowc("lists", "add", "vip", "+15557654321")
	if code, out, _ := flowc("lists"); code != exitOK || !strings.Contains(out, "blocked-outbound  1") || !strings.Contains(out, "vip               1") {
		t.Fatalf("lists:\n%s", out)
	}
	if code, out, _ := flowc("lists", "blocked-outbound"); code != exitOK || out != "+15551230000\n" {
		t.Fatalf("lists NAME: %d %q", code, out)
	}
	send := func(to string) (int, string, string) {
		return flowc("send", "--from", "+15550100", "--to", to, "--user", "alice", "hello")
	}
	if code, _, errOut := send("+15551230000"); code != exitFail || !strings.Contains(errOut, "outbound blacklist") {
		t.Fatalf("send to a blacklisted contact: %d %s", code, errOut)
	}
	if code, out, _ := flowc("lists", "remove", "blocked-outbound", "+15551230000"); code != exitOK || !strings.Contains(out, "removed") {
		t.Fatalf("lists remove: %d %q", code, out)
	}
	if code, _, errOut := flowc("lists", "remove", "blocked-outbound", "+15551230000"); code != exitFail {
		t.Fatalf("lists remove again: %d %s", code, errOut)
	}
	if code, out, errOut := send("+15551230000"); code != exitOK || !strings.HasPrefix(out, "queued as outbox item ") {
		t.Fatalf("send: %d %q %s", code, out, errOut)
	}
}

// TestHistorySettings: FLOWC_SMS_PACE defaults to a second and takes 0
// for none; FLOWC_HISTORY_RETENTION defaults to FLOWC_RETENTION's value.
func TestHistorySettings(t *testing.T) {
	for v, want := range map[string]time.Duration{"": time.Second, "0": 0, "250ms": 250 * time.Millisecond} {
		if d, err := smsPaceSetting(v); err != nil || d != want {
			t.Errorf("FLOWC_SMS_PACE %q: %v %v, want %v", v, d, err, want)
		}
	}
	for _, v := range []string{"fast", "-1s", "2m"} {
		if _, err := smsPaceSetting(v); err == nil || !strings.Contains(err.Error(), "FLOWC_SMS_PACE") {
			t.Errorf("FLOWC_SMS_PACE %q: %v, want an error naming it", v, err)
		}
	}
	t.Setenv("FLOWC_HISTORY_RETENTION", "")
	if d, err := historyRetentionSetting(48 * time.Hour); err != nil || d != 48*time.Hour {
		t.Errorf("unset: %v %v, want FLOWC_RETENTION's 48h", d, err)
	}
	t.Setenv("FLOWC_HISTORY_RETENTION", "365d")
	if d, err := historyRetentionSetting(0); err != nil || d != 365*24*time.Hour {
		t.Errorf("365d: %v %v", d, err)
	}
	t.Setenv("FLOWC_HISTORY_RETENTION", "1h")
	if _, err := historyRetentionSetting(0); err == nil || !strings.Contains(err.Error(), "FLOWC_HISTORY_RETENTION") {
		t.Errorf("1h: %v, want an error naming it", err)
	}
}
