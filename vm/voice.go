package vm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Call flows run on the same machine as SMS flows: a call is a
// conversation whose first event is EventCall, and the steps that wait
// for the provider (gather: the digits; ring: the dial's status;
// voicemail: the recording) suspend exactly as a menu does, their State
// stored between callbacks. What the caller hears and who is rung go
// out as actions (ActSay, ActPlay, ActGather, ActDial, ActRecord,
// ActHangup, ActText), data a server renders as TwiML; the VM never
// talks to a provider.

// Say is a `say` step: its text and how it is spoken.
type Say struct {
	Template        int
	Voice, Language string
}

// Gather is a `gather` step: a voice menu. Its keys, timeout, else and
// prompt are Menus[Menu], matched as a menu's; Voice and Language say
// how the prompt is spoken.
type Gather struct {
	Menu            int
	Voice, Language string
}

// Ring is a `ring` step: whom it rings, how, and where each outcome
// goes on. AnsweredPC is -1 when the flow wrote no `on answered`: the
// call is over once the person who answered hangs up. NoAnswerPC is the
// step after the block when unwritten, and BusyPC is NoAnswerPC then.
type Ring struct {
	Target                         Target // user or team
	InOrder                        bool
	Timeout                        time.Duration // each ring's
	AnsweredPC, NoAnswerPC, BusyPC int
	// Written says which branches the flow wrote: answered, no-answer, busy.
	Written [3]bool
}

// String is the ring as written: team:sales in order for 15s.
func (r Ring) String() string {
	how := "all"
	if r.InOrder {
		how = "in order"
	}
	return fmt.Sprintf("%s %s for %s", r.Target, how, FormatDuration(r.Timeout))
}

// DefaultRingTimeout is how long a ring lasts without `for`.
const DefaultRingTimeout = 20 * time.Second

// SilentRetries is how many times a gather without a `timeout` branch
// asks again when nothing is pressed, before the call ends.
const SilentRetries = 2

// DefaultGatherTimeout is how long a gather without `timeout` waits for
// digits (Twilio's own default).
const DefaultGatherTimeout = 5 * time.Second

// DefaultVoicemailLength is the longest voicemail without `max`.
const DefaultVoicemailLength = 2 * time.Minute

// Voicemail is a `voicemail` step.
type Voicemail struct {
	Max        time.Duration
	Transcribe bool
}

// VoiceAction is what a call's action says besides Text and Target.
type VoiceAction struct {
	Voice, Language string
	Members         []string      // ActDial: the users rung now (one, ringing in order)
	InOrder         bool          // ActDial: one of Members after another (this action rings the next)
	Timeout         time.Duration // ActGather: the wait for digits; ActDial: each ring
	Length          time.Duration // ActRecord: the longest recording; ActRecorded: its length
	Transcribe      bool          // ActRecord
	// Digits is how many keys a gather's every choice has (0: they
	// differ), so the provider ends the gather at the last key pressed
	// rather than waiting out its timeout.
	Digits int
}

// keyDigits is how many digits each of the menu's keys has, when all
// have as many (0 otherwise, or when one is not all digits).
func keyDigits(menu *Menu) int {
	n := 0
	for i, k := range menu.Keys {
		if k.Key == "" || strings.Trim(k.Key, "0123456789*#") != "" || (i > 0 && len(k.Key) != n) {
			return 0
		}
		n = len(k.Key)
	}
	return n
}

// CallEvent is what a provider's callback tells: a dial's status and
// who answered, a recording.
type CallEvent struct {
	Status    string // EventDial: "answered", "no-answer", "busy" or "failed"
	Member    string // EventDial: the user who answered (or was rung)
	Recording string // EventRecorded: the recording's URL
	Length    time.Duration
}

// RingState is a ring in progress: everyone it rings and how many have
// been rung so far.
type RingState struct {
	Members []string `json:"members"`
	Next    int      `json:"next"`
}

// Ringer is implemented by an Env that knows a team's members in their
// order (the directory's). An Env without it rings a team as one
// target, in one dial, and a `ring … in order` then rings it once.
type Ringer interface {
	TeamMembers(team string) []string
}

func isVoiceWait(op Opcode) bool { return op == OpGather || op == OpRing || op == OpVoicemail }

// execVoice runs one of the call steps: it returns the next pc, or the
// result when the call waits or is over.
func (m *machine) execVoice(pc int, op Opcode, arg int) (int, *Result) {
	p := m.p
	switch op {
	case OpSay:
		s := &p.Says[arg]
		m.trace(pc, "")
		m.emit(Action{Kind: ActSay, Text: m.render(pc, s.Template), PC: pc, Voice: &VoiceAction{Voice: s.Voice, Language: s.Language}})
	case OpPlay:
		m.trace(pc, "")
		m.emit(Action{Kind: ActPlay, Text: p.Consts[arg], PC: pc})
	case OpText:
		text := m.render(pc, arg)
		if err := ReplyTooLong(text); err != nil {
			m.fail(pc, fmt.Errorf("%v; it is not sent", err))
			break
		}
		m.trace(pc, "")
		m.emit(Action{Kind: ActText, Text: text, PC: pc})
	case OpHangup:
		m.trace(pc, "")
		m.emit(Action{Kind: ActHangup, PC: pc})
		return 0, m.finishResult()
	case OpGather:
		g := &p.Gathers[arg]
		menu := &p.Menus[g.Menu]
		prompt := ""
		if menu.Prompt >= 0 {
			prompt = m.render(pc, menu.Prompt)
		}
		m.trace(pc, "waiting for digits")
		m.emit(Action{Kind: ActGather, Text: prompt, PC: pc, Voice: &VoiceAction{Voice: g.Voice, Language: g.Language, Timeout: menu.Timeout, Digits: keyDigits(menu)}})
		res, _ := m.suspend(pc, menu.Timeout, menu.TimeoutPC)
		return 0, res
	case OpVoicemail:
		v := &p.Voicemails[arg]
		m.trace(pc, "recording a voicemail")
		m.emit(Action{Kind: ActRecord, PC: pc, Voice: &VoiceAction{Length: v.Max, Transcribe: v.Transcribe}})
		res, _ := m.suspend(pc, 0, -1)
		return 0, res
	case OpRing:
		r := &p.Rings[arg]
		if m.redial { // resumeVoice: the next one in order
			m.redial = false
			return 0, m.dial(pc, r)
		}
		members := m.ringMembers(r)
		if len(members) == 0 {
			m.branch(pc, m.note("nobody to ring in ", r.Target.String()), Outcome{Kind: BranchNoAnswer, Target: r.NoAnswerPC})
			return r.NoAnswerPC, nil
		}
		m.stv.Ring = &RingState{Members: members}
		return 0, m.dial(pc, r)
	}
	return pc + 1, nil
}

// ringMembers are the users a ring rings: the user, or the team's
// members in order (nil when the Env cannot tell: the team is rung as
// one target).
func (m *machine) ringMembers(r *Ring) []string {
	if r.Target.Kind == "user" {
		return []string{r.Target.Name}
	}
	if rg, ok := m.env.(Ringer); ok {
		return rg.TeamMembers(r.Target.Name)
	}
	return []string{"team:" + r.Target.Name}
}

// dial rings the next members of the ring in progress (all of them, or
// the next one in order) and waits for the dial's status.
func (m *machine) dial(pc int, r *Ring) *Result {
	rs := m.stv.Ring
	if rs.Next < 0 || rs.Next >= len(rs.Members) { // a stored state that says otherwise is not to be trusted
		m.stv.Ring = nil
		return m.finishResult()
	}
	now := rs.Members[rs.Next:]
	if r.InOrder {
		now = now[:1]
	}
	rs.Next += len(now)
	m.trace(pc, m.note("ringing ", strings.Join(now, ", ")))
	m.emit(Action{Kind: ActDial, Target: r.Target, PC: pc,
		Voice: &VoiceAction{Members: append([]string(nil), now...), InOrder: r.InOrder, Timeout: r.Timeout}})
	res, _ := m.suspend(pc, 0, -1)
	return res
}

func (m *machine) finishResult() *Result {
	res, _ := m.finish()
	return res
}

// resumeVoice continues a call waiting at a gather, ring or voicemail
// (ok false: the event changes nothing there). A ring in order that
// found nobody yet rings the next member: it waits again (pc is then
// the ring's own, and m.redial set).
func (m *machine) resumeVoice(ev *Event, at int, op Opcode, arg int) (int, bool) {
	p := m.p
	switch {
	case op == OpGather && (ev.Kind == EventDigits || ev.Kind == EventTimer):
		menu := &p.Menus[p.Gathers[arg].Menu]
		if ev.Kind == EventTimer && (m.stv.Deadline.IsZero() || m.now.Before(m.stv.Deadline)) {
			return 0, false
		}
		m.stv.Deadline = time.Time{}
		digits := strings.TrimSpace(ev.Message.Body)
		if (ev.Kind == EventTimer || digits == "") && menu.TimeoutPC < 0 {
			// No timeout branch: the caller is asked again, at most
			// SilentRetries times, and then the call ends; never left
			// waiting in silence.
			if used := m.stv.Retries[at]; used < SilentRetries {
				m.ownRetries()
				m.stv.Retries[at] = used + 1
				m.branch(at, m.note("nothing pressed: asked again, ", strconv.Itoa(used+1), " of ", strconv.Itoa(SilentRetries)), Outcome{Kind: BranchRetry, Target: at})
				return at, true
			}
			m.branch(at, "nothing pressed, no timeout branch: the call ends", Outcome{Kind: BranchExhausted, Target: -1})
			return -1, true
		}
		if ev.Kind == EventTimer || digits == "" {
			m.branch(at, "timeout", Outcome{Kind: BranchTimeout, Target: menu.TimeoutPC})
			return menu.TimeoutPC, menu.TimeoutPC >= 0
		}
		if target, key, found := m.matchKey(menu, digits); found {
			m.branch(at, m.note("pressed ", key), Outcome{Kind: BranchKey, Key: key, Target: target})
			return target, true
		}
		if menu.ElsePC >= 0 {
			m.branch(at, "else", Outcome{Kind: BranchElse, Target: menu.ElsePC})
			return menu.ElsePC, true
		}
		m.branch(at, "no branch for these digits", Outcome{Kind: BranchUnmatched, Target: -1})
		return -1, true
	case op == OpRing && ev.Kind == EventDial:
		r := &p.Rings[arg]
		status := ev.Call.Status
		if status == "answered" {
			m.stv.Ring = nil
			m.branch(at, m.note("answered by ", ev.Call.Member), Outcome{Kind: BranchAnswered, Target: r.AnsweredPC})
			return r.AnsweredPC, true
		}
		if rs := m.stv.Ring; rs != nil && rs.Next > 0 && rs.Next < len(rs.Members) {
			m.trace(at, m.note(status, ": ringing the next"))
			m.stv.Ring = &RingState{Members: rs.Members, Next: rs.Next} // the caller's state is never changed
			m.redial = true
			return at, true
		}
		m.stv.Ring = nil
		if status == "busy" {
			m.branch(at, "busy", Outcome{Kind: BranchBusy, Target: r.BusyPC})
			return r.BusyPC, true
		}
		m.branch(at, "no answer", Outcome{Kind: BranchNoAnswer, Target: r.NoAnswerPC})
		return r.NoAnswerPC, true
	case op == OpVoicemail && ev.Kind == EventRecorded:
		m.branch(at, m.note("recorded ", FormatDuration(ev.Call.Length)), Outcome{Kind: BranchAnswer, Target: at + 1})
		m.emit(Action{Kind: ActRecorded, Text: ev.Call.Recording, PC: at, Voice: &VoiceAction{Length: ev.Call.Length}})
		return at + 1, true
	}
	return 0, false
}

func (a Action) voiceString() string {
	v := a.Voice
	if v == nil {
		v = &VoiceAction{}
	}
	switch a.Kind {
	case ActSay:
		return fmt.Sprintf("say %q", a.Text) + voiceOf(v)
	case ActPlay:
		return fmt.Sprintf("play %q", a.Text)
	case ActGather:
		return fmt.Sprintf("gather %q", a.Text) + voiceOf(v)
	case ActDial:
		how := "all"
		if v.InOrder {
			how = "in order"
		}
		return fmt.Sprintf("ring %s (%s) %s for %s", strings.Join(v.Members, ", "), a.Target, how, FormatDuration(v.Timeout))
	case ActRecord:
		s := "voicemail max " + FormatDuration(v.Length)
		if v.Transcribe {
			s += " transcribe"
		}
		return s
	case ActRecorded:
		return fmt.Sprintf("recorded %s %q", FormatDuration(v.Length), a.Text)
	case ActHangup:
		return "hangup"
	case ActText:
		return fmt.Sprintf("text %q", a.Text)
	}
	return "?"
}

func voiceOf(v *VoiceAction) string {
	s := ""
	if v.Voice != "" {
		s += fmt.Sprintf(" voice %q", v.Voice)
	}
	if v.Language != "" {
		s += fmt.Sprintf(" language %q", v.Language)
	}
	return s
}

// voiceIndex checks the operand of a call step; known is false for an
// opcode that is not one.
func (p *Program) voiceIndex(op Opcode, a int) (ok, known bool) {
	in := func(i, n int) bool { return i >= 0 && i < n }
	pcOK := func(pc int) bool { return pc >= -1 && pc <= len(p.Code) }
	switch op {
	case OpSay:
		return in(a, len(p.Says)) && in(p.Says[a].Template, len(p.Templates)), true
	case OpPlay:
		return in(a, len(p.Consts)), true
	case OpText:
		return in(a, len(p.Templates)), true
	case OpHangup:
		return true, true
	case OpGather:
		return in(a, len(p.Gathers)) && in(p.Gathers[a].Menu, len(p.Menus)), true
	case OpRing:
		if !in(a, len(p.Rings)) {
			return false, true
		}
		r := p.Rings[a]
		return pcOK(r.AnsweredPC) && pcOK(r.NoAnswerPC) && pcOK(r.BusyPC), true
	case OpVoicemail:
		return in(a, len(p.Voicemails)), true
	}
	return false, false
}

// describeVoice renders a call step's operand for the disassembler.
func (p *Program) describeVoice(op Opcode, arg int) string {
	switch op {
	case OpSay:
		return fmt.Sprintf("%q", p.templateSource(p.Says[arg].Template))
	case OpPlay:
		return fmt.Sprintf("%q", p.Consts[arg])
	case OpText:
		return fmt.Sprintf("%q", p.templateSource(arg))
	case OpGather:
		return fmt.Sprintf("menu %d", p.Gathers[arg].Menu)
	case OpRing:
		r := p.Rings[arg]
		return fmt.Sprintf("%s answered→%04d no-answer→%04d busy→%04d", r, r.AnsweredPC, r.NoAnswerPC, r.BusyPC)
	case OpVoicemail:
		return "max " + FormatDuration(p.Voicemails[arg].Max)
	}
	return ""
}

// RingOutcome is one way a call leaves a ring step.
type RingOutcome struct {
	Target int
	Kind   BranchKind // BranchAnswered, BranchNoAnswer, BranchBusy
	Label  string     // "on answered", "on no-answer", "on busy"
}

// RingOutcomes lists where a RING at pc can continue: answered (-1: the
// call is over), no answer, and busy when the flow wrote it.
func (p *Program) RingOutcomes(pc int) []RingOutcome {
	r := &p.Rings[p.Args[pc]]
	out := []RingOutcome{{r.AnsweredPC, BranchAnswered, "on answered"}, {r.NoAnswerPC, BranchNoAnswer, "on no-answer"}}
	if r.Written[2] {
		out = append(out, RingOutcome{r.BusyPC, BranchBusy, "on busy"})
	}
	return out
}

// Served is the numbers the program serves: a call flow's calls
// (CallNumbers), an SMS flow's texts (Numbers).
func (p *Program) Served() []string {
	if p.Channel == "voice" {
		return p.CallNumbers
	}
	return p.Numbers
}
