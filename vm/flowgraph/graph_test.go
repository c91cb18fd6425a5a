package flowgraph

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/vm"
)

// compile compiles one flow file (beside the others in its folder).
func compile(t *testing.T, path string) *vm.Program {
	t.Helper()
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() || len(progs) != 1 {
		t.Fatalf("%s: %v %v (%d programs)", path, res.Diags, cd, len(progs))
	}
	return progs[0]
}

func compileSource(t *testing.T, src string) *vm.Program {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.flow")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return compile(t, path)
}

func labels(g *Graph) string {
	var b strings.Builder
	for _, n := range g.Nodes {
		b.WriteString(n.ID + ": " + n.Label + "\n")
	}
	for _, e := range g.Edges {
		b.WriteString(e.From + " -> " + e.To + " [" + e.Label + "]\n")
	}
	return b.String()
}

// TestNoBytecodeAddressInLabels: a run's label was the disassembler's,
// with the addresses of its branches (`on error 0002`); the edges say
// where it goes.
func TestNoBytecodeAddressInLabels(t *testing.T) {
	for _, f := range []string{"concierge.flow", "triage.flow", "crm-lookup.flow"} {
		g := Build(compile(t, filepath.Join("..", "..", "examples", f)))
		for _, n := range g.Nodes {
			if strings.Contains(n.Label, "on error") || strings.Contains(n.Label, "→") || strings.Contains(n.Label, "00") && !strings.Contains(n.Label, ":00") {
				t.Errorf("%s: node %s shows an address: %q", f, n.ID, n.Label)
			}
		}
	}
	g := Build(compile(t, filepath.Join("..", "..", "examples", "concierge.flow")))
	if !strings.Contains(labels(g), "run lookup(body) as size\nline 10") {
		t.Errorf("concierge's run node:\n%s", labels(g))
	}
}

// TestLongReplyWraps: a 100-character reply is wrapped at spaces into
// lines of at most WrapWidth characters, the words all kept.
func TestLongReplyWraps(t *testing.T) {
	long := "Thanks for your message. Our office is closed today; we open again at nine tomorrow, see you then!"
	g := Build(compileSource(t, "flow long\nnumbers \"+15550900\"\ntimezone \"UTC\"\nreply \""+long+"\" then end\n"))
	var reply *Node
	for _, n := range g.Nodes {
		if strings.HasPrefix(n.Label, "reply") {
			reply = n
		}
	}
	if reply == nil {
		t.Fatalf("no reply node:\n%s", labels(g))
	}
	lines := strings.Split(reply.Label, "\n")
	if len(lines) < 3 {
		t.Errorf("a %d-character reply is not wrapped: %q", len(long), reply.Label)
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > WrapWidth {
			t.Errorf("line of %d characters (> %d): %q", utf8.RuneCountInString(l), WrapWidth, l)
		}
	}
	if got := strings.Join(strings.Fields(reply.Label), " "); !strings.Contains(got, strings.Join(strings.Fields(long), " ")) {
		t.Errorf("words lost: %q", got)
	}
	if w := wrapLabel(strings.Repeat("x", 80), 36); w != strings.Repeat("x", 36)+"\n"+strings.Repeat("x", 36)+"\n"+strings.Repeat("x", 8) {
		t.Errorf("a long word is cut at the width: %q", w)
	}
}

// TestHoursShowsTheSchedule: hours("office") draws the schedule's hours,
// not only its name.
func TestHoursShowsTheSchedule(t *testing.T) {
	g := Build(compile(t, filepath.Join("..", "..", "examples", "after-hours.flow")))
	l := labels(g)
	if !strings.Contains(strings.Join(strings.Fields(l), " "), `when hours("office" = mon-fri 09:00-17:30, sat 10:00-14:00)`) {
		t.Errorf("the when does not show the office's hours:\n%s", l)
	}
	// An inline spec is drawn as written.
	g = Build(compile(t, filepath.Join("..", "..", "examples", "sales.flow")))
	if !strings.Contains(labels(g), `when hours("9-5")`) {
		t.Errorf("sales:\n%s", labels(g))
	}
}

// TestWhenWithoutElseGoesOn: a `when` without an else goes on to the
// next step when false; it was drawn both as "false → next" and as
// "else? → missing else".
func TestWhenWithoutElseGoesOn(t *testing.T) {
	g := Build(compileSource(t, `flow w
numbers "+15550900"
timezone "UTC"
when (keyword == "stop") <
  tag "stop"
>
menu "pick" <
  1 -> reply "one"
  else -> reply "again"
  timeout 1h -> end
>
`))
	l := labels(g)
	if strings.Contains(l, "missing else") || strings.Contains(l, "else?") {
		t.Errorf("a when without else is drawn with a missing else:\n%s", l)
	}
	var falseTo string
	for _, e := range g.Edges {
		if e.From == "n0" && strings.HasPrefix(e.Label, "false") {
			falseTo = e.To
		}
	}
	if n := g.Node(falseTo); n == nil || !strings.HasPrefix(n.Label, "menu") {
		t.Errorf("the when's false edge does not go to the menu:\n%s", l)
	}
}

// TestDotLinksNodesToLines: with DotOptions.Link, each node with a line
// links to it and carries its kind as a class.
func TestDotLinksNodesToLines(t *testing.T) {
	g := Build(compileSource(t, "flow d\nnumbers \"+15550900\"\ntimezone \"UTC\"\nwhen (keyword == \"x\") <\n  tag \"x\"\n>\n"))
	var b strings.Builder
	g.WriteDot(&b, DotOptions{Link: func(line int) string { return "#L" + string(rune('0'+line)) }})
	out := b.String()
	for _, want := range []string{`class="when", URL="#L4", tooltip="line 4"`, `class="dead-end"`} {
		if !strings.Contains(out, want) {
			t.Errorf("dot lacks %s:\n%s", want, out)
		}
	}
	b.Reset()
	g.WriteDot(&b, DotOptions{})
	if strings.Contains(b.String(), "URL=") || strings.Contains(b.String(), "class=") {
		t.Errorf("plain dot has links:\n%s", b.String())
	}
}
