package vm

import (
	"fmt"
	"time"
)

// The effects of the History issue that outlive a conversation: a
// reply sent at most once per period (`reply "…" once per 12h`), and the
// edits a flow makes to its contact (`untag`, `field`). Like every
// effect they leave the VM as actions; the server applies them in the
// message's transaction and vm/sim in memory, and both give them back
// to the next message (Options.Marks, the contact).

// FieldSet is `field "NAME" TEMPLATE`.
type FieldSet struct {
	Name     string
	Template int
}

// Once is `reply TEMPLATE once per PERIOD`.
type Once struct {
	Template int
	Period   time.Duration
	// Mark names the reply across conversations and deploys: a hash of
	// its text as written (OnceMark).
	Mark string
}

// execEffect runs one of this file's instructions; it reports false for
// an opcode it does not know.
func (m *machine) execEffect(pc int, op Opcode, arg int) bool {
	p := m.p
	switch op {
	case OpUntag:
		m.trace(pc, "")
		m.emit(Action{Kind: ActUntag, Text: p.Consts[arg], PC: pc})
	case OpField:
		f := p.Fields[arg]
		v := m.render(pc, f.Template)
		if len(v) > MaxStringBytes { // kept for every later message: bounded as a variable's string is
			m.fail(pc, fmt.Errorf("field %s: value of %d bytes is over the limit of %d; it is not set", f.Name, len(v), MaxStringBytes))
			return true
		}
		m.trace(pc, "")
		m.emit(Action{Kind: ActField, Var: f.Name, Text: v, PC: pc})
	case OpReplyOnce:
		o := p.Onces[arg]
		if at, ok := m.opts.Marks[o.Mark]; ok && m.now.Sub(at) < o.Period && !at.After(m.now) {
			m.trace(pc, m.note("not sent: sent to this contact ", at.In(p.Location()).Format(time.RFC3339),
				", once per ", FormatDuration(o.Period), " (again from ", at.Add(o.Period).In(p.Location()).Format(time.RFC3339), ")"))
			return true
		}
		text := m.render(pc, o.Template)
		if err := ReplyTooLong(text); err != nil {
			m.fail(pc, fmt.Errorf("%v; it is not sent", err))
			return true
		}
		m.trace(pc, "")
		m.emit(Action{Kind: ActReply, Text: text, Var: o.Mark, Deadline: m.now, PC: pc})
	default:
		return false
	}
	return true
}

// effectIndex checks the operand of one of this file's instructions;
// known is false for an opcode it does not know.
func (p *Program) effectIndex(op Opcode, a int) (ok, known bool) {
	switch op {
	case OpUntag:
		return a >= 0 && a < len(p.Consts), true
	case OpField:
		return a >= 0 && a < len(p.Fields) && p.Fields[a].Template >= 0 && p.Fields[a].Template < len(p.Templates), true
	case OpReplyOnce:
		return a >= 0 && a < len(p.Onces) && p.Onces[a].Template >= 0 && p.Onces[a].Template < len(p.Templates), true
	}
	return false, false
}

// describeEffect renders the operand of one of this file's instructions.
func (p *Program) describeEffect(op Opcode, arg int) string {
	switch op {
	case OpUntag:
		return fmt.Sprintf("%q", p.Consts[arg])
	case OpField:
		f := p.Fields[arg]
		return fmt.Sprintf("%q = %q", f.Name, p.templateSource(f.Template))
	case OpReplyOnce:
		o := p.Onces[arg]
		return fmt.Sprintf("%q once per %s", p.templateSource(o.Template), FormatDuration(o.Period))
	}
	return p.describeVoice(op, arg) // voice.go
}
