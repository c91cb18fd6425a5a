package check_test

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
)

func TestAppletPathProblem(t *testing.T) {
	for p, want := range map[string]string{
		"lookup.js":         "",
		"applets/lookup.js": "",
		"":                  "empty",
		"/etc/passwd":       "absolute",
		"/dev/zero":         "absolute",
		"../x.js":           "leaves",
		"a/../../x.js":      "leaves",
		"a/..":              "leaves",
		"..":                "leaves",
		"./x.js":            `write "x.js"`,
		"a//x.js":           `write "a/x.js"`,
		"a/./x.js":          `write "a/x.js"`,
		"x.js/":             `write "x.js"`,
		".":                 "does not name a file",
		`..\x.js`:           "backslash",
		`C:\x.js`:           "backslash",
		"x\n.js":            "control",
		"x\x00.js":          "control",
	} {
		got := check.AppletPathProblem(p)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("AppletPathProblem(%q) = %q, want one containing %q", p, got, want)
		}
	}
}

// TestAppletFilesOnDisk: in a flow's directory on disk, a FIFO (which
// would block an open), a device, a directory, a symbolic link out of
// the directory and a file over the limit are refused, from their
// metadata alone.
func TestAppletFilesOnDisk(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.js"), []byte("function main() { return 1 }"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret.js"), []byte("SECRET"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.js"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(outside, "secret.js"), filepath.Join(dir, "out.js"))
	os.Symlink("/dev/zero", filepath.Join(dir, "zero.js"))
	os.Symlink("ok.js", filepath.Join(dir, "in.js")) // inside: fine
	os.Mkdir(filepath.Join(dir, "d.js"), 0o755)
	big, _ := os.Create(filepath.Join(dir, "big.js"))
	big.Truncate(1 << 30) // sparse: a GiB that is never read
	big.Close()
	fsys := file.OSDir(dir)
	for name, want := range map[string]string{
		"ok.js":   "",
		"in.js":   "",
		"fifo.js": "not a regular file",
		"d.js":    "not a regular file",
		"out.js":  "cannot be read",
		"zero.js": "cannot be read",
		"big.js":  "over the 256 KiB limit",
		"none.js": "no such file",
	} {
		done := make(chan struct{})
		var b []byte
		var err error
		go func() { defer close(done); b, err = check.ReadApplet(fsys, name) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("ReadApplet(%s) blocked", name)
		}
		switch {
		case want == "" && (err != nil || len(b) == 0):
			t.Errorf("%s: %q %v", name, b, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one containing %q", name, err, want)
		case err != nil && (strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), outside)):
			t.Errorf("%s: the error names a directory: %v", name, err)
		}
	}
}

// lyingFS reports a small size for a file that is in fact endless.
type lyingFS struct{ fstest.MapFS }

type endless struct{ fs.File }

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func (l lyingFS) Open(name string) (fs.File, error) {
	f, err := l.MapFS.Open(name)
	return endless{f}, err
}

// TestReadAppletStopsAtTheLimit: the size check does not trust the
// metadata alone; reading stops at the limit.
func TestReadAppletStopsAtTheLimit(t *testing.T) {
	fsys := lyingFS{fstest.MapFS{"a.js": {Data: []byte("x")}}}
	_, err := check.ReadApplet(fsys, "a.js")
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("ReadApplet of an endless file: %v", err)
	}
	var _ io.Reader = endless{}
}

// TestAppletPathFix: a misspelt applet file gets the fix that names the
// file meant, found in the flow's own files (here a deploy bundle), and
// the fixed flow checks clean.
func TestAppletPathFix(t *testing.T) {
	bundle := fstest.MapFS{"applets/lookup.js": {Data: []byte("function main() { return 1 }")}}
	text := "flow f\nnumbers \"+15550100\"\napplet lookup = \"applets/lokup.js\"\nrun lookup(body)\n"
	check1 := func(text string) diag.List {
		src := file.NewSource("f.flow", text)
		src.Dir = bundle
		f, d := syntax.Parse(src)
		_, cd := check.File(f)
		return append(d, cd...)
	}
	d := check1(text)
	if len(d) != 1 || len(d[0].Fixes) != 1 || len(d[0].Fixes[0].Edits) != 1 {
		t.Fatalf("want one diagnostic with one fix, got %v", d)
	}
	e := d[0].Fixes[0].Edits[0]
	fixed := text[:e.Span.Start] + e.New + text[e.Span.End:]
	if !strings.Contains(fixed, `"applets/lookup.js"`) {
		t.Fatalf("fixed text:\n%s", fixed)
	}
	if d := check1(fixed); len(d) != 0 {
		t.Errorf("after the fix: %v", d)
	}
}
