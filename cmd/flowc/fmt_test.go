package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// flowcIn runs flowc in-process with stdin and returns its exit code and
// output.
func flowcIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const (
	messy = "flow messy\nnumbers   \"+15550100\"\nwhen hours(\"9-5\")<reply \"open\">else   reply \"closed\"  # note\n"
	tidy  = "flow messy\nnumbers \"+15550100\"\nwhen hours(\"9-5\") <\n  reply \"open\"\n> else reply \"closed\"  # note\n"
	clean = "flow clean\nnumbers \"+15550101\"\n\ninbox team:sales\n"
	// broken has a syntax error on line 3.
	broken = "flow broken\nnumbers \"+15550102\"\nreply \"open\" >\n"
)

// fmtDir writes messy.flow, clean.flow (already formatted) and, when
// withBroken, broken.flow into a temporary directory, with their
// modification times set in the past so that a rewrite shows.
func fmtDir(t *testing.T, withBroken bool) (dir string, old time.Time) {
	t.Helper()
	dir = t.TempDir()
	files := map[string]string{"messy.flow": messy, "clean.flow": clean}
	if withBroken {
		files["broken.flow"] = broken
	}
	old = time.Now().Add(-time.Hour).Truncate(time.Second)
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	return dir, old
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mtime(t *testing.T, p string) time.Time {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

func TestFmtPrintsToStdout(t *testing.T) {
	dir, _ := fmtDir(t, false)
	p := filepath.Join(dir, "messy.flow")
	code, out, errs := flowcIn(t, "", "fmt", p)
	if code != 0 || out != tidy || errs != "" {
		t.Fatalf("flowc fmt FILE = %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if readFile(t, p) != messy {
		t.Error("flowc fmt without -w changed the file")
	}
}

func TestFmtStdin(t *testing.T) {
	code, out, errs := flowcIn(t, messy, "fmt")
	if code != 0 || out != tidy || errs != "" {
		t.Fatalf("flowc fmt < messy = %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if code, _, errs := flowcIn(t, messy, "fmt", "-w"); code != 1 || !strings.Contains(errs, "-w needs a path") {
		t.Errorf("flowc fmt -w < messy = %d, %q; want 1 and a usage error", code, errs)
	}
	if code, out, _ := flowcIn(t, messy, "fmt", "--fail"); code != 2 || out != tidy {
		t.Errorf("flowc fmt --fail < messy = %d; want 2 and the formatted text", code)
	}
	if code, _, _ := flowcIn(t, tidy, "fmt", "--fail"); code != 0 {
		t.Errorf("flowc fmt --fail < tidy = %d; want 0", code)
	}
}

func TestFmtList(t *testing.T) {
	dir, _ := fmtDir(t, false)
	code, out, errs := flowcIn(t, "", "fmt", "-l", dir)
	want := filepath.Join(dir, "messy.flow") + "\n"
	if code != 0 || out != want || errs != "" {
		t.Fatalf("flowc fmt -l DIR = %d\nstdout: %q (want %q)\nstderr: %s", code, out, want, errs)
	}
	if readFile(t, filepath.Join(dir, "messy.flow")) != messy {
		t.Error("flowc fmt -l changed a file")
	}
}

func TestFmtDiff(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Skip("diff(1) not installed")
	}
	dir, _ := fmtDir(t, false)
	p := filepath.Join(dir, "messy.flow")
	code, out, errs := flowcIn(t, "", "fmt", "-d", dir)
	if code != 0 || errs != "" {
		t.Fatalf("flowc fmt -d = %d, stderr: %s", code, errs)
	}
	for _, want := range []string{
		"--- " + p + ".orig\n",
		"+++ " + p + "\n",
		"\n-when hours(\"9-5\")<reply \"open\">else   reply \"closed\"  # note\n",
		"\n+when hours(\"9-5\") <\n",
		"\n+> else reply \"closed\"  # note\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "clean.flow") {
		t.Errorf("diff mentions the formatted file:\n%s", out)
	}
	if readFile(t, p) != messy {
		t.Error("flowc fmt -d changed a file")
	}
}

func TestFmtWrite(t *testing.T) {
	dir, old := fmtDir(t, false)
	messyP, cleanP := filepath.Join(dir, "messy.flow"), filepath.Join(dir, "clean.flow")
	code, out, errs := flowcIn(t, "", "fmt", "-w", dir)
	if code != 0 || out != "" || errs != "" {
		t.Fatalf("flowc fmt -w = %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if got := readFile(t, messyP); got != tidy {
		t.Errorf("messy.flow after -w:\n%s\nwant:\n%s", got, tidy)
	}
	if mtime(t, messyP).Equal(old) {
		t.Error("messy.flow was not rewritten")
	}
	if st, _ := os.Stat(messyP); st.Mode().Perm() != 0o640 {
		t.Errorf("messy.flow mode = %v, want 0640 kept", st.Mode().Perm())
	}
	if got := readFile(t, cleanP); got != clean {
		t.Errorf("clean.flow changed:\n%s", got)
	}
	if !mtime(t, cleanP).Equal(old) {
		t.Error("clean.flow, already formatted, was rewritten")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".flowc-fmt-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	// Now everything is formatted: --fail passes, -l lists nothing.
	if code, out, _ := flowcIn(t, "", "fmt", "-l", "--fail", dir); code != 0 || out != "" {
		t.Errorf("after -w, fmt -l --fail = %d, %q; want 0 and nothing", code, out)
	}
}

func TestFmtFail(t *testing.T) {
	dir, _ := fmtDir(t, false)
	if code, out, _ := flowcIn(t, "", "fmt", "-l", "--fail", dir); code != 2 || !strings.Contains(out, "messy.flow") {
		t.Errorf("fmt -l --fail with an unformatted file = %d, %q; want 2 and its name", code, out)
	}
	if code, _, _ := flowcIn(t, "", "fmt", "--fail", filepath.Join(dir, "clean.flow")); code != 0 {
		t.Errorf("fmt --fail on a formatted file = %d; want 0", code)
	}
	if code, _, _ := flowcIn(t, "", "fmt", "--fail", filepath.Join(dir, "messy.flow")); code != 2 {
		t.Errorf("fmt --fail on an unformatted file = %d; want 2", code)
	}
	if code, _, _ := flowcIn(t, "", "fmt", "-l", filepath.Join(dir, "messy.flow")); code != 0 {
		t.Errorf("fmt -l without --fail = %d; want 0", code)
	}
}

func TestFmtSyntaxError(t *testing.T) {
	dir, old := fmtDir(t, true)
	brokenP := filepath.Join(dir, "broken.flow")
	code, _, errs := flowcIn(t, "", "fmt", "-w", dir)
	if code != 2 {
		t.Errorf("fmt -w with a broken file = %d; want 2", code)
	}
	if !strings.Contains(errs, "error[flow/parse]: unexpected \">\"") || !strings.Contains(errs, " --> "+brokenP+":3:14\n") {
		t.Errorf("stderr lacks the diagnostic:\n%s", errs)
	}
	if readFile(t, brokenP) != broken || !mtime(t, brokenP).Equal(old) {
		t.Error("the broken file was written")
	}
	if readFile(t, filepath.Join(dir, "messy.flow")) != tidy {
		t.Error("the other files were not formatted")
	}
	code, out, errs := flowcIn(t, broken, "fmt")
	if code != 2 || out != "" || !strings.Contains(errs, " --> <stdin>:3:14\n") {
		t.Errorf("fmt < broken = %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

func TestFmtMissingPath(t *testing.T) {
	if code, _, errs := flowcIn(t, "", "fmt", filepath.Join(t.TempDir(), "nope.flow")); code != 1 || errs == "" {
		t.Errorf("fmt on a missing path = %d, %q; want 1 and a message", code, errs)
	}
}

// TestFmtExamples: flowc fmt leaves every example as it is, and is
// idempotent on them (CI runs fmt -l --fail on examples/).
func TestFmtExamples(t *testing.T) {
	examples := filepath.Join("..", "..", "examples")
	code, out, errs := flowcIn(t, "", "fmt", "-l", "--fail", examples)
	if code != 0 || out != "" || errs != "" {
		t.Errorf("fmt -l --fail examples/ = %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	names, _ := filepath.Glob(filepath.Join(examples, "*.flow"))
	if len(names) == 0 {
		t.Fatal("no examples")
	}
	for _, n := range names {
		code, once, _ := flowcIn(t, "", "fmt", n)
		if code != 0 {
			t.Fatalf("fmt %s = %d", n, code)
		}
		if once != readFile(t, n) {
			t.Errorf("%s is not formatted", n)
		}
		if _, twice, _ := flowcIn(t, once, "fmt"); twice != once {
			t.Errorf("fmt is not idempotent on %s", n)
		}
	}
}
