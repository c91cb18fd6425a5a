package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// serveRun is one `flowc serve` process, stdout and stderr kept apart.
type serveRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func startServeLogged(t *testing.T, bin, dir, db, addr string, extra ...string) *serveRun {
	t.Helper()
	r := &serveRun{cmd: exec.Command(bin, append([]string{"serve", dir, "--addr", addr, "--db", db, "--drain-delay", "0"}, extra...)...)}
	r.cmd.Env = append(os.Environ(), "FLOWC_TWILIO_AUTH_TOKEN=", "DATABASE_URL=", "FLOWC_ADMIN_TOKEN=")
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second) // generous: CI machines are busy
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return r
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a process we do not control
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	t.Fatalf("flowc serve did not become ready:\n%s\n%s", r.stdout.String(), r.stderr.String())
	return nil
}

// stop sends SIGTERM and waits for the exit.
func (r *serveRun) stop(t *testing.T) {
	t.Helper()
	r.cmd.Process.Signal(syscall.SIGTERM)
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("flowc serve after SIGTERM: %v\n%s", err, r.stderr.String())
	}
}

// jsonLines parses every line of the log stream; any other line fails.
func jsonLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stderr line %d is not JSON (%v): %q", n, err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

var generatedToken = regexp.MustCompile(`flowc_[0-9a-f]{48}`)

// TestServeLogsAreJSONAndLeadToTrace: every line `flowc serve` writes to
// stderr, from start through webhooks to SIGTERM, is a JSON object; a
// webhook's line names its message_sid, flow, version and outcome; the
// generated admin token is shown once on stdout, never in the log, not
// at all on the second start, and the store holds only its hash.
func TestServeLogsAreJSONAndLeadToTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flowc binary")
	}
	bin, err := buildFlowc()
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "flowc.db")
	addr := freeAddr(t)
	first := startServeLogged(t, bin, "../../examples", db, addr)
	sids := []string{"SMlog0001", "SMlog0002"}
	for i, sid := range sids {
		form := url.Values{"MessageSid": {sid}, "From": {"+1555000000" + string(rune('1'+i))}, "To": {"+15550100"}, "Body": {"hi"}}
		resp, err := http.PostForm("http://"+addr+"/webhooks/twilio/sms", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("webhook %s: %d", sid, resp.StatusCode)
		}
	}
	if _, err := postJSON(addr, "SMlog0003", "+15550000009"); err != nil {
		t.Fatal(err)
	}
	first.stop(t)

	token := generatedToken.FindString(first.stdout.String())
	if token == "" {
		t.Fatalf("the first start showed no generated admin token on stdout:\n%s", first.stdout.String())
	}
	if strings.Contains(first.stderr.String(), token) {
		t.Fatal("the admin token is in the log stream")
	}
	lines := jsonLines(t, first.stderr.String())
	found := map[string]map[string]any{}
	for _, l := range lines {
		if l["msg"] == "request" {
			if sid, _ := l["message_sid"].(string); sid != "" {
				found[sid] = l
			}
		}
	}
	for _, sid := range append(sids, "SMlog0003") {
		l := found[sid]
		if l == nil {
			t.Fatalf("no request line with message_sid %s in:\n%s", sid, first.stderr.String())
		}
		for _, k := range []string{"flow", "version", "outcome", "request_id"} {
			if s, _ := l[k].(string); s == "" {
				t.Errorf("%s's request line lacks %s: %v", sid, k, l)
			}
		}
		if l["outcome"] != "routed" || l["status"] != float64(200) {
			t.Errorf("%s's line: %v, want outcome routed, status 200", sid, l)
		}
	}
	last := lines[len(lines)-1]
	if last["msg"] != "stopped" {
		t.Errorf("last log line %v, want the stop", last)
	}

	second := startServeLogged(t, bin, "../../examples", db, addr)
	second.stop(t)
	jsonLines(t, second.stderr.String())
	if all := second.stdout.String() + second.stderr.String(); strings.Contains(all, token) || generatedToken.MatchString(all) {
		t.Fatalf("the second start shows an admin token:\n%s", all)
	}

	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stored string
	st.InTx(context.Background(), func(tx store.Tx) error {
		stored, err = tx.(store.OutboxTx).Setting(context.Background(), "admin_token")
		return err
	})
	sum := sha256.Sum256([]byte(token))
	if stored != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("the store holds %q for the admin token, want its SHA-256", stored)
	}
}
