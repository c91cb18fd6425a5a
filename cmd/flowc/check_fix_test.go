package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// officeFlow has two misspelt names, each with one close candidate.
const (
	officeFlow  = "flow office\nnumbers \"+15550100\"\nschedule office = \"mon-fri 9-17\"\nwhen hours(\"ofice\") < rply \"hi\" > else < reply \"closed\" >\n"
	officeFixed = "flow office\nnumbers \"+15550100\"\nschedule office = \"mon-fri 9-17\"\nwhen hours(\"office\") < reply \"hi\" > else < reply \"closed\" >\n"
)

// TestCheckFix: --fix replaces both names, writes the file, says so,
// and the check that follows is clean (exit 0, nothing else printed).
// The file keeps its mode and its byte order mark.
func TestCheckFix(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "office.flow")
	if err := os.WriteFile(p, []byte(file.BOM+officeFlow), 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errs := flowcIn(t, "", "check", "--fix", p)
	if code != 0 || out != "" || errs != "fixed "+p+": 2 fix(es)\n" {
		t.Errorf("check --fix = %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if got := readFile(t, p); got != file.BOM+officeFixed {
		t.Errorf("fixed file:\n%q\nwant:\n%q", got, file.BOM+officeFixed)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode after --fix: %v %v", st.Mode(), err)
	}
	if code, out, errs := flowcIn(t, "", "check", p); code != 0 || out != "" || errs != "" {
		t.Errorf("check after --fix = %d %q %q", code, out, errs)
	}
	// Nothing to fix: nothing written, nothing said.
	if code, _, errs := flowcIn(t, "", "check", "--fix", p); code != 0 || errs != "" {
		t.Errorf("second --fix = %d %q", code, errs)
	}
}

// TestCheckFixEveryKindOfName: a did-you-mean fix for each kind of name
// (an applet, a declared JavaScript applet, a schedule, a section, a
// variable, a function, the fields of the message and of the contact, a
// team and a user of the directory); the compiler's names are found in
// the round after the front end's are fixed. The result checks clean.
func TestCheckFixEveryKindOfName(t *testing.T) {
	dir := t.TempDir()
	js, err := os.ReadFile(filepath.Join("..", "..", "examples", "applets", "lookup.js"))
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"directory.json":    salesDirectory,
		"applets/lookup.js": string(js),
		"t.flow": "flow t\nnumbers \"+15550100\"\napplet lookup = \"applets/lookup.js\"\nschedule office = \"mon-fri 9-17\"\nset count = 1\n" +
			"section helpdesk <\n  reply \"help\" then inbox user:alcie\n>\n" +
			"when hours(\"ofice\") and cuont > 0 and contact.nmae != \"\" and len(boyd) > 0 < rply \"hi\" > else < goto helpdsk >\n" +
			"run lookp(body) as size <\n  \"vip\" -> inbox team:slaes\n  else -> reply \"{{ lenn(body) }}\"\n>\n",
	})
	want := "flow t\nnumbers \"+15550100\"\napplet lookup = \"applets/lookup.js\"\nschedule office = \"mon-fri 9-17\"\nset count = 1\n" +
		"section helpdesk <\n  reply \"help\" then inbox user:alice\n>\n" +
		"when hours(\"office\") and count > 0 and contact.name != \"\" and len(body) > 0 < reply \"hi\" > else < goto helpdesk >\n" +
		"run lookup(body) as size <\n  \"vip\" -> inbox team:sales\n  else -> reply \"{{ len(body) }}\"\n>\n"
	p := filepath.Join(dir, "t.flow")
	code, _, errs := flowcIn(t, "", "check", "--fix", dir)
	if got := readFile(t, p); got != want {
		t.Errorf("fixed:\n%s\nwant:\n%s", got, want)
	}
	if code != 0 || errs != "fixed "+p+": 10 fix(es)\n" {
		t.Errorf("check --fix = %d, stderr:\n%s", code, errs)
	}
}

// TestCheckFixStdin: with -, the fixed text goes to stdout and what
// remains to stderr; the exit status is the re-check's. The JSON report
// is refused there (it would share stdout).
func TestCheckFixStdin(t *testing.T) {
	in := officeFlow + "when (x == ) < reply \"x\" > else < end >\n"
	code, out, errs := flowcIn(t, in, "check", "--fix", "-")
	if out != officeFixed+"when (x == ) < reply \"x\" > else < end >\n" {
		t.Errorf("stdout:\n%s", out)
	}
	if code != 2 || !strings.Contains(errs, "fixed stdin.flow: 2 fix(es)\n") || !strings.Contains(errs, "error[flow/expr]: unexpected `)`") ||
		strings.Contains(errs, "rply") || !strings.Contains(errs, "1 error(s), 0 warning(s) in 1 file(s)") {
		t.Errorf("check --fix - = %d, stderr:\n%s", code, errs)
	}
	// Nothing to fix: the text comes back as it was.
	if code, out, _ := flowcIn(t, officeFixed, "check", "--fix", "-"); code != 0 || out != officeFixed {
		t.Errorf("clean input: %d %q", code, out)
	}
	// --diff with -: the diff alone, nothing when nothing changes.
	if code, out, _ := flowcIn(t, in, "check", "-d", "-"); code != 2 || !strings.HasPrefix(out, "--- stdin.flow.orig\n") || strings.Contains(out, "flow office\nnumbers") {
		t.Errorf("-d -: %d\n%s", code, out)
	}
	if code, out, errs := flowcIn(t, officeFixed, "check", "-d", "-"); code != 0 || out != "" || errs != "" {
		t.Errorf("-d - on clean input: %d %q %q", code, out, errs)
	}
	if code, _, errs := flowcIn(t, in, "check", "--fix", "--format", "json", "-"); code != 1 || !strings.Contains(errs, "--format json would write there too") {
		t.Errorf("--fix --format json - = %d %q", code, errs)
	}
	// --format json with --fix on files: the report is of the fixed files.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"o.flow": officeFlow})
	code, out, errs = flowcIn(t, "", "check", "--fix", "--format", "json", dir)
	var rep diag.JSONReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.Valid || len(rep.Diagnostics) != 0 || !strings.Contains(errs, "2 fix(es)") {
		t.Errorf("--fix --format json = %d %v %s %s", code, err, out, errs)
	}
}

// TestCheckFixDiff: --fix --diff (and -d alone) prints the change as a
// unified diff and writes nothing; the exit status is that of the fixed
// text's check.
func TestCheckFixDiff(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"o.flow": officeFlow})
	p := filepath.Join(dir, "o.flow")
	for _, args := range [][]string{{"--fix", "--diff"}, {"-d"}} {
		code, out, errs := flowcIn(t, "", append(append([]string{"check"}, args...), p)...)
		if code != 0 || !strings.Contains(out, "-when hours(\"ofice\") < rply \"hi\" > else < reply \"closed\" >\n+when hours(\"office\") < reply \"hi\" > else < reply \"closed\" >\n") ||
			!strings.HasPrefix(out, "--- "+p+".orig\n+++ "+p+"\n") || errs != "would fix "+p+": 2 fix(es)\n" {
			t.Errorf("check %v = %d\nstdout: %s\nstderr: %s", args, code, out, errs)
		}
		if readFile(t, p) != officeFlow {
			t.Fatalf("check %v wrote the file", args)
		}
	}
}

// TestApplyCheckFixesOverlap: when two diagnostics' fixes overlap, the
// first is applied and the second is named as left; one in a file that
// is not checked is left too.
func TestApplyCheckFixesOverlap(t *testing.T) {
	src := file.NewSource("a.flow", "rply \"hi\"\n")
	other := file.NewSource("directory.json", "{}")
	var l diag.List
	l.Errorf(src.Span(0, 4), "flow/x", "one").Fixes = []diag.Fix{{Title: "first", Edits: []diag.Edit{{Span: src.Span(0, 4), New: "reply"}}}}
	l.Errorf(src.Span(2, 6), "flow/x", "two").Fixes = []diag.Fix{{Title: "second", Edits: []diag.Edit{{Span: src.Span(2, 6), New: "X"}}}}
	l.Errorf(other.Span(0, 1), "flow/x", "three").Fixes = []diag.Fix{{Title: "elsewhere", Edits: []diag.Edit{{Span: other.Span(0, 1), New: "["}}}}
	out, n, notes := applyCheckFixes([]*file.Source{src}, l)
	if out[0].Text != "reply \"hi\"\n" || n[0] != 1 {
		t.Errorf("fixed %q, %d applied", out[0].Text, n[0])
	}
	want := []string{
		`directory.json:1:1: fix "elsewhere" not applied: it edits a file other than the flows checked, or several`,
		`a.flow:1:3: fix "second" not applied: it overlaps "first", applied first`,
	}
	if strings.Join(notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(want, "\n"))
	}
}

// TestCheckShortMatchesProblemMatcher: every error and warning line of
// --format short is one the VS Code problem matcher in editor-support
// reads, with the file, place, severity, message and code.
func TestCheckShortMatchesProblemMatcher(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "editor-support", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Contributes struct {
			ProblemMatchers []struct {
				Pattern struct{ Regexp string }
			}
		}
	}
	if err := json.Unmarshal(b, &pkg); err != nil || len(pkg.Contributes.ProblemMatchers) == 0 {
		t.Fatalf("package.json: %v", err)
	}
	re := regexp.MustCompile(pkg.Contributes.ProblemMatchers[0].Pattern.Regexp)
	dir := badFlows(t)
	_, _, errs := flowcIn(t, "", "check", "--format", "short", dir)
	var matched []string
	for _, line := range strings.Split(errs, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			matched = append(matched, filepath.Base(m[1])+":"+m[2]+":"+m[3]+" "+m[4]+" "+m[6])
		}
	}
	want := "bad.flow:3:1 error flow/applet,bad.flow:4:12 error flow/expr,warn.flow:1:6 warning flow/no-numbers"
	if got := strings.Join(matched, ","); got != want {
		t.Errorf("matched %s\nwant %s\nin:\n%s", got, want, errs)
	}
}

// TestCheckFixTheCommonMistakes is issue 13's list: `flowc check --fix`
// fixes the `<` comparison, `=>`, `10 min`, curly quotes and a misspelt
// name in one file, and the result checks clean.
func TestCheckFixTheCommonMistakes(t *testing.T) {
	dir := t.TempDir()
	broken := "flow mistakes\nnumbers \"+15550100\"\n" +
		"when len(body) < 5 < reply \"Tell us a bit more, please.\" > else < tag \"long\" >\n" +
		"menu \u201cReply 1 for sales\u201d <\n" +
		"  1 => inbox team:sales\n" +
		"  timeout 10 min -> rply \"Still there?\"\n" +
		"  else -> retry 2 then end\n" +
		">\n"
	fixed := "flow mistakes\nnumbers \"+15550100\"\n" +
		"when (len(body) < 5) < reply \"Tell us a bit more, please.\" > else < tag \"long\" >\n" +
		"menu \"Reply 1 for sales\" <\n" +
		"  1 -> inbox team:sales\n" +
		"  timeout 10m -> reply \"Still there?\"\n" +
		"  else -> retry 2 then end\n" +
		">\n"
	p := filepath.Join(dir, "mistakes.flow")
	writeFiles(t, dir, map[string]string{"mistakes.flow": broken})
	if code, _, _ := flowcIn(t, "", "check", p); code == 0 {
		t.Fatal("the broken file checks clean")
	}
	code, _, errs := flowcIn(t, "", "check", "--fix", p)
	if got := readFile(t, p); got != fixed {
		t.Errorf("fixed:\n%s\nwant:\n%s\nstderr:\n%s", got, fixed, errs)
	}
	if code != 0 {
		t.Errorf("check --fix = %d, stderr:\n%s", code, errs)
	}
	if code, out, errs := flowcIn(t, "", "check", p); code != 0 || out != "" || errs != "" {
		t.Errorf("check after --fix = %d %q %q", code, out, errs)
	}
}
