// Package flowgraph draws a compiled flow as a graph: one node per step,
// an edge per way control goes on, and the flow's gaps (dead ends,
// missing branches) marked. `flowc graph` prints it as Graphviz DOT or
// Mermaid, and the console (server/console) renders the same DOT to SVG,
// so both show one drawing.
package flowgraph

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/vm"
)

// Kind is a node's shape.
type Kind int

// Node kinds.
const (
	Step    Kind = iota // reply, inbox, forward, tag, set, run, retry
	When                // a condition
	Wait                // a menu or ask
	Start               // the inbound message
	End                 // end of the conversation (explicit or handled)
	DeadEnd             // a path that stops without handling the message
	Missing             // a branch the flow does not have
)

// Node is one box of the drawing.
type Node struct {
	ID    string
	Kind  Kind
	Label string // lines separated by \n, each at most WrapWidth characters
	Line  int    // the source line, 0 for none
}

// Edge is one arrow.
type Edge struct {
	From, To string
	Label    string
	Dashed   bool // to a missing branch
}

// Graph is a flow drawn.
type Graph struct {
	Name  string
	Nodes []*Node
	Edges []Edge
	byID  map[string]*Node
}

// Node returns the node with that id, or nil.
func (g *Graph) Node(id string) *Node { return g.byID[id] }

// WrapWidth is the longest line of a node's label: longer text (a
// 100-character reply) is wrapped at spaces, so a node stays narrow.
const WrapWidth = 36

func (g *Graph) node(id string, kind Kind, label string, line int) {
	if _, ok := g.byID[id]; ok {
		return
	}
	n := &Node{ID: id, Kind: kind, Label: wrapLabel(label, WrapWidth), Line: line}
	g.byID[id] = n
	g.Nodes = append(g.Nodes, n)
}

// wrapLabel wraps each line of s at spaces to at most width characters
// (a word longer than width is cut).
func wrapLabel(s string, width int) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for utf8.RuneCountInString(line) > width {
			r := []rune(line)
			cut := -1
			for i := width; i > 0; i-- {
				if r[i] == ' ' {
					cut = i
					break
				}
			}
			if cut <= 0 {
				out = append(out, string(r[:width]))
				line = string(r[width:])
				continue
			}
			out = append(out, string(r[:cut]))
			line = string(r[cut+1:])
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// Build walks the program from pc 0, collapsing synthetic jumps and
// TEST+JUMP_FALSE pairs into one node per step.
func Build(p *vm.Program) *Graph {
	g := &Graph{Name: p.Name, byID: map[string]*Node{}}
	unhandled := unhandledAt(p)
	id := func(pc int) string { return fmt.Sprintf("n%d", pc) }

	start, silence := "inbound SMS\n", "dead end\nmessage not handled"
	if p.Channel == "voice" {
		start, silence = "inbound call\n", "dead end\ncaller left in silence"
	}
	g.node("start", Start, start+p.Name, 0)
	seen := map[int]bool{}
	var queue []int
	// target adds the node for pc (after jumps) and returns its id. An
	// edge into the end of the flow on a path that has not handled the
	// message goes to a dead-end node of its own instead.
	target := func(from, pc int, resume bool) string {
		pc = p.ResolveJumps(pc)
		if pc < 0 || pc >= len(p.Code) || p.Code[pc] == vm.OpHalt {
			fromHandles := from >= 0 && p.Code[from].Handles()
			if from >= 0 && (resume || (unhandled[from] && !fromHandles)) {
				d := fmt.Sprintf("dead%d", from)
				g.node(d, DeadEnd, silence, lineOf(p, from))
				return d
			}
			if from < 0 {
				d := "dead_start"
				g.node(d, DeadEnd, silence, 0)
				return d
			}
			g.node("done", End, "end", 0)
			return "done"
		}
		if !seen[pc] {
			seen[pc] = true
			queue = append(queue, pc)
		}
		return id(pc)
	}
	edge := func(from, to, label string) { g.Edges = append(g.Edges, Edge{From: from, To: to, Label: label}) }
	missing := func(pc int, what string) {
		m := fmt.Sprintf("miss%d_%s", pc, strings.ReplaceAll(what, " ", "_"))
		g.node(m, Missing, "missing "+what, lineOf(p, pc))
		g.Edges = append(g.Edges, Edge{From: id(pc), To: m, Label: what + "?", Dashed: true})
	}

	edge("start", target(-1, 0, false), "")
	// menuNode draws a menu or a voice menu (gather): its keys, its
	// timeout and its else, or what is missing of them.
	menuNode := func(pc int, m vm.Menu, name, keyPrefix string) {
		line := lineOf(p, pc)
		src := fmt.Sprintf("line %d", line)
		label := name
		if m.Prompt >= 0 {
			label += fmt.Sprintf(" %q", p.TemplateSource(m.Prompt))
		}
		g.node(id(pc), Wait, label+"\n"+src, line)
		for _, k := range m.Keys {
			edge(id(pc), target(pc, k.PC, true), keyPrefix+k.Key)
		}
		if m.TimeoutPC >= 0 {
			edge(id(pc), target(pc, m.TimeoutPC, true), "timeout "+vm.FormatDuration(m.Timeout))
		} else {
			missing(pc, "timeout")
		}
		if m.ElsePC >= 0 {
			edge(id(pc), target(pc, m.ElsePC, true), "else")
		} else {
			missing(pc, "else")
		}
	}
	for len(queue) > 0 {
		pc := queue[0]
		queue = queue[1:]
		op, arg := p.Code[pc], int(p.Args[pc])
		line := lineOf(p, pc)
		src := fmt.Sprintf("line %d", line)
		switch op {
		case vm.OpTest:
			if pc+1 < len(p.Code) && p.Code[pc+1] == vm.OpJumpFalse {
				jf := pc + 1
				g.node(id(pc), When, "when "+withHours(p, p.Exprs[arg].Source)+"\n"+src, line)
				falseTo := int(p.Args[jf])
				edge(id(pc), target(pc, jf+1, false), "true")
				// Without an else, false goes on to the next step (or
				// ends, a dead end when unhandled): nothing is missing.
				falseLabel := "false"
				if !whenHasElse(p, jf, falseTo) {
					falseLabel = "false (no else)"
				}
				edge(id(pc), target(pc, falseTo, false), falseLabel)
				continue
			}
			g.node(id(pc), Step, "test "+p.Exprs[arg].Source+"\n"+src, line)
			edge(id(pc), target(pc, pc+1, false), "")
		case vm.OpMenu:
			menuNode(pc, p.Menus[arg], "menu", "")
		case vm.OpGather:
			menuNode(pc, p.Menus[p.Gathers[arg].Menu], "gather", "press ")
		case vm.OpRing:
			g.node(id(pc), Wait, "ring "+p.Rings[arg].String()+"\n"+src, line)
			for _, o := range p.RingOutcomes(pc) {
				if o.Target < 0 { // answered, with no branch: the call is over when they hang up
					g.node("done", End, "end", 0)
					edge(id(pc), "done", "answered")
					continue
				}
				label := strings.TrimPrefix(o.Label, "on ")
				if o.Kind == vm.BranchNoAnswer && !p.Rings[arg].Written[2] {
					label = "no-answer / busy"
				}
				edge(id(pc), target(pc, o.Target, true), label)
			}
		case vm.OpVoicemail:
			g.node(id(pc), Wait, "voicemail "+p.Describe(pc)+"\n"+src, line)
			edge(id(pc), target(pc, pc+1, true), "recorded")
		case vm.OpHangup:
			g.node(id(pc), End, "hangup\n"+src, line)
		case vm.OpQueue:
			q := p.Queues[arg]
			g.node(id(pc), Wait, fmt.Sprintf("queue team:%s %s\n%s", q.Team, q.Strategy, src), line)
			for _, o := range p.QueueOutcomes(pc) {
				edge(id(pc), target(pc, o.Target, true), o.Label)
			}
			if !q.Written[1] {
				missing(pc, "on timeout")
			}
		case vm.OpAsk:
			a := p.Asks[arg]
			g.node(id(pc), Wait, fmt.Sprintf("ask %q\nas %s, %s", p.TemplateSource(a.Prompt), a.Var, src), line)
			edge(id(pc), target(pc, pc+1, true), "answer")
			if a.TimeoutPC >= 0 {
				edge(id(pc), target(pc, a.TimeoutPC, true), "timeout "+vm.FormatDuration(a.Timeout))
			} else {
				missing(pc, "timeout")
			}
		case vm.OpRun:
			g.node(id(pc), Step, "run "+p.StepLabel(pc)+"\n"+src, line)
			outs := p.RunOutcomes(pc)
			hasElse := false
			for _, o := range outs {
				label := o.Label
				if len(outs) == 1 {
					label = ""
				}
				edge(id(pc), target(pc, o.Target, false), label)
				hasElse = hasElse || o.Kind == vm.BranchElse
			}
			if len(p.Runs[arg].Routes) > 0 && !hasElse {
				missing(pc, "else")
			}
		case vm.OpRetry:
			r := p.Retries[arg]
			g.node(id(pc), Step, fmt.Sprintf("retry %d×\n%s", r.Times, src), line)
			edge(id(pc), target(pc, r.PC, false), "again")
			edge(id(pc), target(pc, pc+1, false), "no retries left")
		case vm.OpEnd:
			g.node(id(pc), End, "end\n"+src, line)
		case vm.OpInboxExpr, vm.OpForwardExpr:
			c := p.Computed[arg]
			verb := "inbox "
			if op == vm.OpForwardExpr {
				verb = "forward "
			}
			label := verb + c.String(p)
			if c.Strategy != "" {
				label += " by " + c.Strategy
			}
			g.node(id(pc), Step, label+"\n"+src, line)
			if c.ErrorPC < 0 {
				edge(id(pc), target(pc, pc+1, false), "")
				break
			}
			edge(id(pc), target(pc, pc+1, false), "ok")
			edge(id(pc), target(pc, c.ErrorPC, false), "on error")
		case vm.OpJumpFalse: // reached directly only without its TEST
			g.node(id(pc), When, "when (flag)\n"+src, line)
			edge(id(pc), target(pc, pc+1, false), "true")
			edge(id(pc), target(pc, arg, false), "false")
		default:
			g.node(id(pc), Step, strings.ToLower(op.String())+" "+p.StepLabel(pc)+"\n"+src, line)
			edge(id(pc), target(pc, pc+1, false), "")
		}
	}
	return g
}

// hoursCall is hours("NAME") in an expression's source.
var hoursCall = regexp.MustCompile(`hours\(\s*"([^"\\]*)"\s*\)`)

// withHours writes a named schedule's hours after its name
// (`hours("office" = mon-fri 09:00-17:00)`): the name alone does not say
// when the branch is taken. Inline specs (`hours("9-5")`) are left as
// written.
func withHours(p *vm.Program, src string) string {
	return hoursCall.ReplaceAllStringFunc(src, func(call string) string {
		name := hoursCall.FindStringSubmatch(call)[1]
		spec, ok := p.Schedules[name]
		if !ok {
			return call
		}
		return fmt.Sprintf("hours(%q = %s)", name, spec)
	})
}

func lineOf(p *vm.Program, pc int) int {
	if pc < 0 || pc >= len(p.Locs) {
		return 0
	}
	return p.Locs[pc].Line
}

// whenHasElse: the compiler ends a `when`'s true branch with a jump over
// the else branch, located at the when; without an else there is none.
func whenHasElse(p *vm.Program, jf, falseTo int) bool {
	j := falseTo - 1
	return j > jf && p.Code[j] == vm.OpJump && p.Locs[j] == p.Locs[jf]
}

// unhandledAt reports, per pc, whether some path can reach it without the
// current message having been replied to, delivered, forwarded or ended.
// Resuming after a menu or ask starts a new message.
func unhandledAt(p *vm.Program) []bool {
	n := len(p.Code)
	type state struct {
		pc      int
		handled bool
	}
	seen := map[state]bool{}
	out := make([]bool, n)
	stack := []state{{0, false}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s.pc < 0 || s.pc >= n || seen[s] {
			continue
		}
		seen[s] = true
		if !s.handled {
			out[s.pc] = true
		}
		next, resume := p.Successors(s.pc)
		h := s.handled || p.Code[s.pc].Handles()
		if resume {
			h = false
		}
		for _, t := range next {
			stack = append(stack, state{t, h})
		}
	}
	return out
}

// ---- Graphviz

func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// DotOptions adds what a page needs to the DOT text.
type DotOptions struct {
	// Link, when set, is the URL of a source line: each node with a line
	// links to it (an SVG <a>), and its tooltip says "line N".
	Link func(line int) string
}

// WriteDot writes the graph in Graphviz's DOT language. Nodes carry a
// class (step, when, wait, start, end, dead-end, missing) that Graphviz
// writes into SVG, so a page can style and find the marked ones.
func (g *Graph) WriteDot(w io.Writer, o DotOptions) {
	fmt.Fprintf(w, "digraph %s {\n", dotQuote("flow "+g.Name))
	fmt.Fprintln(w, `  rankdir=TB;`)
	fmt.Fprintln(w, `  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded"];`)
	fmt.Fprintln(w, `  edge [fontname="Helvetica", fontsize=10];`)
	for _, n := range g.Nodes {
		attrs := ""
		switch n.Kind {
		case When:
			attrs = `shape=diamond, style=""`
		case Wait:
			attrs = `shape=box, style="rounded,filled", fillcolor="#e8f0ff"`
		case Start:
			attrs = `shape=oval, style=filled, fillcolor="#e8ffe8"`
		case End:
			attrs = `shape=doublecircle, style=""`
		case DeadEnd:
			attrs = `shape=octagon, style=filled, color=red, fillcolor="#ffe0e0", fontcolor=red`
		case Missing:
			attrs = `shape=box, style=dashed, color=red, fontcolor=red`
		}
		if attrs != "" {
			attrs = ", " + attrs
		}
		if o.Link != nil {
			attrs += ", class=" + dotQuote(n.Kind.class())
			if n.Line > 0 {
				attrs += fmt.Sprintf(", URL=%s, tooltip=%s", dotQuote(o.Link(n.Line)), dotQuote(fmt.Sprintf("line %d", n.Line)))
			}
		}
		fmt.Fprintf(w, "  %s [label=%s%s];\n", n.ID, dotQuote(n.Label), attrs)
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Label != "" {
			attrs = append(attrs, "label="+dotQuote(e.Label))
		}
		if e.Dashed {
			attrs = append(attrs, "style=dashed", "color=red", "fontcolor=red")
		} else if to := g.byID[e.To]; to != nil && to.Kind == DeadEnd {
			attrs = append(attrs, "color=red")
		}
		a := ""
		if len(attrs) > 0 {
			a = " [" + strings.Join(attrs, ", ") + "]"
		}
		fmt.Fprintf(w, "  %s -> %s%s;\n", e.From, e.To, a)
	}
	fmt.Fprintln(w, "}")
}

// class is the kind's name in an SVG class attribute.
func (k Kind) class() string {
	return [...]string{"step", "when", "wait", "start", "end", "dead-end", "missing"}[k]
}

// ---- Mermaid

// mermaidText escapes a label for a quoted Mermaid string: entity codes
// for the characters Mermaid or its HTML labels would read, <br/> for
// newlines.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '#':
			b.WriteString("#35;")
		case '"':
			b.WriteString("#quot;")
		case '<':
			b.WriteString("#lt;")
		case '>':
			b.WriteString("#gt;")
		case '&':
			b.WriteString("#amp;")
		case '|':
			b.WriteString("#124;")
		case '`':
			b.WriteString("#96;")
		case '\n':
			b.WriteString("<br/>")
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WriteMermaid writes the graph as a Mermaid flowchart.
func (g *Graph) WriteMermaid(w io.Writer) {
	fmt.Fprintln(w, "flowchart TD")
	classes := map[string][]string{}
	for _, n := range g.Nodes {
		t := `"` + mermaidText(n.Label) + `"`
		var shape string
		switch n.Kind {
		case When:
			shape = "{" + t + "}"
		case Start:
			shape = "([" + t + "])"
		case End:
			shape = "((" + t + "))"
		case DeadEnd:
			shape = "{{" + t + "}}"
			classes["deadEnd"] = append(classes["deadEnd"], n.ID)
		case Missing:
			shape = "[" + t + "]"
			classes["missing"] = append(classes["missing"], n.ID)
		case Wait:
			shape = "[/" + t + "/]"
		default:
			shape = "(" + t + ")"
		}
		fmt.Fprintf(w, "    %s%s\n", n.ID, shape)
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Dashed {
			arrow = "-.->"
		}
		if e.Label != "" {
			fmt.Fprintf(w, "    %s %s|\"%s\"| %s\n", e.From, arrow, mermaidText(e.Label), e.To)
		} else {
			fmt.Fprintf(w, "    %s %s %s\n", e.From, arrow, e.To)
		}
	}
	fmt.Fprintln(w, "    classDef deadEnd fill:#ffe0e0,stroke:#d00,color:#d00")
	fmt.Fprintln(w, "    classDef missing fill:#fff,stroke:#d00,color:#d00,stroke-dasharray:5 5")
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		fmt.Fprintf(w, "    class %s %s\n", strings.Join(classes[c], ","), c)
	}
}
