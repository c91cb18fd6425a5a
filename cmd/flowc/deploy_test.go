package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// TestDeploySendsTheDeclaredApplets: `flowc deploy` sends the flow and
// the applets it declares (from a subdirectory too) and only those; the
// server, which reads nothing of its own, compiles it.
func TestDeploySendsTheDeclaredApplets(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := server.New(server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st)
	token, _, err := srv.EnsureAdminToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	work := t.TempDir()
	os.MkdirAll(filepath.Join(work, "js"), 0o755)
	os.WriteFile(filepath.Join(work, "js", "shout.js"), []byte("function main(input) { return String(input.args[0]).toUpperCase() }"), 0o644)
	flow := filepath.Join(work, "shout.flow")
	os.WriteFile(flow, []byte("numbers \"+15550188\"\napplet shout = \"js/shout.js\"\nrun shout(body) as x <\n  on error -> reply \"no\" then end\n>\nreply \"{{x}}\"\n"), 0o644)
	var out, errOut bytes.Buffer
	if code := run([]string{"deploy", flow, "--server", hs.URL, "--token", token}, nil, &out, &errOut); code != exitOK {
		t.Fatalf("deploy: %d %s %s", code, out.String(), errOut.String())
	}
	// Deployed from elsewhere, with its applet gone: the server names
	// the declaration, not a path of either machine.
	os.Remove(filepath.Join(work, "js", "shout.js"))
	out.Reset()
	errOut.Reset()
	code := run([]string{"deploy", flow, "--server", hs.URL, "--token", token}, nil, &out, &errOut)
	if code != exitFail || !strings.Contains(errOut.String(), "shout.flow:2:16: error: applet file js/shout.js: no such file") || strings.Contains(errOut.String(), work) {
		t.Fatalf("deploy without the applet: %d %s", code, errOut.String())
	}
}

// TestCheckAppletPathsStayInTheFlowsDirectory: on disk the same rules
// hold as for a deploy: `flowc check` reports an applet path that is
// absolute or climbs out with .. at its line:col, and a symbolic link
// out of the flow's directory does not open; nothing of the outside
// file is printed.
func TestCheckAppletPathsStayInTheFlowsDirectory(t *testing.T) {
	outside, work := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret.js")
	os.WriteFile(secret, []byte("SECRET-c0ffee {"), 0o644)
	os.Symlink(secret, filepath.Join(work, "link.js"))
	rel, _ := filepath.Rel(work, secret)
	flow := filepath.Join(work, "f.flow")
	os.WriteFile(flow, []byte("numbers \"+15550100\"\napplet a = \""+secret+"\"\napplet b = \""+filepath.ToSlash(rel)+"\"\napplet c = \"link.js\"\nreply \"x\"\n"), 0o644)
	var out, errOut bytes.Buffer
	code := run([]string{"check", "--format", "short", flow}, nil, &out, &errOut)
	text := out.String() + errOut.String()
	for _, want := range []string{"f.flow:2:12: error: applet path", "is absolute", "f.flow:3:12: error: applet path", "leaves the flow's directory", "f.flow:4:12: error: applet file link.js cannot be read"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}
	if code != exitFail || strings.Contains(text, "SECRET") {
		t.Fatalf("exit %d:\n%s", code, text)
	}
}

// TestVersionsSayWhoDeployedThem: `flowc deploy --by` is kept with the
// new version, a deploy without it names this machine's USER@HOST, and
// `flowc flows NAME` lists who saved each version; a deployer that is
// not one line of text is refused.
func TestVersionsSayWhoDeployedThem(t *testing.T) {
	as := startAdminServer(t, "../../examples/sales.flow", server.Config{})
	work := t.TempDir()
	flow := filepath.Join(work, "sales.flow")
	for i, by := range []string{"alice (release 12)", ""} {
		os.WriteFile(flow, []byte(fmt.Sprintf("flow sales\nnumbers \"+15550100\"\nreply \"version %d\"\n", i)), 0o644)
		args := []string{"deploy", flow}
		if by != "" {
			args = append(args, "--by", by)
		}
		if code, out, errOut := as.flowc(args...); code != exitOK {
			t.Fatalf("deploy %v: %d %s %s", args, code, out, errOut)
		}
	}
	code, out, errOut := as.flowc("flows", "sales")
	host, _ := os.Hostname()
	for _, want := range []string{"BY", "alice (release 12)", "@" + host} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("flows sales: %d, want %q in\n%s%s", code, want, out, errOut)
		}
	}
	if code, _, errOut := as.flowc("deploy", flow, "--by", "eve\nadmin"); code == exitOK || !strings.Contains(errOut, `"deployed_by" must be at most 128 bytes of text on one line`) {
		t.Errorf("deploy --by with a line break: %d %s", code, errOut)
	}
}
