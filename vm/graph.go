package vm

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
		r := p.Runs[arg]
		if r.ErrorPC >= 0 {
			return []int{pc + 1, r.ErrorPC}, false
		}
		return []int{pc + 1}, false
	case OpRetry:
		return []int{p.Retries[arg].PC, pc + 1}, false
	case OpMenu:
		m := p.Menus[arg]
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

// Describe renders pc's argument as the disassembler does (a reply's
// template source, a target, a menu's keys …).
func (p *Program) Describe(pc int) string { return p.describeArg(pc) }

// TemplateSource renders template i as written, {{expressions}} included.
func (p *Program) TemplateSource(i int) string {
	if i < 0 || i >= len(p.Templates) {
		return ""
	}
	return p.templateSource(i)
}
