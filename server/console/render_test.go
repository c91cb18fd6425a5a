package console

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/flowgraph"
)

func example(tb testing.TB, name string) *vm.Program {
	tb.Helper()
	res, err := lang.Load([]string{filepath.Join("..", "..", "examples", name)})
	if err != nil {
		tb.Fatal(err)
	}
	progs, _ := compiler.All(res)
	if len(progs) != 1 {
		tb.Fatalf("%s: %d programs", name, len(progs))
	}
	return progs[0]
}

// TestSVGOfEveryExample: Graphviz (WebAssembly) draws every example; the
// SVG is inline (no XML prolog), each node with a line links to it, and
// a drawing is kept per version.
func TestSVGOfEveryExample(t *testing.T) {
	rd := newRenderer()
	names, _ := filepath.Glob("../../examples/*.flow")
	for i, n := range names {
		p := example(t, filepath.Base(n))
		t0 := time.Now()
		svg, err := rd.svg(context.Background(), p.Version, flowgraph.Build(p))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if i == 0 {
			t.Logf("first drawing (Graphviz starts): %v", time.Since(t0))
		}
		s := string(svg)
		if !strings.HasPrefix(s, `<svg role="img"`) || !strings.Contains(s, `xlink:href="#L`) || strings.Contains(s, "<?xml") {
			t.Errorf("%s: svg starts %q", n, s[:min(len(s), 80)])
		}
		again, _ := rd.svg(context.Background(), p.Version, nil) // from the cache: no graph needed
		if again != svg {
			t.Errorf("%s: not cached", n)
		}
	}
}

func BenchmarkSVG(b *testing.B) {
	rd := newRenderer()
	g := flowgraph.Build(example(b, "sales.flow"))
	for b.Loop() {
		if _, err := rd.svg(context.Background(), "", g); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLineDiff: added and removed lines, numbered on their side.
func TestLineDiff(t *testing.T) {
	d, ok := lineDiff("a\nb\nc\n", "a\nc\nd\n")
	var got []string
	for _, l := range d {
		got = append(got, l.Op+":"+l.Text)
	}
	if !ok || strings.Join(got, " ") != "same:a del:b same:c add:d" {
		t.Errorf("diff %v", got)
	}
	if d[1].A != 2 || d[1].B != 0 || d[3].A != 0 || d[3].B != 3 {
		t.Errorf("line numbers %+v", d)
	}
	if _, ok := lineDiff(strings.Repeat("x\n", 3000), strings.Repeat("y\n", 3000)); ok {
		t.Error("9M cells compared")
	}
}

// TestHighlightLines: the listing keeps every line, empty ones too, and
// the text is unchanged.
func TestHighlightLines(t *testing.T) {
	src := "flow a\n\n# note\nreply \"x\nstill\" then end\n"
	lines := highlight(src)
	var b strings.Builder
	for i, l := range lines {
		if l.N != i+1 {
			t.Errorf("line %d numbered %d", i+1, l.N)
		}
		for _, p := range l.Parts {
			b.WriteString(p.Text)
		}
		b.WriteString("\n")
	}
	if b.String() != src {
		t.Errorf("text changed:\n%q\n%q", b.String(), src)
	}
}
