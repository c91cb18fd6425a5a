package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// TestQueuesCommand: two contacts wait in support's queue, bob takes
// one after 90 seconds; `flowc queues` shows every team's line (support's
// numbers, the directory's other teams at zero), `flowc queues support`
// the one still waiting, --json the server's answer, and an unknown
// team exits 2.
func TestQueuesCommand(t *testing.T) {
	dir := t.TempDir()
	flow := "flow q\nnumbers \"+15550920\"\ntimezone \"UTC\"\nqueue team:support round-robin wait 30m service-level 2m reserve 5m <\n  on timeout -> end\n>\n"
	if err := os.WriteFile(filepath.Join(dir, "q.flow"), []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	as := startAdminServer(t, dir, server.Config{Now: clock})
	for i, from := range []string{"+15550001001", "+15550001002"} {
		resp, err := http.PostForm(as.url+"/webhooks/twilio/sms", url.Values{"MessageSid": {"SMq" + string(rune('0'+i))}, "From": {from}, "To": {"+15550920"}, "Body": {"hi"}, "SmsStatus": {"received"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("text from %s: %s", from, resp.Status)
		}
	}
	mu.Lock()
	now = now.Add(90 * time.Second)
	mu.Unlock()
	// The oldest waiting conversation's id, as the admin API lists it.
	code, out, errOut := as.flowc("queues", "support", "--json")
	var q server.QueueResponse
	if code != exitOK || json.Unmarshal([]byte(out), &q) != nil || len(q.Waiting) != 2 || q.Waiting[0].Offered[0] != "bob" {
		t.Fatalf("flowc queues support --json: %d %s %s", code, out, errOut)
	}
	if _, err := as.srv.Act(context.Background(), q.Waiting[0].Conversation, inbound.AgentEvent{Kind: inbound.AgentAccept, User: "bob"}); err != nil {
		t.Fatal(err)
	}

	code, out, errOut = as.flowc("queues")
	if code != exitOK {
		t.Fatalf("flowc queues: %d %s", code, errOut)
	}
	for _, want := range []string{
		`(?m)^TEAM +WAITING +LONGEST +SL +ENTERED +OFFERED +ACCEPTED +ABANDONED +TRANSFERRED +RETURNED +FINISHED +FULL$`,
		`(?m)^support +1 +1m30s +100\.0% \(1/1\) +2 +2 +1 +0 +0 +0 +0 +0$`,
		`(?m)^sales +0 +- +- +0 +0 +0 +0 +0 +0 +0 +0$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("flowc queues lacks %s:\n%s", want, out)
		}
	}
	code, out, errOut = as.flowc("queues", "support")
	if code != exitOK || !strings.Contains(out, "support: 1 waiting, longest 1m30s, service level 100.0% (1/1)\n") ||
		!strings.Contains(out, "accepted 1 (1 within the service level)") ||
		!regexp.MustCompile(`(?m)^1 +\+15550001002 +\+15550920 +offered +carol +2026-11-23T10:00:00Z +1m30s +cv_`).MatchString(out) {
		t.Errorf("flowc queues support: %d %s\n%s", code, errOut, out)
	}
	code, out, _ = as.flowc("queues", "--json")
	var all server.QueuesResponse
	if code != exitOK || json.Unmarshal([]byte(out), &all) != nil || len(all.Queues) == 0 {
		t.Fatalf("flowc queues --json: %d %s", code, out)
	}
	if code, _, errOut := as.flowc("queues", "nobody"); code != exitFail || !strings.Contains(errOut, `no queue "nobody"`) {
		t.Errorf("flowc queues nobody: %d %s, want exit %d and the server's message", code, errOut, exitFail)
	}
	if code, _, _ := as.flowc("queues", "a", "b"); code != exitUsage {
		t.Errorf("flowc queues a b: %d, want usage (%d)", code, exitUsage)
	}
}
