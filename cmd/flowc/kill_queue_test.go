package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// TestKillWithConversationsQueued: SIGKILL `flowc serve` while one
// conversation is offered (its reservation running), one is being
// transferred (its transfer limit running) and one waits with nobody
// available (its wait running); restart it on the same database. None is
// lost, and each limit fires once: the offer moves on, the transfer
// returns to who made it, and the wait's `on timeout` reply reaches the
// provider exactly once.
func TestKillWithConversationsQueued(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flowc binary")
	}
	bin, err := buildFlowc()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	sentTo := map[string][]string{} // To → bodies, once per idempotency token
	tokens := map[string]bool{}
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		if tok := r.Header.Get("I-Twilio-Idempotency-Token"); !tokens[tok] {
			tokens[tok] = true
			sentTo[r.PostForm.Get("To")] = append(sentTo[r.PostForm.Get("To")], r.PostForm.Get("Body"))
		}
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid":"SMq"}`)
	}))
	defer prov.Close()

	dir := t.TempDir()
	files := map[string]string{
		"support.flow": `flow support
numbers "+15550920"
timezone "UTC"
queue team:support round-robin reserve 2s transfer 2s wait 10m <
  on timeout -> end
>
`,
		"desk.flow": `flow desk
numbers "+15550921"
timezone "UTC"
queue team:desk wait 3s <
  on timeout -> reply "Sorry, everyone is busy." then end
>
`,
		"directory.json": `{"users": [{"name": "bob"}, {"name": "carol"}, {"name": "dave", "available": false}],
 "teams": [{"name": "support", "members": ["bob", "carol"]}, {"name": "desk", "members": ["dave"]}]}`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "flowc.db")
	addr := freeAddr(t)
	const adminTok = "admin-token-for-the-queue-kill-test-0123"
	env := append(os.Environ(), "FLOWC_TWILIO_AUTH_TOKEN=", "DATABASE_URL=", "FLOWC_TWILIO_API_URL="+prov.URL,
		"FLOWC_TWILIO_ACCOUNT_SID=AC123", "FLOWC_ADMIN_TOKEN="+adminTok)
	serve := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", dir, "--addr", addr, "--db", db, "--tick", "100ms")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, addr)
		return cmd
	}
	call := func(method, path, token string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, "http://"+addr+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	type conv struct {
		ID, Contact, Status, Assignee string
		Offered                       []string
	}
	mine := func(token string) map[string]conv {
		t.Helper()
		code, body := call("GET", "/v1/agent/conversations", token, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/agent/conversations: %d %s", code, body)
		}
		var out struct{ Conversations []conv }
		json.Unmarshal(body, &out)
		m := map[string]conv{}
		for _, c := range out.Conversations {
			m[c.Contact] = c
		}
		return m
	}

	cmd := serve()
	agent := map[string]string{}
	for _, u := range []string{"bob", "carol"} {
		code, body := call("POST", "/v1/admin/users/"+u+"/tokens", adminTok, map[string]string{"label": "kill test"})
		var tok struct{ Token string }
		if json.Unmarshal(body, &tok); code/100 != 2 || tok.Token == "" {
			t.Fatalf("token for %s: %d %s", u, code, body)
		}
		agent[u] = tok.Token
	}
	const offered, transferred, waiting = "+15551230001", "+15551230002", "+15551230003"
	for i, m := range []struct{ from, to string }{{offered, "+15550920"}, {transferred, "+15550920"}, {waiting, "+15550921"}} {
		if s, err := postJSONTo(addr, fmt.Sprintf("SMq%03d", i), m.from, m.to, "hi"); err != nil || s.status != 200 {
			t.Fatalf("message from %s: %v %+v", m.from, err, s)
		}
	}
	c := mine(agent["carol"])[transferred]
	if c.Status != "offered" {
		t.Fatalf("the second conversation is %+v, want offered to carol (round-robin)", c)
	}
	for _, a := range []struct {
		path string
		body any
	}{{"accept", nil}, {"transfer", map[string]string{"to": "user:bob"}}} {
		if code, body := call("POST", "/v1/agent/conversations/"+c.ID+"/"+a.path, agent["carol"], a.body); code != http.StatusOK {
			t.Fatalf("carol %s: %d %s", a.path, code, body)
		}
	}
	if got := mine(agent["bob"])[transferred]; got.Status != "transferring" {
		t.Fatalf("before the kill, the transferred conversation is %+v, want transferring to bob", got)
	}
	mu.Lock()
	pending := len(sentTo[waiting]) == 0
	mu.Unlock()
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if !pending {
		t.Log("the wait had fired before the kill (a slow machine); it must still have fired once")
	}

	cmd = serve()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	defer stop()
	// Wide margins: each limit is 2-3 s; the machine may be busy.
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		gotTimeout := len(sentTo[waiting]) > 0
		mu.Unlock()
		back := mine(agent["carol"])[transferred]
		if gotTimeout && back.Status == "open" && back.Assignee == "carol" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: the wait's reply sent %v, the transferred conversation %+v; want the reply and the transfer back with carol", gotTimeout, back)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, ok := mine(agent["bob"])[offered]; !ok {
		if _, ok := mine(agent["carol"])[offered]; !ok {
			t.Fatal("the offered conversation was lost")
		}
	}
	stop()
	mu.Lock()
	if got := sentTo[waiting]; len(got) != 1 || got[0] != "Sorry, everyone is busy." {
		t.Errorf("the waiting contact got %q, want the on timeout reply exactly once", got)
	}
	mu.Unlock()
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := store.QueueReader(st).QueueStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s := stats["support"]; s["transferred"] != 1 || s["returned"] != 1 || s["accepted"] != 1 || s["offered"] < 3 {
		t.Errorf("support's counters %v: want 1 transfer, returned once, 1 accept, and the first offer moved on at least once", s)
	}
	if s := stats["desk"]; s["abandoned"] != 1 || s["entered"] != 1 {
		t.Errorf("desk's counters %v: want 1 entered and abandoned once", s)
	}
}
