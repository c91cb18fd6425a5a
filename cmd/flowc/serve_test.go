package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// buildFlowc builds the flowc binary once per test run.
var buildFlowc = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "flowc-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "flowc")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// freeAddrs is n distinct free loopback addresses: their listeners are
// all held until the last is found, so that two processes started one
// after the other (the first not yet listening) never get the same port.
func freeAddrs(t *testing.T, n int) []string {
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs `flowc serve` and waits until it is ready.
func startServe(t *testing.T, bin, dir, db, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", dir, "--addr", addr, "--db", db)
	cmd.Env = append(os.Environ(), "FLOWC_TWILIO_AUTH_TOKEN=", "DATABASE_URL=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second) // generous: CI machines are busy
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatalf("flowc serve did not become ready:\n%s", logs.String())
	return nil
}

type sent struct {
	status int
	body   string
}

func postJSON(addr, sid, from string) (sent, error) {
	body := fmt.Sprintf(`{"sid":%q,"from":%q,"to":"+15550200","body":"hello"}`, sid, from)
	resp, err := http.Post("http://"+addr+"/v1/messages", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		return sent{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return sent{resp.StatusCode, string(b)}, nil
}

// TestKillDuringLoadLosesNothing: SIGKILL `flowc serve` while messages
// are in flight, restart it on the same database and retry every
// message, as the provider would: every message answered before the kill
// gets the same answer, none is lost and none is delivered twice.
func TestKillDuringLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flowc binary")
	}
	bin, err := buildFlowc()
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "flowc.db")
	addr := freeAddr(t)
	cmd := startServe(t, bin, "../../examples", db, addr)

	const n = 600
	answers := make([]sent, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	killed := make(chan struct{})
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				s, err := postJSON(addr, fmt.Sprintf("SMkill%05d", i), fmt.Sprintf("+1555%07d", i))
				if err != nil {
					continue // the server died under this request
				}
				mu.Lock()
				answers[i] = s
				done++
				if done == n/4 {
					cmd.Process.Signal(syscall.SIGKILL)
					close(killed)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case <-killed:
			i = n
		case work <- i:
		}
	}
	close(work)
	wg.Wait()
	cmd.Wait()

	cmd = startServe(t, bin, "../../examples", db, addr)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	answeredBefore := 0
	for i := 0; i < n; i++ {
		s, err := postJSON(addr, fmt.Sprintf("SMkill%05d", i), fmt.Sprintf("+1555%07d", i))
		if err != nil || s.status != 200 {
			t.Fatalf("retry of message %d after restart: %v %+v", i, err, s)
		}
		if answers[i].status == 200 {
			answeredBefore++
			if s.body != answers[i].body {
				t.Fatalf("message %d was answered %q before the kill and %q after", i, answers[i].body, s.body)
			}
		}
	}
	if answeredBefore < n/4 {
		t.Fatalf("only %d messages were answered before the kill", answeredBefore)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var items []store.InboxItem
	st.InTx(context.Background(), func(tx store.Tx) error {
		items, err = tx.InboxItems(context.Background(), "team", "front-desk", true)
		return err
	})
	seen := map[string]int{}
	for _, it := range items {
		seen[it.MessageSID]++
	}
	for i := 0; i < n; i++ {
		if c := seen[fmt.Sprintf("SMkill%05d", i)]; c != 1 {
			t.Fatalf("message %d has %d inbox items, want exactly 1", i, c)
		}
	}
	var ans struct{ Outcome string }
	json.Unmarshal([]byte(answers[0].body), &ans)
	t.Logf("%d messages answered before SIGKILL; all %d delivered exactly once after restart and retry", answeredBefore, n)
}

// TestServeRefusesFlowsWithErrors: the server does not start on a
// directory whose flows do not compile.
func TestServeRefusesFlowsWithErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.flow"), []byte("numbers \"+15550100\"\nrply \"x\"\n"), 0o644)
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", dir, "--db", filepath.Join(dir, "x.db")}, nil, &stdout, &stderr)
	if code != exitFail || !bytes.Contains(stderr.Bytes(), []byte("bad.flow:2:1")) {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestServeRefusesSignaturesWithoutPublicURL: with the auth token set and
// no FLOWC_PUBLIC_URL, the signature would be checked against a URL built
// from the request's Host header; serve refuses to start and says what
// to set.
func TestServeRefusesSignaturesWithoutPublicURL(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.flow"), []byte("numbers \"+15550100\"\nreply \"x\"\n"), 0o644)
	t.Setenv("FLOWC_TWILIO_AUTH_TOKEN", "tok")
	t.Setenv("FLOWC_PUBLIC_URL", "")
	t.Setenv("DATABASE_URL", "")
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", dir, "--addr", freeAddr(t), "--db", filepath.Join(dir, "x.db")}, nil, &stdout, &stderr)
	if code != exitUsage || !bytes.Contains(stderr.Bytes(), []byte("FLOWC_PUBLIC_URL is not set")) || !bytes.Contains(stderr.Bytes(), []byte("set FLOWC_PUBLIC_URL")) {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("serve opened the database before refusing")
	}
}

// TestServeChecksInboxTargetsAgainstTheDirectory: with directory.json
// beside the flows, serve refuses to start on an inbox target the
// directory does not know, as `flowc check` reports it.
func TestServeChecksInboxTargetsAgainstTheDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("directory.json", `{"users": [{"name": "ann"}], "teams": [{"name": "sales", "members": ["ann"]}]}`)
	write("typo.flow", "numbers \"+15550198\"\ninbox team:slaes\n")
	var out, errb strings.Builder
	code := run([]string{"serve", dir, "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "f.db")}, nil, &out, &errb)
	if code != exitFail || !strings.Contains(errb.String(), "team:sales") {
		t.Fatalf("serve: exit %d\n%s%s", code, out.String(), errb.String())
	}
}
