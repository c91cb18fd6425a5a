package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
)

// TestUsersAndConversationsCommands: an admin makes an agent's token with
// flowc users token; the agent lists, shows, accepts, replies to, notes
// and finishes a queued conversation with flowc conversations and that
// token; another agent's token is refused on it; the admin token is not
// an agent token; a revoked token stops working.
func TestUsersAndConversationsCommands(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "q.flow"), []byte(`flow q
numbers "+15550950"
timezone "UTC"
queue team:support round-robin wait 1h <
  on timeout -> end
  on done -> reply "Thanks for writing!"
>
`), 0o644)
	as := startAdminServer(t, dir, server.Config{})
	token := func(user string) string {
		t.Helper()
		code, out, errOut := as.flowc("users", "token", user, "--label", "cli test")
		if code != exitOK || !strings.HasPrefix(out, "flowc_u_") || !strings.Contains(errOut, "shown this once") {
			t.Fatalf("users token %s: %d %q %s", user, code, out, errOut)
		}
		return strings.TrimSpace(out)
	}
	bob, carol := token("bob"), token("carol")
	agent := func(tok string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(append(append([]string{"conversations"}, args...), "--server", as.url, "--token", tok), nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	resp, err := http.Post(as.url+"/v1/messages", "application/json", strings.NewReader(`{"sid":"SMcli1","from":"+15557654321","to":"+15550950","body":"my order is late"}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/messages: %v %v", resp, err)
	}
	resp.Body.Close()
	code, out, errOut := agent(bob, "list")
	if code != exitOK || !strings.Contains(out, "offered to bob") || !strings.Contains(out, "+15557654321") {
		t.Fatalf("conversations list as bob: %d\n%s%s", code, out, errOut)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if code, _, errOut := agent(carol, "accept", id); code == exitOK || !strings.Contains(errOut, "not yours") {
		t.Errorf("carol accepts bob's offer: %d %s", code, errOut)
	}
	if code, _, errOut := agent(as.token, "list"); code == exitOK || !strings.Contains(errOut, "agent token") {
		t.Errorf("the admin token on the agent API: %d %s", code, errOut)
	}
	for _, step := range [][]string{{"accept", id}, {"reply", id, "Hi, it ships today."}, {"note", id, "checked with the warehouse"}} {
		if code, out, errOut := agent(bob, step...); code != exitOK {
			t.Fatalf("conversations %v: %d %s %s", step, code, out, errOut)
		}
	}
	if code, out, _ := agent(bob, "show", id); code != exitOK || !strings.Contains(out, `"my order is late"`) || !strings.Contains(out, "note by bob") ||
		!strings.Contains(out, `reply by bob (pending): "Hi, it ships today."`) {
		t.Errorf("conversations show: %d\n%s", code, out)
	}
	if code, out, _ := agent(bob, "finish", id); code != exitOK || strings.TrimSpace(out) != "finished" {
		t.Errorf("conversations finish: %d %q", code, out)
	}
	var replies []string
	for _, it := range outboxOf(t, as) {
		replies = append(replies, it.Body)
	}
	if strings.Join(replies, "|") != "Hi, it ships today.|Thanks for writing!" {
		t.Errorf("texts to the contact: %q, want bob's reply then the on done reply", replies)
	}
	// Tokens: listed without the token itself; a revoked one is refused.
	code, out, _ = as.flowc("users", "tokens", "bob")
	if code != exitOK || !strings.Contains(out, "cli test") || strings.Contains(out, bob) {
		t.Fatalf("users tokens: %d\n%s", code, out)
	}
	tokID := strings.Fields(strings.Split(out, "\n")[1])[0]
	if code, out, errOut := as.flowc("users", "revoke", "bob", tokID); code != exitOK {
		t.Fatalf("users revoke: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := agent(bob, "list"); code == exitOK || !strings.Contains(errOut, "revoked") {
		t.Errorf("a revoked token: %d %s", code, errOut)
	}
	if code, out, _ := as.flowc("users", "available", "carol", "off"); code != exitOK || out != "carol is away\n" {
		t.Errorf("users available: %d %q", code, out)
	}
}

func outboxOf(t *testing.T, as *adminServer) []store.OutboxItem {
	t.Helper()
	var items []store.OutboxItem
	err := as.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		items, err = tx.(store.OutboxTx).OutboxItems(context.Background(), "", 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return items
}
