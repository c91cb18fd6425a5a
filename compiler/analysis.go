package compiler

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/vm"
)

// CodeFallThrough is the note on a menu or ask branch that goes on into
// the steps after its block.
const CodeFallThrough = "flow/fall-through"

func (c *compiler) span(pc int) file.Span { return c.locSpan(c.p.Locs[pc]) }

func (c *compiler) analyse() {
	p := c.p
	n := len(p.Code)

	// Reachability from the entry.
	reached := make([]bool, n)
	stack := []int{0}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if pc < 0 || pc >= n || reached[pc] {
			continue
		}
		reached[pc] = true
		next, _ := p.Successors(pc)
		stack = append(stack, next...)
	}
	for pc := 0; pc < n; pc++ {
		if reached[pc] || c.synth[pc] {
			continue
		}
		if pc > 0 && !reached[pc-1] && !c.synth[pc-1] {
			continue // report a run of unreachable steps once
		}
		c.diags.Warnf(c.span(pc), CodeUnreachable, "unreachable: no path leads here").Hint = c.unreachableHint(pc, reached)
	}

	// A missing else and the dead end on the path it leaves open are one
	// mistake: the dead end is not reported on its own, the missing
	// branch says it (reportMissing).
	h := c.indexHeads()
	deadVia := c.deadEnds(reached, h.missing)
	c.reportMissing(h, deadVia)
	c.spins()
	c.unsetVars(reached)
	c.fallThroughs(reached)
}

// deadEnds finds paths that start with a message (the entry, or a resume
// after a menu or ask) and reach the end without the message being
// replied to, delivered, forwarded or ended. A path that reaches the end
// through the branch a missing-branch warning is about (the false side
// of a `when` without else, the "no route" side of a run without else:
// the decisions in missing) is not reported here: it is that warning's
// mistake. It returns those decisions' pcs.
func (c *compiler) deadEnds(reached []bool, missing map[int]int) map[int]bool {
	p := c.p
	origins := []int{0}
	for pc := range p.Code {
		if !reached[pc] {
			continue
		}
		if p.Code[pc] == vm.OpQueue {
			origins = append(origins, queueOrigins(p, pc)...)
		} else if p.Code[pc] == vm.OpRing {
			origins = append(origins, ringOrigins(p, pc)...) // voice.go
		} else if next, resume := p.Successors(pc); resume {
			origins = append(origins, next...)
		}
	}
	reported := map[int]bool{}
	via := map[int]bool{}
	for _, o := range origins {
		// DFS over instructions that do not handle the message,
		// remembering the last decision on the path for the report
		// and whether the path left it by its missing branch. An
		// instruction is visited at most twice, once on a path through
		// a missing branch and once on another, so that neither kind
		// of path hides the other.
		type item struct {
			pc, decision int
			missing      bool
		}
		type key struct {
			pc      int
			missing bool
		}
		seen := map[key]bool{}
		stack := []item{{o, o, false}}
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			pc := it.pc
			if pc < 0 || pc >= len(p.Code) || seen[key{pc, it.missing}] {
				continue
			}
			seen[key{pc, it.missing}] = true
			op := p.Code[pc]
			if op == vm.OpInboxExpr || op == vm.OpForwardExpr {
				// Delivered, unless its value names nobody: then its
				// `on error` branch must handle the message.
				if e := p.Computed[p.Args[pc]].ErrorPC; e >= 0 {
					stack = append(stack, item{e, pc, false})
				}
				continue
			}
			if op.Handles() {
				continue
			}
			if op == vm.OpHalt {
				where := it.decision
				if _, ok := missing[where]; ok && it.missing {
					via[where] = true
					continue
				}
				if !reported[where] {
					reported[where] = true
					d := c.diags.Warnf(c.span(where), CodeDeadEnd,
						"dead end: on a path through here the message is neither replied to, delivered, forwarded nor ended")
					d.Hint = "end every path with reply, inbox, forward or end (add an else branch?)"
					if c.info.IsVoice() {
						d.Message = "dead end: on a path through here the caller is left in silence: nobody is rung, no voicemail is taken and the call is not ended"
						d.Hint = "end every path with hangup, voicemail, ring, forward number:\"…\" or end (add an else branch?)"
					}
					if h := c.queueDeadEndHint(where); h != "" {
						d.Hint = h
					}
					if msg, h := c.callDeadEnd(where); h != "" { // voice.go
						d.Hint = h
						if msg != "" {
							d.Message = msg
						}
					}
				}
				continue
			}
			next, _ := p.Successors(pc)
			decision, miss := it.decision, it.missing
			switch op {
			case vm.OpTest, vm.OpRetry:
				decision, miss = pc, false
			case vm.OpRun:
				for _, o := range p.RunOutcomes(pc) {
					// Without else, a result naming no route goes on
					// after the run: the run's missing branch.
					stack = append(stack, item{o.Target, pc, o.Kind == vm.BranchOK && len(p.Runs[p.Args[pc]].Routes) > 0})
				}
				continue
			case vm.OpJumpFalse:
				if len(next) == 2 {
					// The false side of the test just before is the
					// `when`'s missing else, if it has none.
					stack = append(stack, item{next[0], decision, false}, item{next[1], decision, decision == pc-1})
					continue
				}
			}
			for _, nx := range next {
				stack = append(stack, item{nx, decision, miss})
			}
		}
	}
	return via
}

// spins finds cycles that do not pass through a menu or ask: such a loop
// would run without waiting for a message. Every back edge of the depth-
// first search closes at least one such cycle, and each is reported, so
// a file with two spinning loops shows both at once. The search keeps an
// explicit stack: a program's length is bounded, its nesting is not.
func (c *compiler) spins() {
	p := c.p
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(p.Code))
	reported := map[int]bool{} // span starts: one message per looping step
	type frame struct {
		pc   int
		next []int
		i    int
	}
	for root := range p.Code {
		if color[root] != white {
			continue
		}
		push := func(pc int, stack []frame) []frame {
			color[pc] = grey
			next, resume := p.Successors(pc)
			if resume {
				next = nil // a menu or ask waits: no cycle passes through it
			}
			return append(stack, frame{pc: pc, next: next})
		}
		stack := push(root, nil)
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.i == len(top.next) {
				color[top.pc] = black
				stack = stack[:len(stack)-1]
				continue
			}
			nx := top.next[top.i]
			top.i++
			if nx < 0 || nx >= len(p.Code) {
				continue
			}
			switch color[nx] {
			case grey:
				sp := c.span(top.pc)
				if reported[sp.Start] {
					continue
				}
				reported[sp.Start] = true
				c.diags.Errorf(sp, CodeSpin,
					"this step loops back (to %s) without waiting for a message: the flow would spin", c.span(nx)).Hint =
					"a loop must pass through a menu or ask"
			case white:
				stack = push(nx, stack)
			}
		}
	}
}

// unsetVars reports variables read where no path has set them yet.
func (c *compiler) unsetVars(reached []bool) {
	p := c.p
	n := len(p.Code)
	sets := make([]map[string]bool, n) // variables possibly set on entry to pc
	gen := func(pc int) string {
		switch p.Code[pc] {
		case vm.OpSet:
			return p.Sets[p.Args[pc]].Var
		case vm.OpRun:
			return p.Runs[p.Args[pc]].As
		}
		return ""
	}
	sets[0] = map[string]bool{}
	visited := make([]bool, n)
	visited[0] = true
	work := []int{0}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		out := map[string]bool{}
		for v := range sets[pc] {
			out[v] = true
		}
		if v := gen(pc); v != "" {
			out[v] = true
		}
		next, _ := p.Successors(pc)
		for i, nx := range next {
			if nx < 0 || nx >= n {
				continue
			}
			flow := out
			if p.Code[pc] == vm.OpAsk && i == 0 { // the answer is stored on resume
				flow = map[string]bool{p.Asks[p.Args[pc]].Var: true}
				for v := range out {
					flow[v] = true
				}
			}
			if sets[nx] == nil {
				sets[nx] = map[string]bool{}
			}
			changed := false
			for v := range flow {
				if !sets[nx][v] {
					sets[nx][v] = true
					changed = true
				}
			}
			if changed || !visited[nx] {
				visited[nx] = true
				work = append(work, nx)
			}
		}
	}
	must := c.mustSet(gen)
	pcs := make([]int, 0, len(c.reads))
	for pc := range c.reads {
		pcs = append(pcs, pc)
	}
	sort.Ints(pcs)
	for _, pc := range pcs {
		if !reached[pc] {
			continue
		}
		for i, v := range c.reads[pc] {
			sp := c.readAt[pc][i]
			switch {
			case sets[pc] == nil || !sets[pc][v]:
				c.diags.Warnf(sp, CodeVar, "variable %q is read here but no path sets it before", v).Hint =
					fmt.Sprintf("set it first (set %s = …), or guard it: %s ?? \"default\"", v, v)
			case !must[pc][v] && !c.guarded(sp, v):
				d := c.diags.Warnf(sp, CodeVar, "variable %q may be unset here: some paths reach this without setting it", v)
				d.Hint = fmt.Sprintf("guard it (%s ?? \"…\") or set it on every path", v)
				if where := c.unsetWitness(pc, v, must, gen); where != "" {
					d.Hint = fmt.Sprintf("it is unset %s; guard it (%s ?? \"…\") or set it on every path", where, v)
				}
			}
		}
	}
}

// mustSet computes, for each instruction, the variables set on every
// path from the entry to it (a forward "must" analysis: the intersection
// over predecessors). nil means not reached yet.
func (c *compiler) mustSet(gen func(int) string) []map[string]bool {
	p := c.p
	n := len(p.Code)
	in := make([]map[string]bool, n)
	in[0] = map[string]bool{}
	work := []int{0}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		next, _ := p.Successors(pc)
		for i, nx := range next {
			if nx < 0 || nx >= n {
				continue
			}
			out := map[string]bool{}
			for v := range in[pc] {
				out[v] = true
			}
			if v := gen(pc); v != "" {
				out[v] = true
			}
			if p.Code[pc] == vm.OpAsk && i == 0 { // the answer is stored on resume
				out[p.Asks[p.Args[pc]].Var] = true
			}
			if in[nx] == nil {
				in[nx] = out
				work = append(work, nx)
				continue
			}
			changed := false
			for v := range in[nx] {
				if !out[v] {
					delete(in[nx], v)
					changed = true
				}
			}
			if changed {
				work = append(work, nx)
			}
		}
	}
	return in
}

// unsetWitness says where a path that leaves v unset enters the way to
// pc: walking back from pc over instructions after which v may be unset,
// the first that begins one branch of a decision (a timeout, a menu key,
// an else), or the condition whose false side skips to pc. "" if there
// is none to name.
func (c *compiler) unsetWitness(pc int, v string, must []map[string]bool, gen func(int) string) string {
	p := c.p
	preds := make([][]int, len(p.Code))
	for from := range p.Code {
		next, _ := p.Successors(from)
		for i, nx := range next {
			if nx < 0 || nx >= len(p.Code) {
				continue
			}
			sets := gen(from) == v || (p.Code[from] == vm.OpAsk && i == 0 && p.Asks[p.Args[from]].Var == v)
			if must[from] != nil && !must[from][v] && !sets {
				preds[nx] = append(preds[nx], from)
			}
		}
	}
	seen := map[int]bool{pc: true}
	queue := []int{pc}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, from := range preds[cur] {
			if next, _ := p.Successors(from); len(next) > 1 {
				if p.Code[from] == vm.OpJumpFalse && from > 0 && p.Code[from-1] == vm.OpTest && (cur == pc || c.synth[cur]) {
					return "when the condition at " + c.span(from-1).String() + " is false"
				}
				if !c.synth[cur] && cur != pc {
					return "on the path through " + c.span(cur).String() // cur begins one branch of from
				}
			}
			if !seen[from] {
				seen[from] = true
				queue = append(queue, from)
			}
		}
	}
	return ""
}

// guarded reports whether the expression at sp already handles v being
// unset: it is the left side of ?? or compared with nil.
func (c *compiler) guarded(sp file.Span, v string) bool {
	text := c.f.Source.Text[sp.Start:sp.End]
	tree, err := exprparser.Parse(text)
	if err != nil {
		return false
	}
	g := &guardVisitor{name: v}
	ast.Walk(&tree.Node, g)
	return g.found
}

type guardVisitor struct {
	name  string
	found bool
}

func (g *guardVisitor) Visit(n *ast.Node) {
	b, ok := (*n).(*ast.BinaryNode)
	if !ok {
		return
	}
	isVar := func(x ast.Node) bool { id, ok := x.(*ast.IdentifierNode); return ok && id.Value == g.name }
	_, lnil := b.Left.(*ast.NilNode)
	_, rnil := b.Right.(*ast.NilNode)
	switch b.Operator {
	case "??":
		g.found = g.found || isVar(b.Left)
	case "==", "!=":
		g.found = g.found || (isVar(b.Left) && rnil) || (isVar(b.Right) && lnil)
	}
}

// branchBlock is a menu or ask as laid out: its instruction, where its
// branches start and where they join.
type branchBlock struct {
	kind     string // "menu" or "ask"
	head     int
	end      int
	branches []blockBranch
}

type blockBranch struct {
	pc    int
	label file.Span
	key   string // a key label as written (quotes removed); "" for else, timeout and on
}

// noteBlock records a menu or ask for fallThroughs and the missing-branch
// hints.
func (c *compiler) noteBlock(kind string, head, end int, pcs map[*syntax.Branch]int) {
	b := branchBlock{kind: kind, head: head, end: end}
	for br, pc := range pcs {
		l := br.Label
		key := ""
		if !l.Else && l.Timeout == "" && l.On == "" {
			key = l.Key
			if u, err := strconv.Unquote(key); err == nil {
				key = u
			}
		}
		b.branches = append(b.branches, blockBranch{pc: pc, label: c.f.Span(l), key: key})
	}
	sort.Slice(b.branches, func(i, j int) bool { return b.branches[i].pc < b.branches[j].pc })
	c.blocks = append(c.blocks, b)
}

// fallThroughs notes a branch of a menu or ask that goes on into the
// steps after the block while every other way out of the block ends
// (with end, goto, or a path that stops): usually a missing `then end`,
// and the steps after run for one choice only by accident. An ask's
// answer is one of those ways and always goes on (the steps after are
// written for it), so an ask's timeout branch is never noted: reading
// the answer after a timeout is the flow/variable warning's job.
//
// A branch goes on when some path from its first step reaches the
// block's end without passing through the menu again (a retry goes back
// to it). Rather than a forward search from each branch, which follows
// a branch's goto through the rest of the program and so costs the
// program's length per branch (quadratic in a flow of many menus whose
// branches goto sections), one backward search per block from its end
// marks every step that reaches the end that way; the search stops at
// the menu, and as the compiler lays a block out, only the block's own
// steps lead to its end except through the menu, so each search visits
// about the block's own steps (fallSteps counts them, for the tests).
func (c *compiler) fallThroughs(reached []bool) {
	var back *backReach
	steps := 0
	for _, b := range c.blocks {
		if !reached[b.head] || len(b.branches) < 2 || b.kind == "ask" {
			continue
		}
		after := c.stepsAfter(b.end)
		if after < 0 {
			continue
		}
		if back == nil {
			back = newBackReach(c.p)
		}
		steps += back.from(b.end, b.head)
		var falls []blockBranch
		for _, br := range b.branches {
			if back.marked(br.pc) {
				falls = append(falls, br)
			}
		}
		if len(falls) == 1 {
			c.diags.Notef(falls[0].label, CodeFallThrough,
				"this branch goes on to the steps after the %s (%s); every other branch ends", b.kind, c.span(after)).Hint =
				"end the branch (then end) if that is not meant"
		}
	}
	fallSteps.Add(int64(steps))
}

// fallSteps is the number of steps fallThroughs' searches have visited
// in this process: the tests bound it by the programs' lengths.
var fallSteps atomic.Int64

// backReach answers, for a target and a stop, which steps have a path
// to the target that does not pass through the stop, by a search over
// the predecessor graph built once per program. Marks are stamped with
// a generation so that each search costs what it visits, not the
// program's length.
type backReach struct {
	start []int32 // preds of pc are pred[start[pc]:start[pc+1]]
	pred  []int32
	mark  []int32 // == gen: reaches the current target
	gen   int32
	stack []int32
}

func newBackReach(p *vm.Program) *backReach {
	n := len(p.Code)
	succ := make([][]int, n)
	count := make([]int32, n+1)
	for pc := range p.Code {
		next, _ := p.Successors(pc)
		succ[pc] = next
		for _, nx := range next {
			if nx >= 0 && nx < n {
				count[nx+1]++
			}
		}
	}
	for i := 1; i <= n; i++ {
		count[i] += count[i-1]
	}
	r := &backReach{start: count, pred: make([]int32, count[n]), mark: make([]int32, n)}
	fill := append([]int32(nil), count[:n]...)
	for pc, next := range succ {
		for _, nx := range next {
			if nx >= 0 && nx < n {
				r.pred[fill[nx]] = int32(pc)
				fill[nx]++
			}
		}
	}
	return r
}

// from marks the steps with a path to target on which stop is not
// passed through (target itself included; stop only if it is target),
// and returns how many it visited.
func (r *backReach) from(target, stop int) int {
	r.gen++
	if target < 0 || target >= len(r.mark) {
		return 0
	}
	r.mark[target] = r.gen
	r.stack = append(r.stack[:0], int32(target))
	visited := 0
	for len(r.stack) > 0 {
		cur := r.stack[len(r.stack)-1]
		r.stack = r.stack[:len(r.stack)-1]
		visited++
		// The stop is never pushed: a path that runs through it does
		// not count (if the stop is the target, reaching it does).
		for _, from := range r.pred[r.start[cur]:r.start[cur+1]] {
			if int(from) != stop && r.mark[from] != r.gen {
				r.mark[from] = r.gen
				r.stack = append(r.stack, from)
			}
		}
	}
	return visited
}

// marked reports whether pc was marked by the last search.
func (r *backReach) marked(pc int) bool {
	return pc >= 0 && pc < len(r.mark) && r.mark[pc] == r.gen
}

// stepsAfter follows the compiler's own jumps from pc to the first real
// step, or returns -1 when the flow stops there.
func (c *compiler) stepsAfter(pc int) int {
	p := c.p
	for seen := 0; pc >= 0 && pc < len(p.Code) && seen <= len(p.Code); seen++ {
		switch {
		case p.Code[pc] == vm.OpHalt:
			return -1
		case c.synth[pc] && p.Code[pc] == vm.OpJump:
			pc = int(p.Args[pc])
		case c.synth[pc]:
			return -1
		default:
			return pc
		}
	}
	return -1
}

// missingKind reads what a missing-branch warning is about from the
// compiler's message: the construct and the branch it lacks.
var missingKind = regexp.MustCompile(`^(when|menu|ask|run|queue) without (else|timeout|on timeout)\b`)

// heads indexes the instructions that head a construct a missing-branch
// warning can be about, by their span, so that matching the warnings to
// them stays linear in the program's length.
type heads struct {
	testByEnd map[int]int    // a when's test, by its span's end
	bySpan    map[[2]int]int // a run, menu or ask, by its span
	blocks    map[[2]int]int // index into c.blocks, by the head's span
	missing   map[int]int    // decision pc → index into c.missing (missing else only)
}

func spanKey(sp file.Span) [2]int { return [2]int{sp.Start, sp.End} }

// indexHeads builds the heads index and the missing-else decisions: the
// pc of each decision (a when's test, a run) that has a missing-else
// warning, mapped to the warning. The warning's span is the construct's
// head: for a when, `when` joined to the condition, which ends where the
// test's span ends; for a run, the run's own.
func (c *compiler) indexHeads() *heads {
	h := &heads{testByEnd: map[int]int{}, bySpan: map[[2]int]int{}, blocks: map[[2]int]int{}, missing: map[int]int{}}
	for pc, op := range c.p.Code {
		switch op {
		case vm.OpTest:
			h.testByEnd[c.span(pc).End] = pc
		case vm.OpRun, vm.OpMenu, vm.OpAsk:
			h.bySpan[spanKey(c.span(pc))] = pc
		}
	}
	for i, b := range c.blocks {
		h.blocks[spanKey(c.span(b.head))] = i
	}
	for i, m := range c.missing {
		k := missingKind.FindStringSubmatch(m.msg)
		if k == nil || k[2] != "else" {
			continue
		}
		switch k[1] {
		case "when":
			if pc, ok := h.testByEnd[m.span.End]; ok && c.span(pc).Start >= m.span.Start {
				h.missing[pc] = i
			}
		case "run":
			if pc, ok := h.bySpan[spanKey(m.span)]; ok && c.p.Code[pc] == vm.OpRun {
				h.missing[pc] = i
			}
		}
	}
	return h
}

// reportMissing reports each missing branch with a hint that says what
// to add, and, where the path it leaves open reaches the end with the
// message unanswered (deadVia, from deadEnds), that too: one warning for
// the one mistake.
func (c *compiler) reportMissing(h *heads, deadVia map[int]bool) {
	dead := map[int]bool{} // indices into c.missing
	for pc, i := range h.missing {
		if deadVia[pc] {
			dead[i] = true
		}
	}
	for i, m := range c.missing {
		if c.catchAllKey(h, m) {
			continue
		}
		d := c.diags.Warnf(m.span, CodeMissing, "%s", m.msg)
		if m.fix != nil {
			d.Fixes = []diag.Fix{*m.fix}
		}
		k := missingKind.FindStringSubmatch(m.msg)
		if k == nil {
			continue
		}
		switch k[1] + " " + k[2] {
		case "when else":
			d.Hint = "say what happens when the condition is false: `> else reply \"…\"` (or inbox, forward, goto, end)"
			if dead[i] {
				d.Hint = "when it is false the message is neither replied to, delivered, forwarded nor ended: " +
					"add `> else …` with a reply, inbox, forward or end"
			}
		case "run else":
			d.Hint = "add `else -> …` to the block for a result that names none of its routes"
			if dead[i] {
				d.Hint += "; without it the flow goes on after the run, where nothing answers the message"
			}
		case "menu else":
			d.Hint = "add `else -> …` for a reply that matches no key, e.g. " + c.menuElseExample(h, m.span)
		case "menu timeout":
			d.Hint = "add a branch for a contact who never answers, e.g. `timeout 1d -> end`"
		case "ask timeout":
			d.Hint = "give it a branch for a contact who never answers: " + c.askTimeoutExample(h, m.span)
		case "queue on timeout":
			d.Hint = "give it a most time in queue and a bot after timeout, e.g. " +
				"`queue … wait 10m < on timeout -> reply \"Sorry, everyone is busy; we'll text you back.\" > `"
		}
	}
}

// blockAt returns the menu or ask whose head has span sp.
func (c *compiler) blockAt(h *heads, sp file.Span) *branchBlock {
	if i, ok := h.blocks[spanKey(sp)]; ok {
		return &c.blocks[i]
	}
	return nil
}

// menuElseExample is an else branch for the menu at sp that prompts
// again, naming its keys: `else -> reply "Please reply 1 or 2." then retry 2`.
func (c *compiler) menuElseExample(h *heads, sp file.Span) string {
	var keys []string
	if b := c.blockAt(h, sp); b != nil {
		for _, br := range b.branches {
			if br.key != "" {
				keys = append(keys, br.key)
			}
		}
	}
	if len(keys) == 0 || len(keys) > 5 {
		return "`else -> retry 2`"
	}
	list := keys[0]
	if len(keys) > 1 {
		list = strings.Join(keys[:len(keys)-1], ", ") + " or " + keys[len(keys)-1]
	}
	return fmt.Sprintf("`else -> reply \"Please reply %s.\" then retry 2`", list)
}

// askTimeoutExample is the ask at sp with a timeout branch.
func (c *compiler) askTimeoutExample(h *heads, sp file.Span) string {
	if pc, ok := h.bySpan[spanKey(sp)]; ok && c.p.Code[pc] == vm.OpAsk {
		return fmt.Sprintf("`ask … as %s < timeout 1d -> … >`", c.p.Asks[c.p.Args[pc]].Var)
	}
	return "`< timeout 1d -> … >` after the ask"
}

// catchAllWords are what other tools call a menu's catch-all branch.
var catchAllWords = map[string]bool{
	"default": true, "otherwise": true, "other": true, "others": true, "any": true,
	"anything": true, "fallback": true, "catchall": true, "catch-all": true, "*": true,
}

// catchAllKey reports a menu without else that has a key such as
// `default` (a GUI builder's "default" exit, a switch's `default:`) at
// that key, in place of the warning about the menu, and reports whether
// it did: the key is the mistake, and `else` is what was meant.
func (c *compiler) catchAllKey(h *heads, m missing) bool {
	if k := missingKind.FindStringSubmatch(m.msg); k == nil || k[1] != "menu" || k[2] != "else" {
		return false
	}
	b := c.blockAt(h, m.span)
	if b == nil {
		return false
	}
	for _, br := range b.branches {
		if !catchAllWords[strings.ToLower(br.key)] {
			continue
		}
		d := c.diags.Warnf(br.label, CodeMissing,
			"menu without else: %q is a reply key here, taken only when the contact replies %q, not for a reply that matches no key",
			br.key, br.key)
		d.Hint = "write `else ->` for the branch taken when the reply matches no key"
		d.Fixes = []diag.Fix{{Title: "replace with else", Edits: []diag.Edit{{Span: br.label, New: "else"}}}}
		return true
	}
	return false
}

// unreachableHint says why the step at pc cannot run and what to do.
func (c *compiler) unreachableHint(pc int, reached []bool) string {
	for name, start := range c.sects {
		if start == pc {
			return fmt.Sprintf("no goto leads to section %s: add `goto %s` where it should run, or remove the section", name, name)
		}
	}
	if pc > 0 && reached[pc-1] && !c.synth[pc-1] {
		switch c.p.Code[pc-1] {
		case vm.OpJump: // a goto: the compiler's own jumps are synthetic
			for _, g := range c.gotos {
				if g.pc == pc-1 {
					return fmt.Sprintf("goto does not come back: move these steps before `goto %s`, or into section %s", g.name.Tok, g.name.Tok)
				}
			}
		case vm.OpEnd:
			return "end stops the conversation: move these steps before it, or remove them"
		}
	}
	for _, b := range c.blocks {
		if c.stepsAfter(b.end) == pc && reached[b.head] {
			return fmt.Sprintf("every branch of the %s at %s ends (goto, end or retry), so nothing after it runs: "+
				"move these steps into the branch that should run them", b.kind, c.span(b.head))
		}
	}
	return "every path before this step ends (goto, end, or a block whose branches all end): move it where a path reaches it, or remove it"
}
