package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

type deployError struct {
	Error       string
	Diagnostics []struct {
		File, Code, Message, Hint string
		Range                     struct{ Start struct{ Line, Column int } }
	}
}

// appletFlow declares applet a at path on line 2, column 12 (the opening
// quote of the path), and runs it.
func appletFlow(path string) string {
	lit := strings.ReplaceAll(path, `\`, `\\`)
	return "numbers \"+15550177\"\napplet a = \"" + lit + "\"\nrun a(body) as x <\n  on error -> reply \"no\" then end\n>\nreply \"{{x}}\"\n"
}

// TestDeployReadsOnlyWhatItWasGiven: a flow posted to the admin API
// cannot make the server read its own files: absolute paths, `..`,
// devices and system files are refused at the path's line:col, nothing
// is read (the secret's text never comes back), and deploy writes no
// temporary files.
func TestDeployReadsOnlyWhatItWasGiven(t *testing.T) {
	h, tok := adminHarness(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	outside := t.TempDir()
	const secret = "SECRET-9f3c1d-not-javascript {"
	secretPath := filepath.Join(outside, "secret.js")
	if err := os.WriteFile(secretPath, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same secret, as the server's working directory would hold it:
	// a relative path must not reach the process's current directory.
	cwd, _ := os.Getwd()
	rel, _ := filepath.Rel(cwd, secretPath)

	for _, path := range []string{
		secretPath,
		"/dev/zero",
		"/etc/passwd",
		"/etc/shadow",
		"../secret.js",
		"applets/../../secret.js",
		filepath.ToSlash(rel),
		"./../secret.js",
		`..\secret.js`,
		`C:\secret.js`,
	} {
		done := make(chan struct{})
		var code int
		var body []byte
		go func() {
			defer close(done)
			code, body = h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "a.flow", Source: appletFlow(path)})
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second): // generous: the fix answers in milliseconds
			t.Fatalf("applet %q: deploy did not answer", path)
		}
		var e deployError
		json.Unmarshal(body, &e)
		if code != http.StatusUnprocessableEntity || len(e.Diagnostics) == 0 {
			t.Fatalf("applet %q: %d %s", path, code, body)
		}
		d := e.Diagnostics[0]
		if d.File != "a.flow" || d.Code != "flow/applet" || d.Range.Start.Line != 2 || d.Range.Start.Column != 12 {
			t.Errorf("applet %q: diagnostic %+v, want a.flow:2:12 flow/applet", path, d)
		}
		for _, leak := range []string{secret, "SECRET", "root:", tmp, os.TempDir(), cwd} {
			if strings.Contains(string(body), leak) {
				t.Errorf("applet %q: the answer contains %q:\n%s", path, leak, body)
			}
		}
	}

	// A good deploy with its applet in the bundle works, and still
	// writes nothing to the temporary directory.
	code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "a.flow", Source: appletFlow("js/a.js"),
		Applets: map[string]string{"js/a.js": "function main(input) { return input.args[0] + '!' }"}})
	if code != http.StatusCreated {
		t.Fatalf("deploy with its applet: %d %s", code, body)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("deploy wrote to the temporary directory: %v", ents)
	}
}

// TestDeployBundleChecks: the bundle itself is checked: applet names
// that are not clean relative paths are a 400 naming the field; an
// applet over the size limit is refused at its declaration; a declared
// applet missing from the bundle is reported without naming any
// directory of the server.
func TestDeployBundleChecks(t *testing.T) {
	h, tok := adminHarness(t)
	for _, name := range []string{"../a.js", "/a.js", "./a.js", "a//b.js", `a\b.js`, ""} {
		code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "a.flow", Source: appletFlow("a.js"),
			Applets: map[string]string{name: "function main() { return 1 }"}})
		if code != http.StatusBadRequest || !strings.Contains(string(body), "applets[") {
			t.Errorf("bundle name %q: %d %s", name, code, body)
		}
	}
	big := "function main() { return 1 }\n//" + strings.Repeat("x", 256<<10)
	code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "a.flow", Source: appletFlow("a.js"),
		Applets: map[string]string{"a.js": big}})
	var e deployError
	json.Unmarshal(body, &e)
	if code != http.StatusUnprocessableEntity || len(e.Diagnostics) == 0 || e.Diagnostics[0].Range.Start.Line != 2 ||
		!strings.Contains(e.Diagnostics[0].Message, "256 KiB") {
		t.Errorf("oversized applet: %d %s", code, body)
	}
	code, body = h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "a.flow", Source: appletFlow("gone.js")})
	e = deployError{}
	json.Unmarshal(body, &e)
	if code != http.StatusUnprocessableEntity || len(e.Diagnostics) == 0 || e.Diagnostics[0].Range.Start.Column != 12 ||
		strings.Contains(string(body), os.TempDir()) {
		t.Errorf("missing applet: %d %s", code, body)
	}
}

// TestDeployOfAOneLineFlowOf2MB: a 1.9 MB flow on a single line
// (27,000 replies chained with `then`, each with a placeholder in
// non-ASCII text) deploys in bounded time; it used to take longer than
// any client waits (every position rescanned the line). Each reply is
// short: one reply over 1,600 characters is refused by itself.
func TestDeployOfAOneLineFlowOf2MB(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	h, tok := adminHarness(t)
	part := `reply "{{body}} ` + strings.Repeat("é", 22) + `x" then ` // 70 bytes
	src := "numbers \"+15550199\"\n" + strings.Repeat(part, 1_900_000/len(part)) + "end\n"
	start := time.Now()
	code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "long.flow", Source: src})
	if code != http.StatusCreated {
		t.Fatalf("deploy: %d %.500s", code, body)
	}
	if d := time.Since(start); d > 60*time.Second { // about 1 s here
		t.Fatalf("a 1.9 MB one-line deploy took %v", d)
	}
}

// TestDeployChecksInboxTargetsAgainstTheDirectory: a typo in a team's name
// would route every message to an inbox nobody reads, so a deploy is
// checked against the server's directory as `flowc check` checks against
// directory.json: an unknown team is a 422 with a suggestion, and nothing
// is deployed.
func TestDeployChecksInboxTargetsAgainstTheDirectory(t *testing.T) {
	h, tok := adminHarness(t) // the examples' directory: teams sales, support, …
	src := "numbers \"+15550198\"\ninbox team:slaes\n"
	code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "typo.flow", Source: src})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "team:sales") || !strings.Contains(string(body), `"line": 2`) {
		t.Fatalf("deploy of a typo: %d %s", code, body)
	}
	code, body = h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "typo.flow", Source: "numbers \"+15550198\"\ninbox team:sales\n"})
	if code != http.StatusCreated {
		t.Fatalf("deploy of the fixed flow: %d %s", code, body)
	}
}
