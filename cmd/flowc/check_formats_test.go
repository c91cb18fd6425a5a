package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/diag"
)

const typoFlow = "numbers \"+15550100\"\nmenu \"Reply 1 or 2\" <\n  1 -> inbox team:slaes\n  2 -> inbox team:sales\n  timeout 1h -> inbox team:sales\n  else -> inbox team:sales\n>\n"

const salesDirectory = `{"users": [{"name": "alice"}], "teams": [{"name": "sales", "members": ["alice"]}]}`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckDirectoryBesideFlows: directory.json beside the flows is read;
// `inbox team:slaes` is an error at the team's name with a suggestion.
// Without a directory file the same flow is clean.
func TestCheckDirectoryBesideFlows(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f.flow": typoFlow, "directory.json": salesDirectory})
	code, _, errs := flowcIn(t, "", "check", dir)
	want := "error[flow/unknown-target]: no team named \"slaes\" in the directory\n --> " + filepath.Join(dir, "f.flow") + ":3:19\n"
	if code != 2 || !strings.Contains(errs, want) || !strings.Contains(errs, "= help: did you mean team:sales?") {
		t.Errorf("check = %d, stderr:\n%s\nwant %s", code, errs, want)
	}
	bare := t.TempDir()
	writeFiles(t, bare, map[string]string{"f.flow": typoFlow})
	if code, out, errs := flowcIn(t, "", "check", bare); code != 0 || out != "" || errs != "" {
		t.Errorf("without a directory: %d %q %q; want clean", code, out, errs)
	}
	// --directory names another file.
	other := filepath.Join(t.TempDir(), "people.json")
	writeFiles(t, filepath.Dir(other), map[string]string{"people.json": salesDirectory})
	if code, _, errs := flowcIn(t, "", "check", "--directory", other, bare); code != 2 || !strings.Contains(errs, `no team named "slaes"`) {
		t.Errorf("--directory: %d %q", code, errs)
	}
	if code, _, errs := flowcIn(t, "", "check", "--directory", filepath.Join(bare, "nope.json"), bare); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("--directory missing: %d %q", code, errs)
	}
	// Two sets of flows with two directories: ambiguous. One set named
	// twice (a directory and a file in it): not.
	writeFiles(t, bare, map[string]string{"directory.json": salesDirectory})
	if code, _, errs := flowcIn(t, "", "check", dir, bare); code != 1 || !strings.Contains(errs, "two directory files") {
		t.Errorf("two directories: %d %q", code, errs)
	}
	if code, _, errs := flowcIn(t, "", "check", dir, filepath.Join(dir, "f.flow")); code != 2 || !strings.Contains(errs, `no team named "slaes"`) {
		t.Errorf("one directory named twice: %d %q", code, errs)
	}
}

// TestCheckBrokenDirectory: a directory file that cannot be used is an
// error diagnostic at its line and column, in every format.
func TestCheckBrokenDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f.flow": typoFlow, "directory.json": "{\n  \"teams\": [{\"name\": \"sales\", \"memebrs\": []}]\n}\n"})
	code, out, _ := flowcIn(t, "", "check", "--format", "json", dir)
	var rep diag.JSONReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != 2 || len(rep.Diagnostics) != 1 {
		t.Fatalf("check = %d, %+v", code, rep)
	}
	d := rep.Diagnostics[0]
	if d.File != filepath.Join(dir, "directory.json") || d.Code != "flow/directory" || !strings.Contains(d.Message, `unknown field "memebrs"`) {
		t.Errorf("diagnostic %+v", d)
	}
}

// TestCheckStdin: `check -` reads standard input; --stdin-filename names
// it in diagnostics and places it, so that directory.json beside the
// name is used.
func TestCheckStdin(t *testing.T) {
	code, _, errs := flowcIn(t, "rply \"x\"\n", "check", "-")
	if code != 2 || !strings.Contains(errs, "error[flow/applet]: unknown applet \"rply\"\n --> stdin.flow:1:1\n") {
		t.Errorf("check - = %d %q", code, errs)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"directory.json": salesDirectory})
	name := filepath.Join(dir, "edited.flow") // need not exist
	code, _, errs = flowcIn(t, typoFlow, "check", "-", "--stdin-filename", name)
	if code != 2 || !strings.Contains(errs, "error[flow/unknown-target]: no team named \"slaes\" in the directory\n --> "+name+":3:19\n") {
		t.Errorf("check - --stdin-filename = %d %q", code, errs)
	}
	if code, _, errs := flowcIn(t, typoFlow, "check", "--stdin-filename", name, "-", "x.flow"); code != 1 || !strings.Contains(errs, "--stdin-filename needs -") {
		t.Errorf("mixed = %d %q", code, errs)
	}
}

// TestCheckFailOn: a warning alone exits 0 by default and 2 with
// --fail-on warning; notes never fail.
func TestCheckFailOn(t *testing.T) {
	warn := "reply \"Hi\"\n" // serves no numbers
	if code, _, _ := flowcIn(t, warn, "check", "-"); code != 0 {
		t.Errorf("warning, default = %d; want 0", code)
	}
	if code, _, _ := flowcIn(t, warn, "check", "--fail-on", "warning", "-"); code != 2 {
		t.Errorf("warning, --fail-on warning = %d; want 2", code)
	}
	if code, _, _ := flowcIn(t, warn, "check", "--strict", "-"); code != 2 {
		t.Errorf("warning, --strict = %d; want 2 (as serve --strict and deploy --strict refuse it)", code)
	}
	note := "numbers \"+15550100\"\nmenu \"1 or 2\" <\n  1 -> reply \"a\"\n  2 -> end\n  timeout 1h -> end\n  else -> end\n>\nreply \"b\"\n"
	code, _, errs := flowcIn(t, note, "check", "--fail-on", "warning", "-")
	if code != 0 || !strings.Contains(errs, "note[flow/fall-through]: this branch goes on") || !strings.Contains(errs, "1 note(s)") {
		t.Errorf("note, --fail-on warning = %d %q; want 0 and the note", code, errs)
	}
	if code, _, _ := flowcIn(t, warn, "check", "--fail-on", "note", "-"); code != 1 {
		t.Errorf("--fail-on note = %d; want 1", code)
	}
}

// TestCheckSegments: the JSON report's "replies" array measures each
// text; --max-segments moves the warning's threshold; 1,700 characters
// is the compiler's too-long error.
func TestCheckSegments(t *testing.T) {
	src := "numbers \"+15550100\"\nreply \"" + strings.Repeat("a", 400) + "\"\nreply \"Hi {{contact.name ?? 'you'}}, we’re open\"\n"
	code, out, _ := flowcIn(t, src, "check", "--format", "json", "-")
	var rep diag.JSONReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != 0 || len(rep.Replies) != 2 || rep.Warnings != 0 {
		t.Fatalf("check = %d, %+v", code, rep)
	}
	r0, r1 := rep.Replies[0], rep.Replies[1]
	if r0.Kind != "reply" || r0.Chars != 400 || r0.Segments != 3 || r0.Encoding != "GSM-7" || !r0.Exact || r0.Range.Start.Line != 2 {
		t.Errorf("first reply %+v", r0)
	}
	if r1.Segments != 1 || r1.Encoding != "UCS-2" || r1.Exact || r1.Chars != len([]rune("Hi , we’re open")) {
		t.Errorf("second reply %+v", r1)
	}
	code, out, _ = flowcIn(t, src, "check", "--format", "json", "--max-segments", "2", "-")
	rep = diag.JSONReport{}
	json.Unmarshal([]byte(out), &rep)
	if code != 0 || rep.Warnings != 1 || rep.Diagnostics[0].Code != "flow/sms-length" {
		t.Errorf("--max-segments 2 = %d, %+v", code, rep.Diagnostics)
	}
	long := "numbers \"+15550100\"\nreply \"" + strings.Repeat("a", 1700) + "\"\n"
	if code, _, errs := flowcIn(t, long, "check", "-"); code != 2 || !strings.Contains(errs, "error[flow/too-long]: reply of 1700 characters is over the limit of 1600: it could never be sent\n") ||
		strings.Contains(errs, "flow/sms-length") {
		t.Errorf("1700 characters = %d %q", code, errs)
	}
	if code, _, _ := flowcIn(t, long, "check", "--max-segments", "0", "-"); code != 1 {
		t.Errorf("--max-segments 0 = %d; want 1", code)
	}
}

// TestCheckSARIFAndGitHub: both formats go to stdout and carry the
// diagnostics; the SARIF is validated against its schema in lang/diag.
func TestCheckSARIFAndGitHub(t *testing.T) {
	src := "numbers \"+15550100\"\nrply \"x\"\n"
	code, out, errs := flowcIn(t, src, "check", "--format", "github", "--stdin-filename", "flows/a.flow")
	want := "::error file=flows/a.flow,line=2,col=1,endLine=2,endColumn=5,title=flow/applet::unknown applet \"rply\"%0Ahint: did you mean \"reply\"?\n"
	if code != 2 || out != want || errs != "" {
		t.Errorf("github = %d\n%q\nwant\n%q\nstderr %q", code, out, want, errs)
	}
	code, out, _ = flowcIn(t, src, "check", "--format", "sarif", "-")
	var log struct {
		Version string
		Runs    []struct {
			Results []struct {
				RuleID string
				Level  string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	if code != 2 || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 ||
		log.Runs[0].Results[0].RuleID != "flow/applet" || log.Runs[0].Results[0].Level != "error" {
		t.Errorf("sarif = %d %s", code, out)
	}
}

// TestCheckIssue12 is issue #12's "done when" for check, on flows read
// from standard input: an unknown team with a suggestion, a read unset
// on some path, an hours spec in a set, a 1,700-character reply and an
// impossible number, each at its place. Two flows: the compiler's
// checks (the read, the length) run only on files the front end finds
// no errors in, the analysis only on files that compile.
func TestCheckIssue12(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"directory.json": salesDirectory})
	name := filepath.Join(dir, "dispatch.flow")
	type found struct {
		code string
		line int
		col  int
	}
	check := func(src string, wantCode int) map[found]string {
		code, out, _ := flowcIn(t, src, "check", "--format", "json", "--stdin-filename", name)
		var rep diag.JSONReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if code != wantCode {
			t.Errorf("exit %d, want %d", code, wantCode)
		}
		got := map[found]string{}
		for _, d := range rep.Diagnostics {
			if d.File != name {
				t.Errorf("diagnostic names %q, not %q", d.File, name)
			}
			got[found{d.Code, d.Range.Start.Line, d.Range.Start.Column}] = d.Severity.String() + ": " + d.Message + " / " + d.Hint
		}
		return got
	}
	front := check("numbers \"+15550100\", \"+12345678\"\n"+
		"set open = hours(\"mon-fir 9-17\")\n"+
		"inbox team:slaes\n", 2)
	compiled := check("numbers \"+15550100\"\n"+
		"ask \"What is your address?\" as address <\n  timeout 10m -> reply \"OK.\"\n>\n"+
		"reply \"Dispatch will text you a time slot for {{address}}.\"\n"+
		"inbox team:sales\n", 0) // a warning
	long := check("numbers \"+15550100\"\nreply \""+strings.Repeat("x", 1700)+"\"\n", 2)
	for _, want := range []struct {
		got map[found]string
		found
		text string
	}{
		{front, found{"flow/number", 1, 22}, `warning: number +12345678 cannot exist`},
		{front, found{"flow/schedule", 2, 23}, `error: bad schedule "mon-fir 9-17": unknown day "fir"`},
		{front, found{"flow/unknown-target", 3, 12}, `error: no team named "slaes" in the directory / did you mean team:sales?`},
		{compiled, found{"flow/variable", 5, 49}, `warning: variable "address" may be unset here`},
		{long, found{"flow/too-long", 2, 7}, `error: reply of 1700 characters is over the limit of 1600`},
	} {
		if g, ok := want.got[want.found]; !ok || !strings.Contains(g, want.text) {
			t.Errorf("%v: got %q, want %q\nall: %v", want.found, g, want.text, want.got)
		}
	}
}
