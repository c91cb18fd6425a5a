package check_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/diag/diagtest"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// TestCheck parses and checks every testdata/*.flow file on its own, and
// the .flow files of every testdata subdirectory together as one set,
// and compares all diagnostics with the `###` expectations written in the
// files (see package diagtest).
func TestCheck(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		var names []string
		switch {
		case e.IsDir():
			names, _ = filepath.Glob(filepath.Join("testdata", e.Name(), "*.flow"))
		case filepath.Ext(e.Name()) == ".flow":
			names = []string{filepath.Join("testdata", e.Name())}
		}
		if len(names) == 0 {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			var exps []diagtest.Expect
			var diags diag.List
			var files []*syntax.File
			for _, name := range names {
				b, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				src := file.NewSource(name, string(b))
				e, err := diagtest.Parse(src)
				if err != nil {
					t.Fatal(err)
				}
				exps = append(exps, e...)
				f, d := syntax.Parse(src)
				diags = append(diags, d...)
				files = append(files, f)
			}
			_, d := check.Files(files)
			diags = append(diags, d...)
			// A subdirectory with a directory.json is checked against it.
			if e.IsDir() {
				dir, err := directory.Load(filepath.Join("testdata", e.Name(), directory.FileName))
				switch {
				case err == nil:
					diags = append(diags, check.Directory(files, dir)...)
				case !errors.Is(err, fs.ErrNotExist):
					t.Fatal(err)
				}
			}
			diagtest.Compare(t, exps, diags)
		})
	}
	if n == 0 {
		t.Fatal("no test files")
	}
}

// TestCardLineChecksClean: issue #2's card line, given a number to
// serve, has nothing to report.
func TestCardLineChecksClean(t *testing.T) {
	const text = "numbers \"+15550100\"\n" +
		`when hours("9-5") < menu "Reply 1 or 2" < 1 -> inbox team:sales ; 2 -> inbox team:support ; timeout 10m -> inbox team:sales ; else -> retry 2 > > else reply "We're closed." then inbox team:sales` + "\n"
	f, diags := syntax.ParseString("card.flow", text)
	_, d := check.Files([]*syntax.File{f})
	diags = append(diags, d...)
	if len(diags) != 0 {
		t.Errorf("diagnostics:\n%v", diag.ListError(diags))
	}
}

// TestThreeErrors: the contract of issue #2, spelled out. A file with
// three independent mistakes yields exactly three diagnostics, each at
// its line and column, the expr error at the column of the .flow file.
func TestThreeErrors(t *testing.T) {
	name := filepath.Join("testdata", "three_errors.flow")
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := syntax.Parse(file.NewSource(name, string(b)))
	_, d := check.Files([]*syntax.File{f})
	diags = append(diags, d...)
	diags.Sort()
	want := []string{
		"7:10 flow/timezone",
		"12:13 flow/applet",
		"15:31 flow/expr",
	}
	var got []string
	for _, d := range diags {
		p := d.Span.StartPos()
		got = append(got, fmt.Sprintf("%d:%d %s", p.Line, p.Column, d.Code))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRegistryExamples: the example of every applet in the registry
// (which docs/language.md shows) checks clean.
func TestRegistryExamples(t *testing.T) {
	for _, a := range registry.All() {
		text := "numbers \"+15550100\"\napplet lookup = \"lookup.js\"\n" + a.Example + "\nsection support < inbox team:support >\n"
		if a.Channel == registry.Voice {
			text = "channel voice\n" + text
		}
		f, diags := syntax.ParseString(filepath.Join("testdata", "example-"+a.Name+".flow"), text)
		_, d := check.Files([]*syntax.File{f})
		diags = append(diags, d...)
		if len(diags) != 0 {
			t.Errorf("example of %s:\n%s\n%v", a.Name, a.Example, diag.ListError(diags))
		}
	}
}

// TestNotFlowTextIsOneDiagnostic: a JSON export or a Latin-1 file is the
// one error the parser reports; the checker adds nothing (no "serves no
// numbers" for a file that is not a flow at all).
func TestNotFlowTextIsOneDiagnostic(t *testing.T) {
	for name, text := range map[string]string{
		"export.flow": `{"flow": "x", "steps": [{"type": "reply", "text": "hi"}]}`,
		"latin1.flow": "flow latin1\nnumbers \"+15550100\"\nreply \"caf\xe9\"\n",
	} {
		f, diags := syntax.Parse(file.NewSource(name, text))
		_, more := check.Files([]*syntax.File{f})
		diags = append(diags, more...)
		if len(diags) != 1 || diags[0].Code != "flow/encoding" {
			t.Errorf("%s: want the one flow/encoding error, got %v", name, diags)
		}
	}
}
