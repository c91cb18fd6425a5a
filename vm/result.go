package vm

import (
	"fmt"
	"maps"
	"time"
)

// What a run gives back: the actions (staged in the machine in a compact
// form and expanded into the Result at the end, see result), the trace
// and the Result that holds them, in one allocation sized to the run.

// ActionKind names an effect.
type ActionKind int

const (
	ActReply   ActionKind = iota // send Text to the contact (once per period: Var is its mark, Deadline now; effects.go)
	ActDeliver                   // put the message in Target's inbox
	ActForward                   // forward the message to Target (email, webhook)
	ActTag                       // tag the contact with Text
	ActSet                       // variable Var = Value
	ActWait                      // the conversation waits (until Deadline, if set)
	ActEnd                       // the conversation is over
	ActUntag                     // remove the tag Text from the contact (effects.go)
	ActField                     // set the contact's field Var to Text ("" removes it)
	ActQueue                     // the conversation entered Target's queue (Target.Strategy: the strategy)
	// A call's (voice.go; Voice holds the details):
	ActSay      // say Text (Voice.Voice, Voice.Language)
	ActPlay     // play the audio at Text
	ActGather   // collect digits: say Text while waiting, for Voice.Timeout
	ActDial     // ring Voice.Members (Target: the user or team) all at once or in order, each for Voice.Timeout
	ActRecord   // record a voicemail of at most Voice.Length (Voice.Transcribe)
	ActRecorded // the recording is at Text, Voice.Length long: the inbox and forward steps after it deliver it
	ActHangup   // end the call
	ActText     // send Text to the caller as an SMS, from the number called
)

var actionNames = [...]string{"reply", "deliver", "forward", "tag", "set", "wait", "end", "untag", "field", "queue",
	"say", "play", "gather", "dial", "record", "recorded", "hangup", "text"}

func (k ActionKind) String() string { return actionNames[k] }

// Action is one effect for the server to apply.
type Action struct {
	Kind     ActionKind
	Text     string
	Target   Target
	Var      string
	Value    any
	Deadline time.Time
	PC       int
	Voice    *VoiceAction // for a call's actions (voice.go)
}

func (a Action) String() string {
	switch a.Kind {
	case ActReply:
		return fmt.Sprintf("reply %q", a.Text)
	case ActDeliver:
		s := "inbox " + a.Target.String()
		if a.Target.Strategy != "" {
			s += " by " + a.Target.Strategy
		}
		return s
	case ActForward:
		return fmt.Sprintf("forward %s:%q", a.Target.Kind, a.Target.Name)
	case ActTag:
		return fmt.Sprintf("tag %q", a.Text)
	case ActSet:
		return fmt.Sprintf("set %s = %s", a.Var, formatValue(a.Value))
	case ActWait:
		if !a.Deadline.IsZero() {
			return "wait until " + a.Deadline.Format(time.RFC3339)
		}
		return "wait"
	case ActEnd:
		return "end"
	case ActUntag:
		return fmt.Sprintf("untag %q", a.Text)
	case ActField:
		return fmt.Sprintf("field %q = %q", a.Var, a.Text)
	case ActQueue:
		return "queue " + a.Target.String() + " " + a.Target.Strategy
	}
	return a.voiceString() // voice.go
}

func formatValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// TraceStep is one executed instruction.
type TraceStep struct {
	PC  int
	Op  Opcode
	Loc Loc
	// Note says what happened (the branch taken, an error) for people:
	// `flowc run --explain`, `flowc trace`. Its wording may change; code
	// reads Outcome.
	Note string
	// Outcome is the branch this step took, when it decided one.
	Outcome Outcome
}

// Result is what one Run decided.
type Result struct {
	Actions []Action
	State   *State // nil when the conversation is over
	Trace   []TraceStep
	Errors  []string    // runtime errors (each also in the trace)
	Logs    []AppletLog // applets' console output, with Options.AppletLogs (with Trace, also in the trace)
}

// runOutput is what a run gathers for Result besides its actions, state
// and trace (not a whole Result in the machine: 56 bytes less to zero per
// run).
type runOutput struct {
	Errors []string
	Logs   []AppletLog
}

// stagedAction is an action as the run gathers it: 48 bytes where an
// Action is 136, so that the machine, zeroed for every run, is smaller and
// staging an action writes a third of the bytes. It holds what the
// program does not: a reply's or a tag's text, a set's variable (text)
// and value. An inbox or forward names its target by its index in
// p.Targets (ref); a wait's deadline is the state's (suspend stages the
// wait last, then returns the result). result expands the staged actions
// into the caller's (expand). An action of another kind (emit) is kept
// whole in m.whole and staged as kind wholeAction, ref its index there.
type stagedAction struct {
	kind, pc, ref int32
	text          string
	value         any
}

const wholeAction = -1

// resultOnly and resultWith put a result, its actions and (when the
// conversation waits) its state in one allocation, sized to the run: a
// first message that suspends needs a state and two actions, a reply that
// ends the conversation three actions and no state.
type resultOnly[A any] struct {
	res  Result
	acts A
}

type resultWith[A any] struct {
	res  Result
	st   State
	acts A
}

func newResult(n int, withState bool) (*Result, *State, []Action) {
	if withState {
		switch n {
		case 0, 1:
			b := new(resultWith[[1]Action])
			return &b.res, &b.st, b.acts[:n]
		case 2:
			b := new(resultWith[[2]Action])
			return &b.res, &b.st, b.acts[:]
		case 3:
			b := new(resultWith[[3]Action])
			return &b.res, &b.st, b.acts[:]
		case 4:
			b := new(resultWith[[4]Action])
			return &b.res, &b.st, b.acts[:]
		}
		return new(Result), new(State), make([]Action, n)
	}
	switch n {
	case 0, 1:
		b := new(resultOnly[[1]Action])
		return &b.res, nil, b.acts[:n]
	case 2:
		b := new(resultOnly[[2]Action])
		return &b.res, nil, b.acts[:]
	case 3:
		b := new(resultOnly[[3]Action])
		return &b.res, nil, b.acts[:]
	case 4:
		b := new(resultOnly[[4]Action])
		return &b.res, nil, b.acts[:]
	}
	return new(Result), nil, make([]Action, n)
}

// result builds the Result of the run; withState keeps the state (the
// conversation waits), as a copy that shares no map with the caller's.
func (m *machine) result(withState bool) *Result {
	acts := m.acts[:m.nacts]
	if m.spill != nil {
		acts = m.spill
	}
	// The block is fresh, so zero: only non-zero fields are stored. (A
	// whole-struct copy costs a write barrier on every pointer word, nil
	// or not, while the collector runs, and it mostly runs: a message
	// allocates little but often.)
	r, st, out := newResult(len(acts), withState)
	if m.out.Errors != nil {
		r.Errors = m.out.Errors
	}
	if m.out.Logs != nil {
		r.Logs = m.out.Logs
	}
	for i := range acts {
		m.expand(&out[i], &acts[i])
	}
	r.Actions = out
	if withState {
		s := &m.stv
		st.Version, st.PC, st.Contact, st.Number = s.Version, s.PC, s.Contact, s.Number
		if s.Queue != nil {
			st.Queue = s.Queue
		}
		if s.Ring != nil {
			st.Ring = s.Ring
		}
		if s.Deadline != (time.Time{}) {
			st.Deadline = s.Deadline
		}
		if s.Vars != nil {
			st.Vars = s.Vars
			if !m.varsOwn {
				st.Vars = maps.Clone(s.Vars)
			}
		}
		if s.Retries != nil {
			st.Retries = s.Retries
			if !m.retriesOwn {
				st.Retries = maps.Clone(s.Retries)
			}
		}
		r.State = st
	}
	if m.spillSteps != nil {
		r.Trace = m.spillSteps
	} else if m.nsteps > 0 {
		r.Trace = append([]TraceStep(nil), m.steps[:m.nsteps]...)
	}
	return r
}

// storeAction copies a into d, which is zero, field by field: only a's
// non-zero fields are written (see result).
func storeAction(d, a *Action) {
	d.Kind, d.PC = a.Kind, a.PC
	if a.Text != "" {
		d.Text = a.Text
	}
	// The target's strings one by one: comparing the struct with
	// Target{} calls its generated equality function.
	if a.Target.Kind != "" {
		d.Target.Kind = a.Target.Kind
	}
	if a.Target.Name != "" {
		d.Target.Name = a.Target.Name
	}
	if a.Target.Strategy != "" {
		d.Target.Strategy = a.Target.Strategy
	}
	if a.Var != "" {
		d.Var = a.Var
	}
	if a.Value != nil {
		d.Value = a.Value
	}
	if a.Deadline != (time.Time{}) {
		d.Deadline = a.Deadline
	}
	if a.Voice != nil {
		d.Voice = a.Voice
	}
}

// expand stores staged action a into d, which is zero, field by field:
// only the non-zero fields are written (see result).
func (m *machine) expand(d *Action, a *stagedAction) {
	if a.kind == wholeAction {
		storeAction(d, &m.whole[a.ref])
		return
	}
	d.Kind, d.PC = ActionKind(a.kind), int(a.pc)
	switch d.Kind {
	case ActDeliver, ActForward:
		t := &m.p.Targets[a.ref]
		if t.Kind != "" {
			d.Target.Kind = t.Kind
		}
		if t.Name != "" {
			d.Target.Name = t.Name
		}
		if t.Strategy != "" {
			d.Target.Strategy = t.Strategy
		}
	case ActReply, ActTag:
		if a.text != "" {
			d.Text = a.text
		}
	case ActSet:
		d.Var = a.text
		if a.value != nil {
			d.Value = a.value
		}
	case ActWait:
		if m.stv.Deadline != (time.Time{}) {
			d.Deadline = m.stv.Deadline
		}
	}
}

// emit appends a to the run's actions, whole (an action of a kind the
// run stages compactly is staged with stage instead).
func (m *machine) emit(a Action) {
	m.whole = append(m.whole, a)
	s := m.stage()
	s.kind, s.ref = wholeAction, int32(len(m.whole)-1)
}

// stage appends a zero staged action to the run's actions (on the stack
// until there are more than len(acts)) and returns it, for the caller
// to set its non-zero fields: the slot is already zero (the machine
// starts zeroed), and storing a whole literal through m would zero it
// again, with a write barrier per pointer word while the collector
// marks.
func (m *machine) stage() *stagedAction {
	if m.spill == nil && m.nacts < len(m.acts) {
		m.nacts++
		return &m.acts[m.nacts-1]
	}
	return m.spillStage()
}

// spillStage is stage once acts is full: the staged actions move to the
// heap.
func (m *machine) spillStage() *stagedAction {
	if m.spill == nil {
		m.spill = append(make([]stagedAction, 0, 2*len(m.acts)), m.acts[:]...)
	}
	m.spill = append(m.spill, stagedAction{})
	return &m.spill[len(m.spill)-1]
}
