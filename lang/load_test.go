package lang_test

import (
	"io"
	"strings"
	"testing"
	"testing/fstest"
	"time"

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

func fastest(runs int, f func()) time.Duration {
	best := time.Duration(1<<63 - 1)
	for i := 0; i < runs; i++ {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// TestOneLongLineIsLinear: 16 times the placeholders on one line cost
// about 16 times as much, not 256 times (every position and every
// diagnostic's snippet used to rescan the line), with and without an
// error at each placeholder.
func TestOneLongLineIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	for _, part := range []string{"{{body}}", "{{nope}}"} {
		small, large := oneLine(part, 1000), oneLine(part, 16000)
		if d := checkCompileReport(large); (part == "{{nope}}") != (len(d) == 16000) {
			t.Fatalf("%s: %d diagnostics", part, len(d))
		}
		ts := fastest(2, func() { checkCompileReport(small) })
		tl := fastest(2, func() { checkCompileReport(large) })
		ratio := float64(tl) / float64(ts)
		t.Logf("%s: 1k %v, 16k %v: %.1f×", part, ts, tl, ratio)
		// Linear is 16 (18 measured: the larger run spends more in the
		// garbage collector); quadratic is 256. 40 leaves room for a
		// loaded machine.
		if ratio > 40 {
			t.Errorf("%s: 16k placeholders on one line take %.0f× as long as 1k (%v vs %v)", part, ratio, tl, ts)
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
