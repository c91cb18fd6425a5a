package vm

import (
	"fmt"
	"strings"
)

// Successors lists where control can go after pc, for graph walks
// (`flowc graph`, coverage). resume is true when the successors are only
// reached on a later event (a menu or ask waits for the next message).
func (p *Program) Successors(pc int) (next []int, resume bool) {
	arg := int(p.Args[pc])
	switch p.Code[pc] {
	case OpHalt, OpEnd:
		return nil, false
	case OpJump:
		return []int{arg}, false
	case OpJumpFalse:
		return []int{pc + 1, arg}, false
	case OpRun:
		for _, o := range p.RunOutcomes(pc) {
			next = append(next, o.Target)
		}
		return next, false
	case OpRetry:
		return []int{p.Retries[arg].PC, pc + 1}, false
	case OpInboxExpr, OpForwardExpr:
		if e := p.Computed[arg].ErrorPC; e >= 0 {
			return []int{pc + 1, e}, false
		}
	case OpMenu:
		return p.Menus[arg].successors(), true
	case OpGather:
		return p.Menus[p.Gathers[arg].Menu].successors(), true
	case OpRing:
		var out []int
		for _, o := range p.RingOutcomes(pc) {
			if o.Target >= 0 {
				out = append(out, o.Target)
			}
		}
		return out, true
	case OpVoicemail:
		return []int{pc + 1}, true
	case OpHangup:
		return nil, false
	case OpQueue:
		var out []int
		for _, o := range p.QueueOutcomes(pc) {
			out = append(out, o.Target)
		}
		return out, true
	case OpAsk:
		a := p.Asks[arg]
		out := []int{pc + 1}
		if a.TimeoutPC >= 0 {
			out = append(out, a.TimeoutPC)
		}
		return out, true
	}
	return []int{pc + 1}, false
}

// successors are where a menu (or a gather, whose keys are a menu's)
// goes on: each key, the timeout, else.
func (m *Menu) successors() []int {
	var out []int
	for _, k := range m.Keys {
		out = append(out, k.PC)
	}
	if m.TimeoutPC >= 0 {
		out = append(out, m.TimeoutPC)
	}
	if m.ElsePC >= 0 {
		out = append(out, m.ElsePC)
	}
	return out
}

// Describe renders pc's argument as the disassembler does (a reply's
// template source, a target, a menu's keys …).
func (p *Program) Describe(pc int) string { return p.describeArg(pc) }

// StepLabel renders pc's argument as the flow wrote it, for a drawing:
// Describe without the bytecode addresses of the branches (`on error
// 0002`, `"vip"→0004`), which a graph draws as edges.
func (p *Program) StepLabel(pc int) string {
	arg := int(p.Args[pc])
	switch p.Code[pc] {
	case OpRun:
		r := p.Runs[arg]
		if h := p.Applets[r.Applet].HTTP; h != nil {
			r.ErrorPC = -1
			return p.describeHTTP(r, h)
		}
		var args []string
		for _, e := range r.Args {
			args = append(args, p.Exprs[e].Source)
		}
		s := fmt.Sprintf("%s(%s)", p.Applets[r.Applet].Name, strings.Join(args, ", "))
		if r.As != "" {
			s += " as " + r.As
		}
		return s
	case OpInboxExpr, OpForwardExpr:
		c := p.Computed[arg]
		s := c.String(p)
		if c.Strategy != "" {
			s += " by " + c.Strategy
		}
		return s
	case OpJump, OpJumpFalse, OpMenu, OpRetry:
		return ""
	}
	return p.describeArg(pc)
}

// TemplateSource renders template i as written, {{expressions}} included.
func (p *Program) TemplateSource(i int) string {
	if i < 0 || i >= len(p.Templates) {
		return ""
	}
	return p.templateSource(i)
}

// RunOutcome is one way control leaves a RUN instruction.
type RunOutcome struct {
	Target int
	Kind   BranchKind // BranchRoute (Key), BranchElse, BranchOK (the call went on after the run), BranchError
	Key    string
	Label  string // for graphs: `"vip"`, "else", "ok", "on error"
}

// RunOutcomes lists where a RUN at pc can continue: each route the flow
// names, else or (without else) the step after the run, and its `on
// error` branch. This is the whole set: an applet's result only picks
// among them.
func (p *Program) RunOutcomes(pc int) []RunOutcome {
	r := p.Runs[p.Args[pc]]
	var out []RunOutcome
	hasElse := false
	for _, rt := range r.Routes {
		if rt.Else {
			hasElse = true
			out = append(out, RunOutcome{Target: rt.PC, Kind: BranchElse, Label: "else"})
		} else {
			out = append(out, RunOutcome{Target: rt.PC, Kind: BranchRoute, Key: rt.Key, Label: fmt.Sprintf("%q", rt.Key)})
		}
	}
	if !hasElse {
		label := "ok"
		if len(r.Routes) > 0 {
			label = "no route"
		}
		out = append(out, RunOutcome{Target: pc + 1, Kind: BranchOK, Label: label})
	}
	if r.ErrorPC >= 0 {
		out = append(out, RunOutcome{Target: r.ErrorPC, Kind: BranchError, Label: "on error"})
	}
	return out
}
