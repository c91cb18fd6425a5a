package compiler

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
)

// manyMenus is a flow of n sections, each a menu whose keys goto other
// sections (so that a forward search from a branch runs through the
// whole program), followed by steps of its own. In every third section
// one key goes on to those steps (a fall-through note); in every third
// other, two do (no note).
func manyMenus(n int) (text string, notes int) {
	var b strings.Builder
	b.WriteString("flow many\nnumbers \"+15550100\"\ntimezone \"UTC\"\n\ngoto s0\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\nsection s%d <\n  menu \"Reply 1, 2 or 3\" <\n    1 -> goto s%d\n    2 -> goto s%d\n", i, (i+1)%n, (i+7)%n)
		switch i % 3 {
		case 0:
			b.WriteString("    3 -> reply \"Three.\"\n")
			notes++
		case 1:
			b.WriteString("    3 -> reply \"Three.\"\n    4 -> reply \"Four.\"\n")
		}
		b.WriteString("    timeout 1h -> end\n    else -> reply \"Please reply 1, 2 or 3.\" then retry 2 then end\n  >\n")
		fmt.Fprintf(&b, "  reply \"Thanks from section %d.\"\n  inbox team:sales\n>\n", i)
	}
	return b.String(), notes
}

func compileText(t *testing.T, name, text string) (*vm.Program, diag.List) {
	t.Helper()
	res := lang.CheckSources([]*file.Source{file.NewSource(name, text)})
	if res.Diags.HasErrors() {
		t.Fatalf("%s: %v", name, res.Diags.Err())
	}
	p, d := Compile(res.Files[0], res.Infos[0])
	if p == nil || d.HasErrors() {
		t.Fatalf("%s does not compile: %v", name, d.Err())
	}
	return p, d
}

// TestFallThroughIsLinear: in a flow of many menus whose branches goto
// sections, each menu gets its note (or not) as a small one does, and the
// searches visit no more steps than the program has, where a search from
// each branch would visit the program once per branch.
func TestFallThroughIsLinear(t *testing.T) {
	const sections = 300
	text, want := manyMenus(sections)
	before := fallSteps.Load()
	p, d := compileText(t, "many.flow", text)
	steps := fallSteps.Load() - before
	got := 0
	for _, x := range d {
		if x.Code == CodeFallThrough {
			got++
			if !strings.Contains(x.Message, "goes on to the steps after the menu") {
				t.Errorf("note: %s", x.Message)
			}
		}
	}
	if got != want {
		t.Errorf("%d fall-through notes, want %d (one per section with a single key going on)", got, want)
	}
	t.Logf("%d steps visited, %d in the program", steps, len(p.Code))
	if steps <= 0 || steps > int64(len(p.Code)) {
		t.Errorf("the fall-through searches visited %d steps; the program has %d (a search per branch would visit about %d)",
			steps, len(p.Code), 3*sections*len(p.Code)/2)
	}
}

// forwardReaches is the search fallThroughs made before backReach, from
// one step at a time: the reference backReach must agree with.
func forwardReaches(p *vm.Program, pc, target, stop int) bool {
	seen := map[int]bool{}
	stack := []int{pc}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cur == target {
			return true
		}
		if cur < 0 || cur >= len(p.Code) || cur == stop || seen[cur] {
			continue
		}
		seen[cur] = true
		next, _ := p.Successors(cur)
		stack = append(stack, next...)
	}
	return false
}

// TestBackReachAgreesWithForwardSearch compares the two on the compiled
// test scripts and a generated flow, for targets across each program and
// every menu, ask and retry as the stop (and no stop), at every step.
func TestBackReachAgreesWithForwardSearch(t *testing.T) {
	type prog struct {
		name string
		p    *vm.Program
	}
	var progs []prog
	files, _ := filepath.Glob("testdata/*.flow")
	for _, name := range files {
		res, err := lang.Load([]string{name})
		if err != nil || res.Diags.HasErrors() {
			continue
		}
		if p, d := Compile(res.Files[0], res.Infos[0]); p != nil && !d.HasErrors() {
			progs = append(progs, prog{name, p})
		}
	}
	text, _ := manyMenus(12)
	p, _ := compileText(t, "many.flow", text)
	progs = append(progs, prog{"many.flow", p})
	if len(progs) < 3 {
		t.Fatalf("only %d programs to compare on", len(progs))
	}
	compared := 0
	for _, pr := range progs {
		p := pr.p
		n := len(p.Code)
		stops := []int{-1}
		for pc, op := range p.Code {
			if op == vm.OpMenu || op == vm.OpAsk || op == vm.OpRetry {
				stops = append(stops, pc)
			}
		}
		r := newBackReach(p)
		for target := 0; target < n; target += 1 + n/25 {
			for _, stop := range append(stops, target) {
				r.from(target, stop)
				for pc := 0; pc < n; pc++ {
					if got, want := r.marked(pc), forwardReaches(p, pc, target, stop); got != want {
						t.Fatalf("%s: from %d to %d avoiding %d: backReach says %v, a forward search %v", pr.name, pc, target, stop, got, want)
					}
					compared++
				}
			}
		}
	}
	t.Logf("%d programs, %d comparisons", len(progs), compared)
}

// TestCachedCompilesGiveTheSameDiagnostics: with the compiled-expression
// cache on (as flowc lsp runs), compiling each test script twice, the
// second time from the cache, reports exactly what a compile without it
// does.
func TestCachedCompilesGiveTheSameDiagnostics(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.flow")
	text, _ := manyMenus(20)
	srcs := []*file.Source{file.NewSource("many.flow", text)}
	for _, name := range files {
		res, err := lang.Load([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, res.Files[0].Source)
	}
	var compiled []*runtime.Compiled // of the last compileAll
	compileAll := func() []string {
		var out []string
		compiled = nil
		for _, src := range srcs {
			res := lang.CheckSources([]*file.Source{file.NewSource(src.Name, src.Text)})
			progs, d := All(res)
			for _, p := range progs {
				for i := range p.Exprs {
					compiled = append(compiled, p.Exprs[i].Compiled())
				}
			}
			for _, x := range append(res.Diags, d...) {
				out = append(out, fmt.Sprintf("%s %s %s %s %+v", x.Span, x.Code, x.Message, x.Hint, x.Fixes))
			}
		}
		return out
	}
	want := compileAll()
	defer runtime.CacheCompiled(runtime.CacheCompiled(1000))
	var filled []*runtime.Compiled
	for i, pass := range []string{"filling the cache", "from the cache"} {
		got := compileAll()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("pass %d (%s): the diagnostics differ:\n%s\nwithout the cache:\n%s", i, pass, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if i == 0 {
			filled = compiled
		}
	}
	// The second pass did come from the cache: the same compiled values.
	if len(compiled) == 0 || len(compiled) != len(filled) {
		t.Fatalf("%d then %d compiled expressions", len(filled), len(compiled))
	}
	for i := range compiled {
		if compiled[i] != filled[i] {
			t.Fatalf("expression %d (%s) was compiled again", i, compiled[i].Source)
		}
	}
	t.Logf("%d diagnostics, %d expressions", len(want), len(compiled))
	if len(want) < 20 {
		t.Fatalf("only %d diagnostics to compare", len(want))
	}
}
