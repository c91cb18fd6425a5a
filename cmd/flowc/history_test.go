package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestMostRecentExample: `flowc test examples/most-recent.flowtest`
// passes turboDial's four cases and the campaign replies, and a wrong
// expectation about the history fails naming what the flow did.
func TestMostRecentExample(t *testing.T) {
	code, out, errs := runFlowc(t, "test", "../../examples/most-recent.flowtest", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var rep struct {
		Tests []struct {
			Name string `json:"name"`
			Pass bool   `json:"pass"`
		} `json:"tests"`
		Passed int `json:"passed"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, prefix := range []string{"1. ", "2. ", "3. ", "4. ", "campaign: "} {
		found := false
		for _, tc := range rep.Tests {
			found = found || strings.HasPrefix(tc.Name, prefix) && tc.Pass
		}
		if !found {
			t.Errorf("no passing test %q…", prefix)
		}
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"m.flow": "flow m\nnumbers \"+15550800\"\ninbox user:(contact.last_texted_by ?? contact.owner) < on error -> forward email:(number.backup_email) >\n",
		"m.flowtest": "at 2026-11-23T10:00\nnumber backup_email \"desk@example.com\"\nuser alice\n" +
			"test \"texted\"\n  texted by alice 1h ago\n  send \"hi\"\n  expect forward email:desk@example.com\n",
	})
	code, out, _ = runFlowc(t, "test", dir+"/m.flowtest")
	if code != exitFail || !strings.Contains(out, "got: inbox user:alice, end") {
		t.Errorf("exit %d, want a failure naming inbox user:alice:\n%s", code, out)
	}
}

// TestGraphComputedTargets: `flowc graph` draws a computed target's
// `on error` branch.
func TestGraphComputedTargets(t *testing.T) {
	code, out, errs := runFlowc(t, "graph", "../../examples/most-recent.flow", "--format", "mermaid")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{`inbox user:(contact.last_texted_by<br/>?? contact.last_called_by ??<br/>contact.owner)`, `-->|"on error"|`, `forward email:(number.backup_email)`} {
		if !strings.Contains(out, want) {
			t.Errorf("graph lacks %q:\n%s", want, out)
		}
	}
}
