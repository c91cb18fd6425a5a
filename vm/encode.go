package vm

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
)

// Magic starts every serialised program; FormatVersion is bumped whenever
// the encoding or the instruction set changes. A file of a newer version
// is refused rather than misread (an older flowc would silently drop what
// it does not know, e.g. a run's routes); files of older versions this
// flowc still understands (MinFormatVersion and up) are read, so that the
// programs a server stored before an upgrade keep running.
const (
	Magic            = "FLOWC\x00"
	FormatVersion    = uint16(5) // 2: run routes (RunCall.Routes); 3: computed targets (Computed, INBOX_EXPR, FORWARD_EXPR), http steps, untag, field, once-per replies; 4: queues (Queues, QUEUE); 5: call flows (Channel, CallNumbers, Says, Gathers, Rings, Voicemails; SAY … TEXT)
	MinFormatVersion = uint16(1) // 1 decodes as 2 without routes
)

// ErrFormat is returned for data that is not a serialised program.
var ErrFormat = errors.New("vm: not a compiled flowc program")

// Encode writes p in the versioned binary form: magic, format version,
// then the program (gob). Compiled expressions are not written: Decode
// recompiles them from their source.
func (p *Program) Encode(w io.Writer) error {
	var buf bytes.Buffer
	buf.WriteString(Magic)
	if err := binary.Write(&buf, binary.BigEndian, FormatVersion); err != nil {
		return err
	}
	if err := gob.NewEncoder(&buf).Encode(p); err != nil {
		return fmt.Errorf("vm: encode: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Decode reads a program written by Encode. The caller must then link it
// (compiler.Link) to rebuild its expressions before running it.
func Decode(r io.Reader) (*Program, error) {
	head := make([]byte, len(Magic)+2)
	if _, err := io.ReadFull(r, head); err != nil || string(head[:len(Magic)]) != Magic {
		return nil, ErrFormat
	}
	if v := binary.BigEndian.Uint16(head[len(Magic):]); v < MinFormatVersion || v > FormatVersion {
		return nil, fmt.Errorf("vm: compiled with format version %d; this flowc reads versions %d to %d: recompile the flow", v, MinFormatVersion, FormatVersion)
	}
	var p Program
	if err := gob.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("vm: decode: %w", err)
	}
	if len(p.Code) != len(p.Args) || len(p.Code) != len(p.Locs) {
		return nil, fmt.Errorf("vm: decode: corrupt program (code, args and locations differ in length)")
	}
	if err := p.checkIndices(); err != nil {
		return nil, fmt.Errorf("vm: decode: corrupt program: %v", err)
	}
	return &p, nil
}

// checkIndices verifies that every index a program holds (an
// instruction's operand, a jump target, a template's expression, …) is
// in range, so that a corrupt or forged file is refused when it is
// loaded instead of crashing the VM on the first message that reaches
// the bad instruction.
func (p *Program) checkIndices() error {
	pc := func(n int) bool { return n >= 0 && n < len(p.Code) }
	pcOrNone := func(n int) bool { return n < 0 || pc(n) } // negative: none, as the VM reads it
	expr := func(n int) bool { return n >= 0 && n < len(p.Exprs) }
	tmpl := func(n int) bool { return n >= 0 && n < len(p.Templates) }
	in := func(n, length int) bool { return n >= 0 && n < length }
	for i, op := range p.Code {
		a := int(p.Args[i])
		ok := true
		switch op {
		case OpHalt, OpEnd:
		case OpJump, OpJumpFalse:
			ok = pc(a)
		case OpTest:
			ok = expr(a)
		case OpReply:
			ok = tmpl(a)
		case OpInbox, OpForward:
			ok = in(a, len(p.Targets))
		case OpInboxExpr, OpForwardExpr:
			ok = in(a, len(p.Computed))
		case OpTag:
			ok = in(a, len(p.Consts))
		case OpSet:
			ok = in(a, len(p.Sets))
		case OpRun:
			ok = in(a, len(p.Runs))
		case OpMenu:
			ok = in(a, len(p.Menus))
		case OpAsk:
			ok = in(a, len(p.Asks))
		case OpRetry:
			ok = in(a, len(p.Retries))
		case OpQueue:
			ok = in(a, len(p.Queues))
		default:
			var known bool
			if ok, known = p.effectIndex(op, a); !known {
				ok, known = p.voiceIndex(op, a) // voice.go
			}
			if !known {
				return fmt.Errorf("instruction %d: unknown opcode %d", i, op)
			}
		}
		if !ok {
			return fmt.Errorf("instruction %d (%s): operand %d out of range", i, op, a)
		}
	}
	if err := p.checkHTTP(); err != nil {
		return err
	}
	for i, t := range p.Templates {
		for _, part := range t.Parts {
			if part.Expr >= 0 && !expr(part.Expr) {
				return fmt.Errorf("template %d: expression %d out of range", i, part.Expr)
			}
		}
	}
	for i, c := range p.Computed {
		if !expr(c.Expr) || !pcOrNone(c.ErrorPC) {
			return fmt.Errorf("computed target %d: index out of range", i)
		}
	}
	for i, s := range p.Sets {
		if !expr(s.Expr) {
			return fmt.Errorf("set %d: expression %d out of range", i, s.Expr)
		}
	}
	for i, m := range p.Menus {
		if (m.Prompt >= 0 && !tmpl(m.Prompt)) || !pcOrNone(m.TimeoutPC) || !pcOrNone(m.ElsePC) {
			return fmt.Errorf("menu %d: index out of range", i)
		}
		for _, k := range m.Keys {
			if !pc(k.PC) {
				return fmt.Errorf("menu %d: key %q: target %d out of range", i, k.Key, k.PC)
			}
		}
	}
	for i, a := range p.Asks {
		if !tmpl(a.Prompt) || !pcOrNone(a.TimeoutPC) {
			return fmt.Errorf("ask %d: index out of range", i)
		}
	}
	for i, q := range p.Queues {
		if !pc(q.FullPC) || !pc(q.DonePC) || !pcOrNone(q.TimeoutPC) {
			return fmt.Errorf("queue %d: index out of range", i)
		}
	}
	for i, r := range p.Retries {
		if !pc(r.PC) {
			return fmt.Errorf("retry %d: target %d out of range", i, r.PC)
		}
	}
	for i, r := range p.Runs {
		if !in(r.Applet, len(p.Applets)) || !pcOrNone(r.ErrorPC) {
			return fmt.Errorf("run %d: index out of range", i)
		}
		for _, a := range r.Args {
			if !expr(a) {
				return fmt.Errorf("run %d: expression %d out of range", i, a)
			}
		}
		for _, rt := range r.Routes {
			if !pc(rt.PC) {
				return fmt.Errorf("run %d: route %q: target %d out of range", i, rt.Key, rt.PC)
			}
		}
	}
	return nil
}
