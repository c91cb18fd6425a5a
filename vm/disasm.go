package vm

import (
	"fmt"
	"strings"
)

// Disassemble renders the program as a readable listing, each
// instruction with its argument decoded and the source line it came from.
func (p *Program) Disassemble() string {
	var b strings.Builder
	fmt.Fprintf(&b, "; flow %s (%s) version %s\n", p.Name, p.File, shortVersion(p.Version))
	if len(p.Numbers) > 0 {
		fmt.Fprintf(&b, "; numbers %s\n", strings.Join(p.Numbers, ", "))
	}
	lastLine := 0
	for pc, op := range p.Code {
		loc := p.Locs[pc]
		if loc.Line != lastLine && loc.Line > 0 {
			fmt.Fprintf(&b, "%s:%d: %s\n", p.File, loc.Line, strings.TrimSpace(p.SourceLine(loc.Line)))
			lastLine = loc.Line
		}
		fmt.Fprintf(&b, "  %04d  %-10s %s\n", pc, op, p.describeArg(pc))
	}
	return b.String()
}

func shortVersion(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

func (p *Program) describeArg(pc int) string {
	arg := int(p.Args[pc])
	switch p.Code[pc] {
	case OpJump, OpJumpFalse:
		return fmt.Sprintf("%04d", arg)
	case OpTest:
		return p.Exprs[arg].Source
	case OpReply:
		return fmt.Sprintf("%q", p.templateSource(arg))
	case OpInbox:
		t := p.Targets[arg]
		if t.Strategy != "" {
			return t.String() + " by " + t.Strategy
		}
		return t.String()
	case OpForward:
		return p.Targets[arg].String()
	case OpInboxExpr, OpForwardExpr:
		c := p.Computed[arg]
		s := c.String(p)
		if c.Strategy != "" {
			s += " by " + c.Strategy
		}
		if c.ErrorPC >= 0 {
			s += fmt.Sprintf(" on error %04d", c.ErrorPC)
		}
		return s
	case OpTag:
		return fmt.Sprintf("%q", p.Consts[arg])
	case OpSet:
		s := p.Sets[arg]
		return s.Var + " = " + p.Exprs[s.Expr].Source
	case OpRun:
		r := p.Runs[arg]
		if h := p.Applets[r.Applet].HTTP; h != nil {
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
		for _, rt := range r.Routes {
			if rt.Else {
				s += fmt.Sprintf(" else→%04d", rt.PC)
			} else {
				s += fmt.Sprintf(" %q→%04d", rt.Key, rt.PC)
			}
		}
		if r.ErrorPC >= 0 {
			s += fmt.Sprintf(" on error %04d", r.ErrorPC)
		}
		return s
	case OpMenu:
		m := p.Menus[arg]
		var parts []string
		if m.Prompt >= 0 {
			parts = append(parts, fmt.Sprintf("%q", p.templateSource(m.Prompt)))
		}
		for _, k := range m.Keys {
			parts = append(parts, fmt.Sprintf("%s→%04d", k.Key, k.PC))
		}
		if m.TimeoutPC >= 0 {
			parts = append(parts, fmt.Sprintf("timeout %s→%04d", m.Timeout, m.TimeoutPC))
		}
		if m.ElsePC >= 0 {
			parts = append(parts, fmt.Sprintf("else→%04d", m.ElsePC))
		}
		return strings.Join(parts, " ")
	case OpAsk:
		a := p.Asks[arg]
		s := fmt.Sprintf("%q as %s", p.templateSource(a.Prompt), a.Var)
		if a.TimeoutPC >= 0 {
			s += fmt.Sprintf(" timeout %s→%04d", a.Timeout, a.TimeoutPC)
		}
		return s
	case OpRetry:
		r := p.Retries[arg]
		return fmt.Sprintf("%d× → %04d", r.Times, r.PC)
	case OpQueue:
		return p.Queues[arg].describe()
	}
	return p.describeEffect(p.Code[pc], arg)
}

func (p *Program) templateSource(i int) string {
	var b strings.Builder
	for _, part := range p.Templates[i].Parts {
		if part.Expr < 0 {
			b.WriteString(part.Lit)
		} else {
			b.WriteString("{{" + p.Exprs[part.Expr].Source + "}}")
		}
	}
	return b.String()
}
