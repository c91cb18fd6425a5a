package lang_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// oneLine is a flow whose reply is n copies of part on a single line,
// after a non-ASCII rune (so columns count runes, the slower path).
func oneLine(part string, n int) *file.Source {
	return file.NewSource("long.flow", "numbers \"+15550100\"\nreply \"é"+strings.Repeat(part, n)+"\"\n")
}

// checkCompileReport is what `flowc check` does with a source: parse,
// check, compile, print every diagnostic with its snippet.
func checkCompileReport(src *file.Source) diag.List {
	res := lang.CheckSources([]*file.Source{src})
	_, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	all.Sort()
	diag.WriteText(io.Discard, all, true)
	return all
}

// TestOneLongLineDiagnostics: 16,000 placeholders on one line check
// clean, or give one diagnostic each when every one is wrong. How the
// cost grows with the line's length is measured by BenchmarkOneLongLine
// (docs/benchmarks.md): a ratio of times is a benchmark's job, not a
// unit test's on a shared machine.
func TestOneLongLineDiagnostics(t *testing.T) {
	for _, part := range []string{"{{body}}", "{{nope}}"} {
		if d := checkCompileReport(oneLine(part, 16000)); (part == "{{nope}}") != (len(d) == 16000) {
			t.Fatalf("%s: %d diagnostics", part, len(d))
		}
	}
}

// BenchmarkOneLongLine: 16 times the placeholders on one line should cost
// about 16 times as much, not 256 times (every position and every
// diagnostic's snippet used to rescan the line), with and without an
// error at every placeholder. Compare the 1k and 16k figures.
func BenchmarkOneLongLine(b *testing.B) {
	for _, part := range []string{"{{body}}", "{{nope}}"} {
		for _, n := range []int{1000, 16000} {
			src := oneLine(part, n)
			b.Run(fmt.Sprintf("%s/%d", strings.Trim(part, "{}"), n), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					checkCompileReport(src)
				}
			})
		}
	}
}

// TestLoadFSReadsAppletsFromTheFlowsDirectory: in a file system, each
// flow's applets are looked up in its own directory of it, and a flow
// cannot reach a sibling directory's files.
func TestLoadFSReadsAppletsFromTheFlowsDirectory(t *testing.T) {
	fsys := fstest.MapFS{
		"shop/f.flow":    {Data: []byte("numbers \"+15550100\"\napplet a = \"js/a.js\"\nrun a(body) as x <\n  on error -> end\n>\nreply \"{{x}}\"\n")},
		"shop/js/a.js":   {Data: []byte("function main(input) { return 1 }")},
		"other/g.flow":   {Data: []byte("numbers \"+15550101\"\napplet b = \"js/a.js\"\nreply \"x\"\n")},
		"other/notes.md": {Data: []byte("not a flow")},
	}
	res, err := lang.LoadFS(fsys, []string{"."})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 || res.Files[0].Source.Name != "other/g.flow" || res.Files[1].Source.Name != "shop/f.flow" {
		t.Fatalf("files: %d", len(res.Files))
	}
	if len(res.Diags) != 1 || res.Diags[0].Span.String() != "other/g.flow:2:12" || !strings.Contains(res.Diags[0].Message, "applet file js/a.js: no such file") {
		t.Fatalf("diagnostics: %v", res.Diags)
	}
	if a := res.Infos[1].Applets["a"]; a.File != "js/a.js" || a.Path != "shop/js/a.js" {
		t.Fatalf("applet a: %+v", a)
	}
	progs, cd := compiler.All(res)
	if cd.HasErrors() || len(progs) != 1 || string(progs[0].Applets[0].Source) != "function main(input) { return 1 }" {
		t.Fatalf("compile: %v %d", cd, len(progs))
	}
}
