package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

// served is one `flowc serve` process.
type served struct {
	cmd    *exec.Cmd
	addr   string
	logs   *syncBuffer
	exited chan error // receives Wait's result once
	err    error
	done   bool
}

// syncBuffer is a bytes.Buffer the process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func (s *served) wait() error {
	if !s.done {
		s.err, s.done = <-s.exited, true
	}
	return s.err
}

func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.wait(); err != nil {
		t.Fatalf("flowc serve exited with %v:\n%s", err, s.logs)
	}
}

// serveProcess runs `flowc serve dir` on the database env names (and
// --db), waiting until it is ready; it fails the test with its output if
// it exits instead.
func serveProcess(t *testing.T, dir, db string, env ...string) *served {
	t.Helper()
	bin, err := buildFlowc()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{addr: freeAddr(t), logs: &syncBuffer{}, exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve", dir, "--addr", s.addr, "--db", db)
	s.cmd.Env = append(append(os.Environ(), "FLOWC_TWILIO_AUTH_TOKEN="), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Signal(syscall.SIGTERM); s.wait() })
	deadline := time.Now().Add(90 * time.Second) // generous: the machine is busy
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.err, s.done = err, true
			t.Fatalf("flowc serve did not start (%v):\n%s", err, s.logs)
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond) // polling readiness, not synchronising
	}
	t.Fatalf("flowc serve did not become ready:\n%s", s.logs)
	return nil
}

func (s *served) reply(t *testing.T, sid, from, body string) string {
	t.Helper()
	msg := fmt.Sprintf(`{"sid":%q,"from":%q,"to":"+15550100","body":%q}`, sid, from, body)
	resp, err := http.Post("http://"+s.addr+"/v1/messages", "application/json", strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("message: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestServeDeployRestartRoundTrips drives real `flowc serve` processes on
// each store, as docs/server.md shows: serve a directory, deploy its own
// file ("unchanged"), deploy a changed flow, put that file into the
// directory and restart (it used to refuse to start), roll back and
// restart.
func TestServeDeployRestartRoundTrips(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flowc binary")
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var env []string
			db := filepath.Join(t.TempDir(), "flowc.db")
			if kind == "postgres" {
				u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
				env = append(env, "DATABASE_URL="+u)
			} else {
				env = append(env, "DATABASE_URL=")
			}
			const token = "flowc_test_round_trip_token"
			t.Setenv("FLOWC_ADMIN_TOKEN", token)
			dir := t.TempDir()
			sales, _ := os.ReadFile("../../examples/sales.flow")
			dirJSON, _ := os.ReadFile("../../examples/directory.json")
			os.WriteFile(filepath.Join(dir, "sales.flow"), sales, 0o644)
			os.WriteFile(filepath.Join(dir, "directory.json"), dirJSON, 0o644)
			flowc := func(args ...string) (int, string) {
				t.Helper()
				var out, errOut bytes.Buffer
				code := run(args, nil, &out, &errOut)
				return code, out.String() + errOut.String()
			}

			s := serveProcess(t, dir, db, env...)
			server := "http://" + s.addr
			code, out := flowc("deploy", filepath.Join(dir, "sales.flow"), "--server", server)
			if code != exitOK || !strings.HasPrefix(out, "sales unchanged (version ") {
				t.Fatalf("deploy of the served file: %d %s", code, out)
			}
			v1 := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "sales unchanged (version "), ")")

			// Changed both in and out of business hours (the real clock runs).
			changed := strings.NewReplacer("Reply 1 for sales, 2 for support", "v2: Press 1 for sales or 2 for support",
				"We're closed.", "v2: Closed.").Replace(string(sales))
			elsewhere := filepath.Join(t.TempDir(), "sales.flow")
			os.WriteFile(elsewhere, []byte(changed), 0o644)
			if code, out := flowc("deploy", elsewhere, "--server", server); code != exitOK || !strings.HasPrefix(out, "deployed sales version ") {
				t.Fatalf("deploy of a changed flow: %d %s", code, out)
			}
			s.stop(t)

			// The deployed file put into the served directory; restart.
			os.WriteFile(filepath.Join(dir, "sales.flow"), []byte(changed), 0o644)
			s = serveProcess(t, dir, db, env...)
			server = "http://" + s.addr
			if got := s.reply(t, "SMround1", "+15550007001", "hi"); !strings.Contains(got, "v2: ") {
				t.Fatalf("after the restart: %s", got)
			}
			// Rolled back, restarted with the file unchanged: the rollback holds.
			if code, out := flowc("rollback", "sales", v1, "--server", server); code != exitOK {
				t.Fatalf("rollback: %d %s", code, out)
			}
			s.stop(t)
			s = serveProcess(t, dir, db, env...)
			if got := s.reply(t, "SMround2", "+15550007002", "hi"); strings.Contains(got, "v2: ") || !strings.Contains(got, `"routed"`) {
				t.Fatalf("after rollback and restart: %s\n%s", got, s.logs)
			}
			if !strings.Contains(s.logs.String(), "keeping active version "+v1) {
				t.Errorf("serve did not say it kept the rolled-back version:\n%s", s.logs)
			}
			s.stop(t)
		})
	}
}

// TestServeStrictRefusesWarnings: `flowc serve --strict` does not start
// on flows with warnings, and names them; without --strict it would.
func TestServeStrictRefusesWarnings(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "warn.flow"), []byte("numbers \"+15550499\"\nmenu \"Reply 1\" <\n  1 -> reply \"one\"\n>\n"), 0o644)
	t.Setenv("DATABASE_URL", "")
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", dir, "--strict", "--addr", freeAddr(t), "--db", filepath.Join(dir, "x.db")}, nil, &stdout, &stderr)
	if code != exitFail || !strings.Contains(stderr.String(), "warn.flow:2:1: warning:") || !strings.Contains(stderr.String(), "--strict") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("serve --strict opened the database before refusing")
	}
}

// TestDraftPromoteAndDiffCommands: `flowc deploy --draft --test-contact`,
// `flowc promote` and `flowc deploy --diff` as an operator types them.
func TestDraftPromoteAndDiffCommands(t *testing.T) {
	as := startAdminServer(t, "../../examples", server.Config{})
	flowc := func(args ...string) (int, string) {
		code, out, errOut := as.flowc(args...)
		return code, out + errOut
	}
	v2 := filepath.Join(t.TempDir(), "sales.flow")
	os.WriteFile(v2, []byte("flow sales\nnumbers \"+15550100\", \"+15550101\"\ntimezone \"UTC\"\n\nreply \"v2\" then inbox team:sales\n"), 0o644)

	if code, out := flowc("deploy", v2, "--diff", "--days", "3"); code != exitOK || !strings.Contains(out, "0 of 0 first messages of the last 3 days") {
		t.Fatalf("deploy --diff: %d %s", code, out)
	}
	if code, out := flowc("deploy", v2, "--draft"); code != exitUsage || !strings.Contains(out, "--test-contact") {
		t.Fatalf("--draft without a test contact: %d %s", code, out)
	}
	code, out := flowc("deploy", v2, "--draft", "--test-contact", "+15550009999", "--test-contact", "+15550009998")
	if code != exitOK || !strings.HasPrefix(out, "draft sales version ") || !strings.Contains(out, "[+15550009998 +15550009999]") {
		t.Fatalf("deploy --draft: %d %s", code, out)
	}
	version := strings.Fields(out)[3]
	if code, out := flowc("promote", "sales", "0123456789ab"); code != exitFail || !strings.Contains(out, "the draft of \"sales\" is version "+version) {
		t.Fatalf("promote of another version: %d %s", code, out)
	}
	if code, out := flowc("promote", "sales", version); code != exitOK || !strings.HasPrefix(out, "sales now runs version "+version+" for everyone") {
		t.Fatalf("promote: %d %s", code, out)
	}
	if code, out := flowc("deploy", v2); code != exitOK || out != "sales unchanged (version "+version+")\n" {
		t.Fatalf("deploy of the promoted flow: %d %q", code, out)
	}
}
