package compiler

import (
	"time"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/vm"
)

// The call applets (vm/voice.go): say, play and text are steps; gather
// is a menu of digits; ring and voicemail suspend for the provider's
// callback, ring with its answered / no-answer / busy branches laid out
// as a queue's.

// channel is the program's Channel: "voice" for a call flow, "" for an
// SMS flow (as every program before call flows).
func channel(info *check.Info) string {
	if info.IsVoice() {
		return registry.Voice
	}
	return ""
}

func (c *compiler) voice(cmd *syntax.Command, b check.Bound, sp, head file.Span) {
	switch cmd.Name.Value {
	case "say":
		t, exprs := c.template(b.Positional[0])
		c.p.Says = append(c.p.Says, vm.Say{Template: t, Voice: tagText(b, "voice"), Language: tagText(b, "language")})
		pc := c.emit(vm.OpSay, len(c.p.Says)-1, sp)
		c.templateReads(pc, exprs, sp)
	case "play":
		c.emit(vm.OpPlay, c.constant(b.Positional[0].Text()), sp)
	case "text":
		t, exprs := c.template(b.Positional[0])
		pc := c.emit(vm.OpText, t, sp)
		c.templateReads(pc, exprs, sp)
	case "hangup":
		c.emit(vm.OpHangup, 0, sp)
	case "voicemail":
		v := vm.Voicemail{Max: vm.DefaultVoicemailLength, Transcribe: b.Positional[0] != nil}
		if t := b.Tags["max"]; t != nil {
			v.Max, _ = check.ParseDuration(t.Tok) // check reports a bad one
		}
		c.p.Voicemails = append(c.p.Voicemails, v)
		c.emit(vm.OpVoicemail, len(c.p.Voicemails)-1, head)
	case "gather":
		voice, lang := tagText(b, "voice"), tagText(b, "language")
		c.keyMenu(cmd, b, head, "gather", func(idx int) int {
			c.p.Gathers = append(c.p.Gathers, vm.Gather{Menu: idx, Voice: voice, Language: lang})
			return c.emit(vm.OpGather, len(c.p.Gathers)-1, head)
		})
	case "ring":
		c.ring(cmd, b, head)
	}
}

func tagText(b check.Bound, name string) string {
	if v := b.Tags[name]; v != nil {
		return v.Text()
	}
	return ""
}

// ring compiles `ring user:X | team:X [all | in order] [for DUR] < on
// answered -> … ; on no-answer -> … ; on busy -> … >`. An unwritten `on
// no-answer` goes on after the block (`ring team:a then voicemail`), an
// unwritten `on busy` as no answer, and an unwritten `on answered` ends
// the call when the person who answered hangs up.
func (c *compiler) ring(cmd *syntax.Command, b check.Bound, head file.Span) {
	who := b.Positional[0]
	r := vm.Ring{Target: vm.Target{Kind: who.TargetKind(), Name: who.Text()}, InOrder: b.Tags["in"] != nil,
		Timeout: vm.DefaultRingTimeout, AnsweredPC: -1}
	if b.Positional[1] != nil && r.InOrder {
		c.diags.Errorf(c.f.Span(b.Positional[1]), CodeType, "ring: all and in order are two ways to ring a team; choose one")
	}
	if t := b.Tags["for"]; t != nil {
		r.Timeout, _ = check.ParseDuration(t.Tok)
		if r.Timeout > 10*time.Minute {
			c.diags.Errorf(c.f.Span(t), CodeType, "ring: a ring lasts at most 10m (the provider's limit)")
		}
	}
	idx := len(c.p.Rings)
	c.p.Rings = append(c.p.Rings, r)
	pc := c.emit(vm.OpRing, idx, head)
	skip := c.emitSynth(vm.OpJump, 0, head) // where a missing no-answer goes: after the block
	pcs, jumps := c.branches(cmd.Block)
	for br, bpc := range pcs {
		switch br.Label.On {
		case "answered":
			r.AnsweredPC, r.Written[0] = bpc, true
		case "no-answer":
			r.NoAnswerPC, r.Written[1] = bpc, true
		case "busy":
			r.BusyPC, r.Written[2] = bpc, true
		}
	}
	if !r.Written[1] {
		r.NoAnswerPC = skip
	}
	if !r.Written[2] {
		r.BusyPC = r.NoAnswerPC
	}
	c.p.Rings[idx] = r
	end := c.here()
	c.patch(skip, end)
	for _, j := range jumps {
		c.patch(j, end)
	}
	c.noteBlock("ring", pc, end, pcs)
}

// ringOrigins are the outcomes of the ring at pc whose path must still
// do something for the caller: nobody answered, or the line was busy.
func ringOrigins(p *vm.Program, pc int) []int {
	var out []int
	for _, o := range p.RingOutcomes(pc) {
		if o.Kind != vm.BranchAnswered {
			out = append(out, o.Target)
		}
	}
	return out // an unwritten busy goes where no answer goes
}

// callDeadEnd says more of a call flow's dead end that starts where a
// ring without `on no-answer` goes on (nothing after it for the
// caller), or after a voicemail (the recording reaches nobody): a
// message, when it is not the usual one, and the hint.
func (c *compiler) callDeadEnd(where int) (msg, hint string) {
	for _, r := range c.p.Rings {
		if r.NoAnswerPC == where && !r.Written[1] {
			return "", "when nobody answers, nothing more happens: add `on no-answer -> voicemail then inbox team:…` " +
				"(or steps after the ring: ring team:sales then voicemail …)"
		}
	}
	if where > 0 && c.p.Code[where-1] == vm.OpVoicemail {
		return "dead end: the voicemail recorded here reaches nobody",
			"deliver it with `then inbox team:…` or `then forward email:\"…\"`"
	}
	return "", ""
}

// gatherMissing notes a gather without else or timeout, as a menu's.
func (c *compiler) gatherMissing(m vm.Menu, head file.Span) {
	if m.ElsePC < 0 {
		c.missing = append(c.missing, missing{span: head, msg: "gather without else: digits matching no key end the call"})
	}
	if m.TimeoutPC < 0 {
		c.missing = append(c.missing, missing{span: head, msg: "gather without timeout: a caller who presses nothing is left in silence"})
	}
}
