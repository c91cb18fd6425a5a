package compiler

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	exprfile "github.com/expr-lang/expr/file"

	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/runtime/applet"
	"github.com/flowc-dev/flowc/vm"
)

// Version is mixed into every program's version hash, so a compiler
// change yields new versions.
const Version = "flowc-compiler/1"

// Diagnostic codes of this stage.
const (
	CodeType        = "flow/type"
	CodeDeadEnd     = "flow/dead-end"
	CodeMissing     = "flow/missing-branch"
	CodeUnreachable = "flow/unreachable"
	CodeSpin        = "flow/spin"
	CodeGoto        = "flow/goto"
	CodeVar         = "flow/variable"
	CodeRetry       = "flow/retry"
	CodeApplet      = "flow/applet-js"
	CodeTooLong     = "flow/too-long"
)

// All compiles every file of a checked set. A file with errors from the
// earlier stages is not compiled (its diagnostics already say why).
func All(res *lang.Result) ([]*vm.Program, diag.List) {
	var progs []*vm.Program
	var diags diag.List
	for i, f := range res.Files {
		errs, syntaxOnly := fileErrors(res.Diags, f)
		if errs && (!syntaxOnly || f.NotFlowText) {
			continue
		}
		p, d := Compile(f, res.Infos[i])
		if errs {
			// Syntax errors only: the rest of the file is still checked
			// for names, types and loops, but the file has no program.
			diags = append(diags, meaningful(f, d)...)
			continue
		}
		diags = append(diags, d...)
		if p != nil {
			progs = append(progs, p)
		}
	}
	diags.Sort()
	return progs, diags
}

type compiler struct {
	f       *syntax.File
	info    *check.Info
	p       *vm.Program
	diags   diag.List
	exprs   *runtime.Compiler
	reads   map[int][]string // pc → variables its expressions read
	readAt  map[int][]file.Span
	synth   map[int]bool // instructions with no statement of their own
	gotos   []pendingGoto
	sects   map[string]int
	suspend []int // enclosing menu/ask pcs, innermost last
	applets map[string]int
	missing []missing
	blocks  []branchBlock // menus and asks, for the fall-through note
}

type pendingGoto struct {
	pc   int
	name *syntax.Value
}

type missing struct {
	span file.Span
	msg  string
	fix  *diag.Fix // offered with the warning, when one edit adds the branch
}

// Compile compiles one checked file.
func Compile(f *syntax.File, info *check.Info) (*vm.Program, diag.List) {
	c := &compiler{f: f, info: info, reads: map[int][]string{}, readAt: map[int][]file.Span{}, synth: map[int]bool{},
		sects: map[string]int{}, applets: map[string]int{}}
	schedules := map[string]string{}
	for name, s := range info.Schedules {
		schedules[name] = s.String()
	}
	c.p = &vm.Program{
		Name: info.Name, File: f.Source.Name, Source: f.Source.Text, Numbers: numbers(info), Channel: channel(info),
		Timezone: info.Timezone.String(), Holidays: info.Holidays, Schedules: schedules, Help: info.Help,
		Hosts: hosts(info), // effects.go
	}
	cal, err := vm.NewCalendar(c.p.Timezone, c.p.Holidays, schedules)
	if err != nil {
		c.diags.Errorf(f.Source.Span(0, 0), CodeType, "%v", err)
		return nil, c.diags
	}
	c.p.SetCalendar(cal)
	if c.p.Channel == registry.Voice {
		c.p.Numbers, c.p.CallNumbers = nil, c.p.Numbers // voice.go: a call flow's numbers route calls, not texts
	}
	vars := c.declareVars()
	c.exprs = &runtime.Compiler{Cal: cal, Vars: vars}
	for v := range vars {
		c.p.Vars = append(c.p.Vars, v)
	}
	sort.Strings(c.p.Vars)

	// Main body, then sections.
	for _, it := range f.Stmts {
		if ch, ok := it.(*syntax.Chain); ok {
			c.chain(ch)
		}
	}
	c.emitSynth(vm.OpHalt, 0, c.endSpan())
	for _, it := range f.Stmts {
		if s, ok := it.(*syntax.Section); ok {
			c.sects[s.Name.Value] = len(c.p.Code)
			c.block(s.Body)
			c.emitSynth(vm.OpHalt, 0, c.f.Span(s.Body))
		}
	}
	for _, g := range c.gotos {
		target, ok := c.sects[g.name.Tok]
		if !ok {
			d := c.diags.Errorf(c.f.Span(g.name), CodeGoto, "no section named %q", g.name.Tok)
			if len(c.sects) > 0 {
				var names []string
				for n := range c.sects {
					names = append(names, n)
				}
				sort.Strings(names)
				d.Hint = "sections: " + strings.Join(names, ", ")
				if s := check.Suggest(g.name.Tok, names); s != "" {
					d.Hint, d.Fixes = fmt.Sprintf("did you mean %s?", s), check.NameFix(d.Span, g.name.Tok, s)
				}
			} else {
				d.Hint = "declare one at the top level: section " + g.name.Tok + " < … >"
			}
			continue
		}
		c.p.Args[g.pc] = int32(target)
	}
	if c.diags.HasErrors() {
		return nil, c.diags
	}
	c.analyse()
	c.p.Version = version(f, c.p)
	c.diags.Sort()
	return c.p, c.diags
}

func numbers(info *check.Info) []string {
	var out []string
	for _, n := range info.Numbers {
		out = append(out, n.Value)
	}
	return out
}

// version hashes what decides the program's behaviour: the compiler, the
// flow's name (it may come from the file's name), the source and the
// applets' sources. Not the file's path: the same flow served from a
// directory and deployed through the admin API is one version.
func version(f *syntax.File, p *vm.Program) string {
	h := sha256.New()
	h.Write([]byte(Version))
	h.Write([]byte{0})
	h.Write([]byte(p.Name))
	h.Write([]byte{0})
	h.Write([]byte(f.Source.Text))
	for _, a := range p.Applets {
		h.Write([]byte{0})
		h.Write(a.Source)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *compiler) endSpan() file.Span {
	n := len(c.f.Source.Text)
	return c.f.Source.Span(n, n)
}

// declareVars collects every variable the flow assigns.
func (c *compiler) declareVars() map[string]bool {
	vars := map[string]bool{}
	declare := func(name string, sp file.Span) {
		if runtime.Names[name] {
			c.diags.Errorf(sp, CodeVar, "variable %q would hide the built-in %q", name, name).Hint = "choose another name"
			return
		}
		vars[name] = true
	}
	walkSteps(c.f, func(st syntax.Step) {
		switch st := st.(type) {
		case *syntax.Set:
			declare(st.Name.Value, c.f.Span(st.Name))
		case *syntax.Command:
			if st.Name.Value != "ask" && st.Name.Value != "run" && st.Name.Value != "http" {
				break
			}
			if call, ok := c.info.Call(st); ok {
				if v := call.Bound.Tags["as"]; v != nil {
					declare(v.Tok, c.f.Span(v))
				}
			}
		}
	})
	return vars
}

// walkSteps calls fn for every step of the file, depth first (not
// inside a line the parser gave up on).
func walkSteps(f *syntax.File, fn func(syntax.Step)) {
	syntax.WalkFile(f, func(n syntax.Node) bool {
		st, ok := n.(syntax.Step)
		if ok {
			fn(st)
		}
		_, bad := n.(*syntax.BadStep)
		return !bad
	})
}

func (c *compiler) loc(sp file.Span) vm.Loc {
	s, e := sp.StartPos(), sp.EndPos()
	return vm.Loc{Line: s.Line, Col: s.Column, EndLine: e.Line, EndCol: e.Column}
}

func (c *compiler) emit(op vm.Opcode, arg int, sp file.Span) int {
	c.p.Code = append(c.p.Code, op)
	c.p.Args = append(c.p.Args, int32(arg))
	c.p.Locs = append(c.p.Locs, c.loc(sp))
	return len(c.p.Code) - 1
}

func (c *compiler) emitSynth(op vm.Opcode, arg int, sp file.Span) int {
	pc := c.emit(op, arg, sp)
	c.synth[pc] = true
	return pc
}

func (c *compiler) patch(pc, target int) { c.p.Args[pc] = int32(target) }

func (c *compiler) here() int { return len(c.p.Code) }

func (c *compiler) chain(ch *syntax.Chain) {
	for _, st := range ch.Steps {
		c.step(st)
	}
}

func (c *compiler) block(b *syntax.Block) {
	for _, it := range b.Stmts {
		if ch, ok := it.(*syntax.Chain); ok {
			c.chain(ch)
		}
	}
}

func (c *compiler) step(st syntax.Step) {
	switch st := st.(type) {
	case *syntax.When:
		w := st
		sp := c.f.Span(w.Cond)
		e := c.expr(w.Cond.Text, syntax.Start(w.Cond), runtime.Condition, sp)
		test := c.emit(vm.OpTest, e, sp)
		c.noteReads(test, e, sp)
		jf := c.emitSynth(vm.OpJumpFalse, 0, sp)
		c.block(w.Then)
		if w.Else == nil {
			c.patch(jf, c.here())
			c.missing = append(c.missing, missing{span: c.f.Source.Span(syntax.Start(w), syntax.Start(w)+len("when")).Join(sp), msg: "when without else: nothing is decided here when the condition is false"})
			return
		}
		j := c.emitSynth(vm.OpJump, 0, sp)
		c.patch(jf, c.here())
		c.chain(w.Else)
		c.patch(j, c.here())
	case *syntax.Block:
		c.block(st)
	case *syntax.Set:
		if c.info.Reported(st) {
			return
		}
		sp := c.f.Span(st)
		e := c.expr(st.Expr.Text, syntax.Start(st.Expr), runtime.Value, c.f.Span(st.Expr))
		c.p.Sets = append(c.p.Sets, vm.Set{Var: st.Name.Value, Expr: e})
		pc := c.emit(vm.OpSet, len(c.p.Sets)-1, sp)
		c.noteReads(pc, e, sp)
	case *syntax.Command:
		c.command(st)
	}
}

// expr compiles expression text found at byte offset off; errors are
// reported at their exact column. It returns the expression's index.
func (c *compiler) expr(text string, off int, kind runtime.ExprKind, sp file.Span) int {
	e := vm.Expr{Source: text, Kind: kind, Loc: c.loc(sp)}
	ce, err := c.exprs.Compile(text, kind)
	if err != nil {
		c.exprError(err, text, off)
	} else {
		e.SetCompiled(ce)
		for _, w := range ce.Warnings { // statically huge loops and ranges
			start, end, msg := check.ExprErrorRange(w, text, off)
			c.diags.Warnf(c.f.Source.Span(start, end), runtime.CodeExpensive, "%s", msg)
		}
	}
	c.p.Exprs = append(c.p.Exprs, e)
	return len(c.p.Exprs) - 1
}

func (c *compiler) exprError(err error, text string, off int) {
	// A string used as a number (`body > 100`) is the operand's mistake,
	// not the operator's: expr points at the operator, flowc at the
	// operand runtime.WrongOperand picks, with what to write instead.
	advice := ""
	if fe, ok := err.(*exprfile.Error); ok {
		if from, to, a, ok := runtime.WrongOperand(text, fe.Message, fe.From); ok {
			moved := *fe
			moved.From, moved.To = from, to
			err, advice = &moved, a
		}
	}
	start, end, msg := check.ExprErrorRange(err, text, off)
	d := c.diags.Errorf(c.f.Source.Span(start, end), CodeType, "%s", msg)
	if advice != "" {
		d.Hint = advice
	} else if h, fx := c.exprNameHint(err, d.Span); h != "" {
		d.Hint, d.Fixes = h, fx
	}
}

// noteReads records the variables expression expr reads at pc, located
// at the expression itself.
func (c *compiler) noteReads(pc, expr int, _ file.Span) {
	if ce := c.p.Exprs[expr].Compiled(); ce != nil && len(ce.Reads) > 0 {
		c.reads[pc] = append(c.reads[pc], ce.Reads...)
		for range ce.Reads {
			c.readAt[pc] = append(c.readAt[pc], c.locSpan(c.p.Exprs[expr].Loc))
		}
	}
}

func (c *compiler) locSpan(l vm.Loc) file.Span {
	src := c.f.Source
	return src.Span(src.Offset(l.Line, l.Col), src.Offset(l.EndLine, l.EndCol))
}

// template compiles a string literal with {{ }} parts.
func (c *compiler) template(v *syntax.Value) (int, []int) {
	parts, err := c.info.Template(v)
	if err != nil {
		c.diags.Errorf(c.f.Span(v), CodeType, "%v", err)
		return 0, nil
	}
	var t vm.Template
	var exprs []int
	for _, part := range parts {
		if !part.IsExpr {
			t.Parts = append(t.Parts, vm.TemplatePart{Lit: part.Text, Expr: -1})
			continue
		}
		sp := c.f.Source.Span(part.Offset, part.Offset+len(part.Text))
		e := c.expr(part.Text, part.Offset, runtime.Text, sp)
		exprs = append(exprs, e)
		t.Parts = append(t.Parts, vm.TemplatePart{Expr: e})
	}
	if len(t.Parts) == 0 {
		t.Parts = []vm.TemplatePart{{Lit: "", Expr: -1}}
	}
	// The literal text alone already says the reply can never be sent.
	var lit strings.Builder
	for _, part := range t.Parts {
		lit.WriteString(part.Lit)
	}
	if err := vm.ReplyTooLong(lit.String()); err != nil {
		d := c.diags.Errorf(c.f.Span(v), CodeTooLong, "%v: it could never be sent", err)
		if len(exprs) > 0 {
			d.Message = fmt.Sprintf("the literal text of this reply alone is over the limit of %d characters: it could never be sent", vm.MaxReplyChars)
		}
		d.Hint = "split it into several replies"
	}
	c.p.Templates = append(c.p.Templates, t)
	return len(c.p.Templates) - 1, exprs
}

func (c *compiler) templateReads(pc int, exprs []int, sp file.Span) {
	for _, e := range exprs {
		c.noteReads(pc, e, sp)
	}
}

func (c *compiler) target(v *syntax.Value, strategy string) int {
	c.p.Targets = append(c.p.Targets, vm.Target{Kind: v.TargetKind(), Name: v.Text(), Strategy: strategy})
	return len(c.p.Targets) - 1
}

// computedTarget compiles `inbox user:(EXPR)` and `forward
// email:(EXPR)`: the instruction, its expression (a name: a string or
// nil), and its `on error` branch laid out after it as a run's are.
func (c *compiler) computedTarget(cmd *syntax.Command, v *syntax.Value, strategy string, op vm.Opcode, sp file.Span) {
	text, off := v.ExprText()
	idx := len(c.p.Computed)
	c.p.Computed = append(c.p.Computed, vm.Computed{Kind: v.TargetKind(), Strategy: strategy, ErrorPC: -1})
	pc := c.emit(op, idx, sp)
	e := c.expr(text, off, runtime.Name, c.f.Source.Span(off, off+len(text)))
	c.p.Computed[idx].Expr = e
	c.noteReads(pc, e, sp)
	if cmd.Block == nil {
		return
	}
	cont := c.emitSynth(vm.OpJump, 0, sp)
	pcs, jumps := c.branches(cmd.Block)
	for br, bpc := range pcs {
		if br.Label.On == "error" {
			c.p.Computed[idx].ErrorPC = bpc
		}
	}
	end := c.here()
	c.patch(cont, end)
	for _, j := range jumps {
		c.patch(j, end)
	}
}

func (c *compiler) constant(s string) int {
	c.p.Consts = append(c.p.Consts, s)
	return len(c.p.Consts) - 1
}

func (c *compiler) command(cmd *syntax.Command) {
	call, ok := c.info.Call(cmd)
	if !ok {
		return // reported by check
	}
	a, b := call.Applet, call.Bound
	sp := c.f.Span(cmd)
	head := c.f.Span(cmd.Name)
	if len(cmd.Args) > 0 {
		head = head.Join(c.f.Span(cmd.Args[len(cmd.Args)-1]))
	}
	if c.effect(cmd, b, sp, head) { // effects.go
		return
	}
	switch a.Name {
	case "reply":
		t, exprs := c.template(b.Positional[0])
		pc := c.emit(vm.OpReply, t, sp)
		c.templateReads(pc, exprs, sp)
	case "inbox":
		strategy := ""
		if v := b.Tags["by"]; v != nil {
			strategy = v.Tok
		}
		if v := b.Positional[0]; v.Computed() {
			c.computedTarget(cmd, v, strategy, vm.OpInboxExpr, sp)
			return
		}
		c.emit(vm.OpInbox, c.target(b.Positional[0], strategy), sp)
	case "forward":
		if v := b.Positional[0]; v.Computed() {
			c.computedTarget(cmd, v, "", vm.OpForwardExpr, sp)
			return
		}
		c.emit(vm.OpForward, c.target(b.Positional[0], ""), sp)
	case "tag":
		c.emit(vm.OpTag, c.constant(b.Positional[0].Text()), sp)
	case "end":
		c.emit(vm.OpEnd, 0, sp)
	case "goto":
		pc := c.emit(vm.OpJump, 0, sp)
		c.gotos = append(c.gotos, pendingGoto{pc: pc, name: b.Positional[0]})
	case "retry":
		times := 1
		if v := b.Positional[0]; v != nil {
			n, err := strconv.Atoi(v.Tok)
			if err != nil || n < 1 || n > 100 {
				c.diags.Errorf(c.f.Span(v), CodeRetry, "retry count must be between 1 and 100")
			}
			times = n
		}
		if len(c.suspend) == 0 {
			c.diags.Errorf(sp, CodeRetry, "retry outside a menu or ask branch").Hint = "retry prompts again from the menu or ask it is in"
			return
		}
		c.p.Retries = append(c.p.Retries, vm.Retry{Times: times, PC: c.suspend[len(c.suspend)-1]})
		c.emit(vm.OpRetry, len(c.p.Retries)-1, sp)
	case "menu":
		c.menu(cmd, b, head)
	case "ask":
		c.ask(cmd, b, head)
	case "run":
		c.run(cmd, b, head)
	case "queue":
		c.queue(cmd, b, head)
	default:
		c.voice(cmd, b, sp, head) // voice.go
	}
}

// branches lays out a block's branch bodies after a suspending or
// branching instruction; each body ends with a jump past them all.
// It returns the pc of each branch by index.
func (c *compiler) branches(blk *syntax.Block) (map[*syntax.Branch]int, []int) {
	pcs := map[*syntax.Branch]int{}
	var jumps []int
	if blk == nil {
		return pcs, nil
	}
	for _, it := range blk.Stmts {
		br, ok := it.(*syntax.Branch)
		if !ok {
			continue
		}
		pcs[br] = c.here()
		c.chain(br.Body)
		jumps = append(jumps, c.emitSynth(vm.OpJump, 0, c.f.Span(br)))
	}
	return pcs, jumps
}

func (c *compiler) menu(cmd *syntax.Command, b check.Bound, head file.Span) {
	c.keyMenu(cmd, b, head, "menu", func(idx int) int { return c.emit(vm.OpMenu, idx, head) })
}

// keyMenu compiles a block of keys, timeout and else: a menu's (the
// contact's reply), or a gather's (the caller's digits; voice.go). emit
// emits the suspending instruction for the menu at index idx.
func (c *compiler) keyMenu(cmd *syntax.Command, b check.Bound, head file.Span, kind string, emit func(idx int) int) {
	m := vm.Menu{Prompt: -1, TimeoutPC: -1, ElsePC: -1}
	idx := len(c.p.Menus)
	c.p.Menus = append(c.p.Menus, m)
	pc := emit(idx)
	if v := b.Positional[0]; v != nil {
		t, exprs := c.template(v)
		m.Prompt = t
		c.templateReads(pc, exprs, head)
	}
	skip := c.emitSynth(vm.OpJump, 0, head) // never taken: MENU always suspends
	c.suspend = append(c.suspend, pc)
	pcs, jumps := c.branches(cmd.Block)
	c.suspend = c.suspend[:len(c.suspend)-1]
	for br, bpc := range pcs {
		l := br.Label
		switch {
		case l.Else:
			m.ElsePC = bpc
		case l.Timeout != "":
			m.Timeout, m.TimeoutPC = c.info.Timeout(l), bpc
		case l.On != "":
		default:
			key := l.Key
			if strings.HasPrefix(key, `"`) {
				key, _ = strconv.Unquote(key)
			}
			m.Keys = append(m.Keys, vm.MenuKey{Key: vm.NormaliseKey(key), PC: bpc})
		}
	}
	sort.Slice(m.Keys, func(i, j int) bool { return m.Keys[i].PC < m.Keys[j].PC })
	c.p.Menus[idx] = m
	end := c.here()
	c.patch(skip, end)
	for _, j := range jumps {
		c.patch(j, end)
	}
	c.noteBlock(kind, pc, end, pcs)
	if kind == "gather" {
		c.gatherMissing(m, head) // voice.go
		return
	}
	if m.ElsePC < 0 {
		c.missing = append(c.missing, missing{span: head, msg: "menu without else: a reply matching no key is not handled"})
	}
	if m.TimeoutPC < 0 {
		c.missing = append(c.missing, missing{span: head, msg: "menu without timeout: a contact who never answers leaves the conversation waiting forever"})
	}
}

func (c *compiler) ask(cmd *syntax.Command, b check.Bound, head file.Span) {
	a := vm.Ask{Var: b.Tags["as"].Tok, TimeoutPC: -1}
	idx := len(c.p.Asks)
	c.p.Asks = append(c.p.Asks, a)
	pc := c.emit(vm.OpAsk, idx, head)
	t, exprs := c.template(b.Positional[0])
	a.Prompt = t
	c.templateReads(pc, exprs, head)
	cont := c.emitSynth(vm.OpJump, 0, head) // resume lands here: skip the timeout body
	c.suspend = append(c.suspend, pc)
	pcs, jumps := c.branches(cmd.Block)
	c.suspend = c.suspend[:len(c.suspend)-1]
	for br, bpc := range pcs {
		if br.Label.Timeout != "" {
			a.Timeout, a.TimeoutPC = c.info.Timeout(br.Label), bpc
		}
	}
	c.p.Asks[idx] = a
	end := c.here()
	c.patch(cont, end)
	for _, j := range jumps {
		c.patch(j, end)
	}
	c.noteBlock("ask", pc, end, pcs)
	if a.TimeoutPC < 0 {
		c.missing = append(c.missing, missing{span: head, msg: "ask without timeout: a contact who never answers leaves the conversation waiting forever"})
	}
}

func (c *compiler) run(cmd *syntax.Command, b check.Bound, head file.Span) {
	call := b.Positional[0]
	decl, ok := c.info.Applets[call.Tok]
	if !ok {
		return // reported by check
	}
	ai, seen := c.applets[call.Tok]
	if !seen {
		// From the flow's own directory (or deploy bundle) only, never
		// more than check.MaxAppletBytes: see lang/check/paths.go.
		src, err := check.ReadApplet(c.f.Source.Files(), decl.File)
		if err != nil {
			c.diags.Errorf(decl.Span, CodeType, "applet %s: %v", call.Tok, err)
			return
		}
		if _, err := applet.Compile(call.Tok, decl.Path, src); err != nil {
			c.appletError(decl, src, err)
			return
		}
		c.p.Applets = append(c.p.Applets, vm.Applet{Name: call.Tok, Path: decl.Path, Source: src})
		ai = len(c.p.Applets) - 1
		c.applets[call.Tok] = ai
	}
	r := vm.RunCall{Applet: ai, ErrorPC: -1}
	if v := b.Tags["as"]; v != nil {
		r.As = v.Tok
	}
	idx := len(c.p.Runs)
	c.p.Runs = append(c.p.Runs, r)
	pc := c.emit(vm.OpRun, idx, head)
	// Arguments: as check split them.
	for _, arg := range check.CallArgs(call) {
		e := c.expr(arg.Text, arg.Offset, runtime.Value, c.f.Source.Span(arg.Offset, arg.Offset+len(arg.Text)))
		r.Args = append(r.Args, e)
		c.noteReads(pc, e, head)
	}
	c.runBranches(idx, r, cmd.Block, head)
}

// runBranches finishes the RUN of Runs[idx] (an applet's or an http
// step's): the jump that skips its branches when it goes on, the
// branches, the routes they give r (stored back at idx) and the jumps
// that bring each branch back to after the step.
func (c *compiler) runBranches(idx int, r vm.RunCall, blk *syntax.Block, head file.Span) {
	cont := c.emitSynth(vm.OpJump, 0, head)
	pcs, jumps := c.branches(blk)
	c.runRoutes(&r, pcs, head)
	c.p.Runs[idx] = r
	end := c.here()
	c.patch(cont, end)
	for _, j := range jumps {
		c.patch(j, end)
	}
}

// runRoutes fills in a run's `on error` branch and the routes its
// applet's result picks among (in source order, as the VM tries them).
func (c *compiler) runRoutes(r *vm.RunCall, pcs map[*syntax.Branch]int, head file.Span) {
	hasElse := false
	for br, bpc := range pcs {
		l := br.Label
		switch {
		case l.On == "error":
			r.ErrorPC = bpc
		case l.On != "" || l.Timeout != "":
		case l.Else:
			hasElse = true
			r.Routes = append(r.Routes, vm.Route{Else: true, PC: bpc})
		default:
			key := l.Key
			if strings.HasPrefix(key, `"`) {
				key, _ = strconv.Unquote(key)
			}
			r.Routes = append(r.Routes, vm.Route{Key: vm.NormaliseKey(key), PC: bpc})
		}
	}
	sort.Slice(r.Routes, func(i, j int) bool { return r.Routes[i].PC < r.Routes[j].PC })
	if len(r.Routes) > 0 && !hasElse {
		c.missing = append(c.missing, missing{span: head, msg: "run without else: a result naming no route goes on after the run"})
	}
}

// appletError reports a JavaScript applet that does not compile, at its
// line and column in the .js file.
func (c *compiler) appletError(decl check.AppletDecl, src []byte, err error) {
	var se *applet.SyntaxError
	if errors.As(err, &se) {
		js := file.NewSource(decl.Path, string(src))
		off := js.Offset(se.Line, se.Col)
		d := c.diags.Errorf(js.Span(off, off+1), CodeApplet, "applet %s: %s", decl.Name, se.Msg)
		d.Hint = "declared at " + decl.Span.String()
		return
	}
	c.diags.Errorf(decl.Span, CodeApplet, "applet %s: %v", decl.Name, err)
}
