package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestKillWithTimersAndOutboxPending: SIGKILL `flowc serve` while menu
// timers are due and their replies are in the outbox, restart it: every
// timeout reply reaches the provider once.
func TestKillWithTimersAndOutboxPending(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flowc binary")
	}
	bin, err := buildFlowc()
	if err != nil {
		t.Fatal(err)
	}
	// The fake provider is slow, so the kill lands mid-delivery; it
	// records accepted messages by idempotency token.
	var mu sync.Mutex
	accepted := map[string]string{} // token → To
	repeats := 0
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
		r.ParseForm()
		tok := r.Header.Get("I-Twilio-Idempotency-Token")
		mu.Lock()
		if _, seen := accepted[tok]; seen {
			repeats++
		}
		accepted[tok] = r.PostForm.Get("To")
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid":"SMx"}`)
	}))
	defer prov.Close()

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "t.flow"), []byte(`flow t
numbers "+15550910"
timezone "UTC"

menu "Reply 1" <
  1          -> reply "one" then end
  timeout 1s -> reply "No answer." then end
  else       -> end
>
`), 0o644)
	db := filepath.Join(t.TempDir(), "flowc.db")
	addr := freeAddr(t)
	env := append(os.Environ(), "FLOWC_TWILIO_AUTH_TOKEN=", "DATABASE_URL=", "FLOWC_TWILIO_API_URL="+prov.URL,
		"FLOWC_TWILIO_ACCOUNT_SID=AC123")
	serve := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", dir, "--addr", addr, "--db", db, "--tick", "100ms")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, addr)
		return cmd
	}
	cmd := serve()
	const n = 60
	for i := 0; i < n; i++ {
		if s, err := postJSONTo(addr, fmt.Sprintf("SMt%03d", i), fmt.Sprintf("+1555%07d", i), "+15550910", "hi"); err != nil || s.status != 200 {
			t.Fatalf("message %d: %v %+v", i, err, s)
		}
	}
	// Let some timers fire and some replies leave, then kill.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		got := len(accepted)
		mu.Unlock()
		if got >= 5 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	mu.Lock()
	before := len(accepted)
	mu.Unlock()
	if before >= n {
		t.Fatalf("everything was delivered before the kill (%d); the test proves nothing", before)
	}

	cmd = serve()
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	deadline = time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		got := len(accepted)
		mu.Unlock()
		if got >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // anything extra would show up now
	mu.Lock()
	defer mu.Unlock()
	perContact := map[string]int{}
	for _, to := range accepted {
		perContact[to]++
	}
	for i := 0; i < n; i++ {
		if c := perContact[fmt.Sprintf("+1555%07d", i)]; c != 1 {
			t.Fatalf("contact %d got %d timeout replies, want exactly 1 (%d accepted in all)", i, c, len(accepted))
		}
	}
	t.Logf("%d of %d delivered before SIGKILL; all %d exactly once after restart (%d repeated sends absorbed by the idempotency token)", before, n, n, repeats)
}

func waitReady(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("flowc serve did not become ready")
}

func postJSONTo(addr, sid, from, to, body string) (sent, error) {
	payload := fmt.Sprintf(`{"sid":%q,"from":%q,"to":%q,"body":%q}`, sid, from, to, body)
	resp, err := http.Post("http://"+addr+"/v1/messages", "application/json", strings.NewReader(payload))
	if err != nil {
		return sent{}, err
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		k, err := resp.Body.Read(buf)
		b.Write(buf[:k])
		if err != nil {
			break
		}
	}
	return sent{resp.StatusCode, b.String()}, nil
}
