package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/flowc-dev/flowc/vm"
)

func init() {
	register(command{name: "graph", summary: "draw the flow as a graph (Graphviz DOT or Mermaid), marking dead ends and missing branches", run: runGraph})
}

func runGraph(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("graph", "flowc graph FILE [--format dot|mermaid]", stderr)
	format := fs.String("format", "dot", "output format: dot (Graphviz) or mermaid")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if err := oneOf("format", *format, "dot", "mermaid"); err != nil {
		fmt.Fprintln(stderr, "flowc graph:", err)
		return exitUsage
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	prog, code := compileOne(paths[0], stderr)
	if prog == nil {
		return code
	}
	g := buildGraph(prog)
	if *format == "mermaid" {
		g.writeMermaid(stdout)
	} else {
		g.writeDot(stdout)
	}
	return exitOK
}

// Node shapes.
type nodeKind int

const (
	nodeStep    nodeKind = iota // reply, inbox, forward, tag, set, run, retry
	nodeWhen                    // a condition
	nodeWait                    // a menu or ask
	nodeStart                   // the inbound message
	nodeEnd                     // end of the conversation (explicit or handled)
	nodeDeadEnd                 // a path that stops without handling the message
	nodeMissing                 // a branch the flow does not have
)

type gnode struct {
	id    string
	kind  nodeKind
	label string
	line  int
}

type gedge struct {
	from, to string
	label    string
	dashed   bool
}

type flowGraph struct {
	name  string
	nodes []*gnode
	edges []gedge
	byID  map[string]*gnode
}

func (g *flowGraph) node(id string, kind nodeKind, label string, line int) {
	if _, ok := g.byID[id]; ok {
		return
	}
	n := &gnode{id: id, kind: kind, label: label, line: line}
	g.byID[id] = n
	g.nodes = append(g.nodes, n)
}

// buildGraph walks the program from pc 0, collapsing synthetic jumps and
// TEST+JUMP_FALSE pairs into one node per step.
func buildGraph(p *vm.Program) *flowGraph {
	g := &flowGraph{name: p.Name, byID: map[string]*gnode{}}
	unhandled := unhandledAt(p)
	id := func(pc int) string { return fmt.Sprintf("n%d", pc) }

	start, silence := "inbound SMS\n", "dead end\nmessage not handled"
	if p.Channel == "voice" {
		start, silence = "inbound call\n", "dead end\ncaller left in silence"
	}
	g.node("start", nodeStart, start+p.Name, 0)
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
				g.node(d, nodeDeadEnd, silence, lineOf(p, from))
				return d
			}
			if from < 0 {
				d := "dead_start"
				g.node(d, nodeDeadEnd, silence, 0)
				return d
			}
			g.node("done", nodeEnd, "end", 0)
			return "done"
		}
		if !seen[pc] {
			seen[pc] = true
			queue = append(queue, pc)
		}
		return id(pc)
	}
	edge := func(from, to, label string) { g.edges = append(g.edges, gedge{from: from, to: to, label: label}) }
	missing := func(pc int, what string) {
		m := fmt.Sprintf("miss%d_%s", pc, strings.ReplaceAll(what, " ", "_"))
		g.node(m, nodeMissing, "missing "+what, lineOf(p, pc))
		g.edges = append(g.edges, gedge{from: id(pc), to: m, label: what + "?", dashed: true})
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
		g.node(id(pc), nodeWait, label+"\n"+src, line)
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
				g.node(id(pc), nodeWhen, "when "+p.Exprs[arg].Source+"\n"+src, line)
				falseTo := int(p.Args[jf])
				edge(id(pc), target(pc, jf+1, false), "true")
				edge(id(pc), target(pc, falseTo, false), "false")
				if !whenHasElse(p, jf, falseTo) {
					missing(pc, "else")
				}
				continue
			}
			g.node(id(pc), nodeStep, "test "+p.Exprs[arg].Source+"\n"+src, line)
			edge(id(pc), target(pc, pc+1, false), "")
		case vm.OpMenu:
			menuNode(pc, p.Menus[arg], "menu", "")
		case vm.OpGather:
			menuNode(pc, p.Menus[p.Gathers[arg].Menu], "gather", "press ")
		case vm.OpRing:
			g.node(id(pc), nodeWait, "ring "+p.Rings[arg].String()+"\n"+src, line)
			for _, o := range p.RingOutcomes(pc) {
				if o.Target < 0 { // answered, with no branch: the call is over when they hang up
					g.node("done", nodeEnd, "end", 0)
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
			g.node(id(pc), nodeWait, "voicemail "+p.Describe(pc)+"\n"+src, line)
			edge(id(pc), target(pc, pc+1, true), "recorded")
		case vm.OpHangup:
			g.node(id(pc), nodeEnd, "hangup\n"+src, line)
		case vm.OpQueue:
			q := p.Queues[arg]
			g.node(id(pc), nodeWait, fmt.Sprintf("queue team:%s %s\n%s", q.Team, q.Strategy, src), line)
			for _, o := range p.QueueOutcomes(pc) {
				edge(id(pc), target(pc, o.Target, true), o.Label)
			}
			if !q.Written[1] {
				missing(pc, "on timeout")
			}
		case vm.OpAsk:
			a := p.Asks[arg]
			g.node(id(pc), nodeWait, fmt.Sprintf("ask %q\nas %s, %s", p.TemplateSource(a.Prompt), a.Var, src), line)
			edge(id(pc), target(pc, pc+1, true), "answer")
			if a.TimeoutPC >= 0 {
				edge(id(pc), target(pc, a.TimeoutPC, true), "timeout "+vm.FormatDuration(a.Timeout))
			} else {
				missing(pc, "timeout")
			}
		case vm.OpRun:
			g.node(id(pc), nodeStep, "run "+p.Describe(pc)+"\n"+src, line)
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
			g.node(id(pc), nodeStep, fmt.Sprintf("retry %d×\n%s", r.Times, src), line)
			edge(id(pc), target(pc, r.PC, false), "again")
			edge(id(pc), target(pc, pc+1, false), "no retries left")
		case vm.OpEnd:
			g.node(id(pc), nodeEnd, "end\n"+src, line)
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
			g.node(id(pc), nodeStep, label+"\n"+src, line)
			if c.ErrorPC < 0 {
				edge(id(pc), target(pc, pc+1, false), "")
				break
			}
			edge(id(pc), target(pc, pc+1, false), "ok")
			edge(id(pc), target(pc, c.ErrorPC, false), "on error")
		case vm.OpJumpFalse: // reached directly only without its TEST
			g.node(id(pc), nodeWhen, "when (flag)\n"+src, line)
			edge(id(pc), target(pc, pc+1, false), "true")
			edge(id(pc), target(pc, arg, false), "false")
		default:
			g.node(id(pc), nodeStep, strings.ToLower(op.String())+" "+p.Describe(pc)+"\n"+src, line)
			edge(id(pc), target(pc, pc+1, false), "")
		}
	}
	return g
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

func (g *flowGraph) writeDot(w io.Writer) {
	fmt.Fprintf(w, "digraph %s {\n", dotQuote("flow "+g.name))
	fmt.Fprintln(w, `  rankdir=TB;`)
	fmt.Fprintln(w, `  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded"];`)
	fmt.Fprintln(w, `  edge [fontname="Helvetica", fontsize=10];`)
	for _, n := range g.nodes {
		attrs := ""
		switch n.kind {
		case nodeWhen:
			attrs = `shape=diamond, style=""`
		case nodeWait:
			attrs = `shape=box, style="rounded,filled", fillcolor="#e8f0ff"`
		case nodeStart:
			attrs = `shape=oval, style=filled, fillcolor="#e8ffe8"`
		case nodeEnd:
			attrs = `shape=doublecircle, style=""`
		case nodeDeadEnd:
			attrs = `shape=octagon, style=filled, color=red, fillcolor="#ffe0e0", fontcolor=red`
		case nodeMissing:
			attrs = `shape=box, style=dashed, color=red, fontcolor=red`
		}
		if attrs != "" {
			attrs = ", " + attrs
		}
		fmt.Fprintf(w, "  %s [label=%s%s];\n", n.id, dotQuote(n.label), attrs)
	}
	for _, e := range g.edges {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, "label="+dotQuote(e.label))
		}
		if e.dashed {
			attrs = append(attrs, "style=dashed", "color=red", "fontcolor=red")
		} else if to := g.byID[e.to]; to != nil && to.kind == nodeDeadEnd {
			attrs = append(attrs, "color=red")
		}
		a := ""
		if len(attrs) > 0 {
			a = " [" + strings.Join(attrs, ", ") + "]"
		}
		fmt.Fprintf(w, "  %s -> %s%s;\n", e.from, e.to, a)
	}
	fmt.Fprintln(w, "}")
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

func (g *flowGraph) writeMermaid(w io.Writer) {
	fmt.Fprintln(w, "flowchart TD")
	classes := map[string][]string{}
	for _, n := range g.nodes {
		t := `"` + mermaidText(n.label) + `"`
		var shape string
		switch n.kind {
		case nodeWhen:
			shape = "{" + t + "}"
		case nodeStart:
			shape = "([" + t + "])"
		case nodeEnd:
			shape = "((" + t + "))"
		case nodeDeadEnd:
			shape = "{{" + t + "}}"
			classes["deadEnd"] = append(classes["deadEnd"], n.id)
		case nodeMissing:
			shape = "[" + t + "]"
			classes["missing"] = append(classes["missing"], n.id)
		case nodeWait:
			shape = "[/" + t + "/]"
		default:
			shape = "(" + t + ")"
		}
		fmt.Fprintf(w, "    %s%s\n", n.id, shape)
	}
	for _, e := range g.edges {
		arrow := "-->"
		if e.dashed {
			arrow = "-.->"
		}
		if e.label != "" {
			fmt.Fprintf(w, "    %s %s|\"%s\"| %s\n", e.from, arrow, mermaidText(e.label), e.to)
		} else {
			fmt.Fprintf(w, "    %s %s %s\n", e.from, arrow, e.to)
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
