package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/server"
)

// TestClientCommands walks the admin client commands against a server,
// as docs/server.md does: deploy (bad, then good), flows, versions,
// rollback, numbers, inbox, trace.
func TestClientCommands(t *testing.T) {
	as := startAdminServer(t, "../../examples", server.Config{})
	flowc := as.flowc
	work := t.TempDir()
	bad := filepath.Join(work, "sales.flow")
	os.WriteFile(bad, []byte("flow sales\nnumbers \"+15550100\"\nrply \"x\"\n"), 0o644)
	if code, _, errOut := flowc("deploy", bad); code != exitFail || !strings.Contains(errOut, "sales.flow:3:1: error: unknown applet") {
		t.Fatalf("bad deploy: %d %s", code, errOut)
	}
	good := filepath.Join(work, "sales.flow")
	os.WriteFile(good, []byte("flow sales\nnumbers \"+15550100\", \"+15550101\"\ntimezone \"UTC\"\n\nreply \"v2\" then inbox team:sales\n"), 0o644)
	code, out, errOut := flowc("deploy", good)
	if code != exitOK || !strings.HasPrefix(out, "deployed sales version ") {
		t.Fatalf("deploy: %d %s %s", code, out, errOut)
	}
	if code, out, _ := flowc("flows"); code != exitOK || !regexp.MustCompile(`(?m)^sales\s+[0-9a-f]{12}`).MatchString(out) {
		t.Fatalf("flows: %d\n%s", code, out)
	}
	_, out, _ = flowc("flows", "sales")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "active") {
		t.Fatalf("versions:\n%s", out)
	}
	old := strings.Fields(lines[2])[0]
	if code, out, errOut := flowc("rollback", "sales", old[:12]); code != exitOK || !strings.Contains(out, old[:12]) {
		t.Fatalf("rollback: %d %s %s", code, out, errOut)
	}
	// A message, so there is an inbox item and a trace.
	ans, err := as.srv.Handle(context.Background(), server.Inbound{SID: "SMclient1", From: "+15557654321", To: "+15550200", Body: "hello"}, server.TwilioFieldNames())
	if err != nil || ans.Outcome != "routed" {
		t.Fatalf("message: %+v %v", ans, err)
	}
	if code, out, _ := flowc("inbox", "team:front-desk"); code != exitOK || !strings.Contains(out, `"hello"`) {
		t.Fatalf("inbox: %d\n%s", code, out)
	}
	if code, out, _ := flowc("trace", "SMclient1"); code != exitOK || !strings.Contains(out, "after-hours.flow:") || !strings.Contains(out, "inbox team:front-desk") {
		t.Fatalf("trace: %d\n%s", code, out)
	}
	if code, _, errOut := flowc("trace", "SMnope"); code != exitFail || !strings.Contains(errOut, "no message SMnope") {
		t.Fatalf("trace of an unknown message: %d %s", code, errOut)
	}
	if code, out, _ := flowc("numbers", "assign", "+15550999", "support"); code != exitOK || !strings.Contains(out, "+15550999") {
		t.Fatalf("assign: %d %s", code, out)
	}
	if code, out, _ := flowc("numbers"); code != exitOK || !regexp.MustCompile(`\+15550999\s+support`).MatchString(out) {
		t.Fatalf("numbers:\n%s", out)
	}
	var o, e bytes.Buffer
	if code := run([]string{"flows", "--server", as.url, "--token", "wrong"}, nil, &o, &e); code != exitUsage || !strings.Contains(e.String(), "admin token") {
		t.Fatalf("wrong token: %d %s", code, e.String())
	}
}
