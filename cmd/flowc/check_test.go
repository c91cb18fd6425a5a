package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/diag"
)

func TestCheckExamplesClean(t *testing.T) {
	code, out, errs := flowcIn(t, "", "check", filepath.Join("..", "..", "examples"))
	if code != 0 || out != "" || errs != "" {
		t.Errorf("check examples/ = %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

// badFlows writes a file set with two errors in one file and a warning
// in another.
func badFlows(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"bad.flow":  "flow bad\nnumbers \"+15550100\"\nrply \"hi\"\nwhen (x == ) < reply \"x\" >\n",
		"warn.flow": "flow warn\ninbox team:sales\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckTextToStderr(t *testing.T) {
	dir := badFlows(t)
	code, out, errs := flowcIn(t, "", "check", dir)
	if code != 2 {
		t.Errorf("check with errors = %d; want 2", code)
	}
	if out != "" {
		t.Errorf("text output went to stdout:\n%s", out)
	}
	bad := filepath.Join(dir, "bad.flow")
	for _, want := range []string{
		"error[flow/applet]: unknown applet \"rply\"\n" +
			" --> " + bad + ":3:1\n" +
			"  |\n" +
			"3 | rply \"hi\"\n" +
			"  | ^^^^\n" +
			"  |\n" +
			"  = help: did you mean \"reply\"?\n" +
			"help: replace \"rply\" with \"reply\"\n" +
			"  |\n" +
			"3 | reply \"hi\"\n" +
			"  | ~~~~~\n\n",
		"error[flow/expr]: unexpected `)`\n --> " + bad + ":4:12\n  |\n4 | when (x == ) < reply \"x\" >\n  |            ^\n",
		"warning[flow/no-numbers]: flow \"warn\" serves no numbers: no message can reach it\n --> " + filepath.Join(dir, "warn.flow") + ":1:6\n",
		"\n\n2 error(s), 1 warning(s) in 2 file(s)\n",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// --format short: one line each (what problem matchers and
	// errorformat read), the hint under it.
	code, out, errs = flowcIn(t, "", "check", "--format", "short", dir)
	want := bad + `:3:1: error: unknown applet "rply" [flow/applet]` + "\n  hint: did you mean \"reply\"?\n" +
		bad + ":4:12: error: unexpected `)` [flow/expr]\n" +
		filepath.Join(dir, "warn.flow") + `:1:6: warning: flow "warn" serves no numbers: no message can reach it [flow/no-numbers]` + "\n" +
		"  hint: add a header such as: numbers \"+15550100\"\n" +
		"2 error(s), 1 warning(s) in 2 file(s)\n"
	if code != 2 || out != "" || errs != want {
		t.Errorf("--format short = %d, stdout %q, stderr:\n%s\nwant:\n%s", code, out, errs, want)
	}
	// Warnings alone do not fail.
	if code, _, errs := flowcIn(t, "", "check", filepath.Join(dir, "warn.flow")); code != 0 || !strings.Contains(errs, "warning") {
		t.Errorf("check with only a warning = %d, %q; want 0 and the warning", code, errs)
	}
}

func TestCheckJSON(t *testing.T) {
	dir := badFlows(t)
	code, out, errs := flowcIn(t, "", "check", "--format", "json", dir)
	if code != 2 {
		t.Errorf("check --format json with errors = %d; want 2", code)
	}
	if errs != "" {
		t.Errorf("json mode wrote to stderr:\n%s", errs)
	}
	var rep diag.JSONReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	if rep.Valid || rep.Files != 2 || rep.Errors != 2 || rep.Warnings != 1 || len(rep.Diagnostics) != 3 {
		t.Errorf("report = %+v", rep)
	}
	// The raw JSON has the documented field names.
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"valid", "files", "errors", "warnings", "diagnostics"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	first := raw["diagnostics"].([]any)[0].(map[string]any)
	for _, k := range []string{"file", "severity", "code", "message", "hint", "range"} {
		if _, ok := first[k]; !ok {
			t.Errorf("diagnostic lacks %q: %v", k, first)
		}
	}
	d := rep.Diagnostics[0]
	if d.File != filepath.Join(dir, "bad.flow") || d.Severity != diag.Error || d.Code != "flow/applet" ||
		d.Range.Start.Line != 3 || d.Range.Start.Column != 1 || d.Range.End.Line != 3 || d.Range.End.Column != 5 ||
		d.Range.End.Offset-d.Range.Start.Offset != len("rply") {
		t.Errorf("first diagnostic = %+v", d)
	}
	if e := rep.Diagnostics[1]; e.Code != "flow/expr" || e.Range.Start.Line != 4 || e.Range.Start.Column != 12 {
		t.Errorf("expr diagnostic = %+v", e)
	}
	if w := rep.Diagnostics[2]; w.Severity != diag.Warning || w.Code != "flow/no-numbers" {
		t.Errorf("warning = %+v", w)
	}
}

func TestCheckJSONClean(t *testing.T) {
	code, out, errs := flowcIn(t, "", "check", filepath.Join("..", "..", "examples"), "--format", "json")
	if code != 0 || errs != "" {
		t.Fatalf("check --format json examples/ = %d, stderr %s", code, errs)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if raw["valid"] != true || raw["errors"] != 0.0 {
		t.Errorf("report = %v", raw)
	}
	if ds, ok := raw["diagnostics"].([]any); !ok || len(ds) != 0 {
		t.Errorf("diagnostics = %#v; want an empty array, not null", raw["diagnostics"])
	}
}

func TestCheckUsageErrors(t *testing.T) {
	if code, _, errs := flowcIn(t, "", "check", filepath.Join(t.TempDir(), "missing")); code != 1 || errs == "" {
		t.Errorf("check on a missing path = %d, %q; want 1 and a message", code, errs)
	}
	if code, _, errs := flowcIn(t, "", "check", "--format", "xml", filepath.Join("..", "..", "examples")); code != 1 || !strings.Contains(errs, "--format must be one of text, json") {
		t.Errorf("check --format xml = %d, %q; want 1", code, errs)
	}
	if code, _, errs := flowcIn(t, "", "check", t.TempDir()); code != 1 || !strings.Contains(errs, "no .flow files") {
		t.Errorf("check on an empty directory = %d, %q; want 1", code, errs)
	}
	if code, _, _ := flowcIn(t, "", "check", "--nope"); code != 1 {
		t.Errorf("check --nope = %d; want 1", code)
	}
}
