package vm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm/queue"
)

// EventKind distinguishes an inbound message from a timer firing.
type EventKind int

const (
	EventMessage EventKind = iota
	EventTimer
	// EventQueueDone: the person who had the queued conversation
	// finished it; it goes on at the queue's `on done` (vm/queue.Finish).
	EventQueueDone
	// The events of calls (voice.go): a call starts the call flow, and
	// the provider's callbacks resume it where it waits.
	EventCall     // an incoming call (Message: From the caller, To the number)
	EventDigits   // the caller pressed Message.Body at a gather ("": nothing, the timeout)
	EventDial     // a ring's dial ended: Call.Status, Call.Member
	EventRecorded // a voicemail's recording is done: Call.Recording, Call.Length
	EventHangup   // the caller hung up: the call is over
)

// Message is one inbound text.
type Message struct {
	ID    string
	From  string
	To    string
	Body  string
	Media []string
	// What the provider tells besides (runtime.Message): flows read it
	// as message.*, applets as ctx.message.*.
	AccountSID          string
	MessagingServiceSID string
	Segments            int
	MediaTypes          []string
	FromCity            string
	FromState           string
	FromCountry         string
	FromZip             string
}

// Event is what Run reacts to.
type Event struct {
	Kind    EventKind
	Message Message   // for EventMessage (for timers: From and To name the conversation)
	Call    CallEvent // for EventDial and EventRecorded (voice.go)
}

// State is a suspended conversation. It is plain data (JSON-friendly) so
// the server can store it.
type State struct {
	Version  string         `json:"version"`           // the program version it runs on
	PC       int            `json:"pc"`                // the menu or ask it waits at
	Deadline time.Time      `json:"deadline,omitzero"` // when its timeout fires; zero: never
	Vars     map[string]any `json:"vars,omitempty"`    // flow variables
	Retries  map[int]int    `json:"retries,omitempty"` // re-prompts used, by pc
	Contact  string         `json:"contact,omitempty"` // the contact's number
	Number   string         `json:"number,omitempty"`  // the business number
	// Queue is the conversation's place in a team's queue while it waits
	// at a `queue` step (PC), nil otherwise: who is offered it or has it
	// (vm/queue.Ticket; vm/inbound keeps it up to date).
	Queue *queue.Ticket `json:"queue,omitempty"`
	// Ring is who a `ring … in order` rings and who is next, while a
	// call waits at it (voice.go).
	Ring *RingState `json:"ring,omitempty"`
}

// Env is everything from outside that a run may consult.
type Env interface {
	// Now is the clock.
	Now() time.Time
	// Contact looks up what the directory knows about a number.
	Contact(ctx context.Context, phone string) (runtime.Contact, error)
	// RunApplet calls a JavaScript applet with plain-data input.
	RunApplet(ctx context.Context, a *Applet, in AppletInput) (any, error)
	// List returns the entries of an operator-managed list (`list("blocked")`,
	// `flowc lists`) as a set; an unknown list is empty. The map is
	// shared and must not be modified.
	List(ctx context.Context, name string) (map[string]bool, error)
}

// AppletInput is what an applet receives.
type AppletInput struct {
	Message map[string]any
	Contact map[string]any
	Vars    map[string]any
	Args    []any
	Now     time.Time
	Seed    int64
	// Log, when set (Options.AppletLogs), receives the call's console
	// output: level is "log", "info", "warn", "error" or "debug". It may
	// be called from any goroutine until RunApplet returns; later lines
	// are dropped.
	Log func(level, msg string)
}

// Options tune a run.
type Options struct {
	Trace    bool // record every step (the server and --explain do)
	MaxSteps int  // instruction budget per event; default DefaultMaxSteps
	// EventBudget is the time all applet calls of one event may take
	// together, measured on the Env's clock from the start of the run
	// (and, as a safety net, a real-time deadline on the context the
	// calls get); default DefaultEventBudget. Past it a run step takes its
	// `on error` branch, or the conversation ends.
	EventBudget time.Duration
	// MaxAppletCalls caps the applet calls of one event; default
	// DefaultMaxAppletCalls. Past it, as past EventBudget.
	MaxAppletCalls int
	// AppletLogs collects what applets write with console.log and
	// friends into Result.Logs (and, with Trace, the trace, at the run
	// step). `flowc run` and `flowc test` show it; the runner bounds it
	// (runtime/applet: 100 lines a call, 1 KiB each).
	AppletLogs bool
	// HTTP sends the requests of http steps (http.go); nil: they fail.
	HTTP HTTPDoer
	// Marks are when each once-per-period reply was last sent to this
	// contact on this number, by Once.Mark (effects.go).
	Marks map[string]time.Time
}

// DefaultMaxSteps bounds one event's work.
const DefaultMaxSteps = 10_000

// ErrVersion is returned when a state belongs to another program version.
var ErrVersion = errors.New("vm: conversation state belongs to another program version")

// ErrBudget is returned when an event exceeds its step budget.
var ErrBudget = errors.New("vm: step budget exceeded")

type machine struct {
	p    *Program
	env  Env
	ctx  context.Context
	opts Options
	renv *runtime.Env
	now  time.Time
	flag bool

	// The event's applet budget (see appletBudget).
	appletCalls   int
	appletCtx     context.Context
	cancelApplets context.CancelFunc
	budgetSpent   bool

	// stv is the conversation's state during the run: the caller's
	// *State is never changed, and its maps are copied only when the run
	// writes to them (varsOwn, retriesOwn), so a reply that ends the
	// conversation copies nothing.
	stv        State
	varsOwn    bool
	retriesOwn bool
	// The expression environment: envv on the stack, for native forms
	// (runtime.EvalNative); renv, a pooled copy, once an expression needs
	// expr's VM (heapEnv), and from then on for all.
	envv    runtime.Env
	budget  runtime.Budget // envv's; renv has its own copy
	exprEnv *exprEnv       // renv's pool entry
	kw      string         // the event's keyword, once haveKw
	haveKw  bool
	envKw   bool // envv.Keyword is set (needKeyword)

	contactFrom string      // the number the contact is looked up by
	contactDone bool        // looked up (or nothing to look up)
	numberDone  bool        // number.* filled (fillNumber)
	fatal       error       // ends the run: the contact look-up failed (read through failed)
	lists       *listReader // the run's lists, once an expression may read one
	redial      bool        // a ring in order resumed to ring its next member (voice.go)

	// What the run decided, gathered on the stack and copied into one
	// allocation of the right size at the end (newResult): out holds the
	// errors and logs; the actions (staged, see stagedAction) and the
	// trace are acts[:nacts] and steps[:nsteps] until they outgrow them,
	// then spill and spillSteps; whole holds the actions emit stages whole.
	out        runOutput
	acts       [4]stagedAction
	nacts      int
	spill      []stagedAction
	whole      []Action
	steps      [4]TraceStep
	nsteps     int
	spillSteps []TraceStep
}

// exprEnv is the environment expressions see, with the event's budget.
// It is pooled: it is about 400 bytes of mostly pointers, and allocating
// (or copying and clearing) it per event cost more than the expressions.
type exprEnv struct {
	env    runtime.Env
	budget runtime.Budget
}

var exprEnvs = sync.Pool{New: func() any { return new(exprEnv) }}

// Run handles one event for one conversation.
func Run(ctx context.Context, p *Program, st *State, ev Event, env Env, opts Options) (*Result, error) {
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	if opts.EventBudget <= 0 {
		opts.EventBudget = DefaultEventBudget
	}
	if opts.MaxAppletCalls <= 0 {
		opts.MaxAppletCalls = DefaultMaxAppletCalls
	}
	// The machine lives on Run's stack (nothing keeps it past the run),
	// so it costs neither an allocation nor a copy into the heap; only
	// the result, the expression environment and a suspended state are
	// heap objects.
	var m machine
	m.p, m.env, m.ctx, m.opts, m.now = p, env, ctx, opts, env.Now().In(p.Location())
	defer m.release()
	pc := 0
	if st == nil {
		if ev.Kind != EventMessage && ev.Kind != EventCall {
			return m.result(false), nil // a timer or a callback for a conversation that is over
		}
		// m.stv is zero: set field by field, no literal to build and copy.
		m.stv.Version, m.stv.Contact, m.stv.Number = p.Version, ev.Message.From, ev.Message.To
		m.varsOwn, m.retriesOwn = true, true // nil maps: created when first written
	} else {
		if st.Version != p.Version {
			return nil, ErrVersion
		}
		m.stv = *st
	}
	if st != nil && ev.Kind == EventHangup {
		m.trace(st.PC, "the caller hung up")
		if st.PC >= 0 && st.PC < len(p.Code) && p.Code[st.PC] == OpRing && int(p.Args[st.PC]) < len(p.Rings) {
			// A missed call: whoever the ring rang has it in their inbox
			// (smrtPhone's missed calls), whatever the flow would have done.
			m.emit(Action{Kind: ActDeliver, Target: p.Rings[p.Args[st.PC]].Target, PC: st.PC})
		}
		return m.finish()
	}
	if st != nil {
		var ok bool
		pc, ok = m.resume(&ev)
		if !ok {
			return m.result(true), nil
		}
	}
	// The expression environment is filled here, in Run itself, not in a
	// method: the compiler then knows m.envv is on this stack and stores
	// its ~30 pointer words without write barriers (through a *machine it
	// cannot tell, and the collector is marking a third of the time in a
	// busy server, so each pointer store would go through the barrier).
	msg := &ev.Message
	m.contactFrom = msg.From
	m.budget = runtime.Budget{MaxSteps: runtime.MaxEventSteps, MaxBytes: runtime.MaxEventBytes} // one budget for all expressions of the event
	// The keyword is set when a menu reply computed it, else later, when
	// the first expression or applet that may read it runs (needKeyword).
	fillEnv(&m.envv, msg, m.kw, runtime.Contact{}, m.stv.Vars, m.now, nil)
	m.envKw = m.haveKw
	if ev.Kind != EventMessage && ev.Kind != EventCall {
		m.envv.From, m.envv.To = m.stv.Contact, m.stv.Number
	}
	res, err := m.exec(pc)
	if err := m.failed(); err != nil {
		return nil, err
	}
	return res, err
}

// release returns the expression environment to its pool and stops the
// applet budget's timer. The environment is not cleared: Run
// overwrites every field of it before the next use, and what it still
// references is dropped with the pool at the next collections.
func (m *machine) release() {
	if m.cancelApplets != nil {
		m.cancelApplets()
	}
	if m.exprEnv != nil {
		exprEnvs.Put(m.exprEnv)
	}
}

// ownVars makes the state's variables a map of this run's own, so that
// writing one never changes the caller's state.
func (m *machine) ownVars() {
	if !m.varsOwn {
		m.stv.Vars = maps.Clone(m.stv.Vars)
		m.varsOwn = true
	}
	if m.stv.Vars == nil {
		m.stv.Vars = map[string]any{}
	}
	m.envv.Vars = m.stv.Vars
	if m.renv != nil {
		m.renv.Vars = m.stv.Vars
	}
}

func (m *machine) ownRetries() {
	if !m.retriesOwn {
		m.stv.Retries = maps.Clone(m.stv.Retries)
		m.retriesOwn = true
	}
	if m.stv.Retries == nil {
		m.stv.Retries = map[int]int{}
	}
}

// resume picks where a suspended conversation continues. ok is false
// when the event changes nothing (a timer that is not due yet).
func (m *machine) resume(ev *Event) (pc int, ok bool) {
	at := m.stv.PC
	if at < 0 || at >= len(m.p.Code) {
		return 0, false
	}
	op, arg := m.p.Code[at], m.p.Args[at]
	if op == OpQueue || ev.Kind == EventQueueDone {
		return m.resumeQueue(ev, at, int(arg))
	}
	if isVoiceWait(op) || ev.Kind >= EventCall {
		return m.resumeVoice(ev, at, op, int(arg)) // voice.go
	}
	if ev.Kind == EventTimer {
		if m.stv.Deadline.IsZero() || m.now.Before(m.stv.Deadline) {
			return 0, false
		}
		m.stv.Deadline = time.Time{}
		switch op {
		case OpMenu:
			to := m.p.Menus[arg].TimeoutPC
			m.branch(at, "timeout", Outcome{Kind: BranchTimeout, Target: to})
			return to, to >= 0
		case OpAsk:
			to := m.p.Asks[arg].TimeoutPC
			m.branch(at, "timeout", Outcome{Kind: BranchTimeout, Target: to})
			return to, to >= 0
		}
		return 0, false
	}
	m.stv.Deadline = time.Time{}
	switch op {
	case OpMenu:
		menu := &m.p.Menus[arg]
		if target, key, found := m.matchKey(menu, ev.Message.Body); found {
			m.branch(at, m.note("key ", key), Outcome{Kind: BranchKey, Key: key, Target: target})
			return target, true
		}
		if menu.ElsePC >= 0 {
			m.branch(at, "else", Outcome{Kind: BranchElse, Target: menu.ElsePC})
			return menu.ElsePC, true
		}
		m.branch(at, "no branch for this reply", Outcome{Kind: BranchUnmatched, Target: -1})
		return -1, true
	case OpAsk:
		a := &m.p.Asks[arg]
		answered := Outcome{Kind: BranchAnswer, Target: at + 1}
		if m.setVar(at, a.Var, ev.Message.Body) {
			m.branch(at, m.note("answer stored in ", a.Var), answered)
		} else {
			m.took(at, answered) // on the step of the error: the ask still goes on
		}
		return at + 1, true
	}
	return 0, false
}

// NormaliseKey is how a reply and a menu key are compared:
// runtime.NormaliseReply, the one normalisation the opt-out stage and
// check use too.
func NormaliseKey(s string) string { return runtime.NormaliseReply(s) }

// matchKey finds the menu key that body picks: the first key, in the
// menu's order, equal to the whole reply normalised or to its keyword.
//
// When the normalised reply is one word of ASCII letters and digits
// ("2", "yes"), the keyword is that same word or "" (the reply's first
// word is then punctuation only): TestKeywordOfOneWordReply. So only a
// key "" needs the keyword, and the common reply does not compute it.
func (m *machine) matchKey(menu *Menu, body string) (int, string, bool) {
	whole := NormaliseKey(body)
	oneWord := asciiWord(whole)
	for i := range menu.Keys {
		k := &menu.Keys[i]
		if eqString(k.Key, whole) || (!oneWord || k.Key == "") && k.Key == m.keyword(body) {
			return k.PC, k.Key, true
		}
	}
	return 0, "", false
}

// asciiWord reports whether s is non-empty and only ASCII letters and
// digits.
func asciiWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// eqString is a == b, comparing the first bytes before calling the
// runtime's memequal (menu keys are a byte or two long and mostly
// differ there).
func eqString(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || a[0] == b[0] && a == b)
}

// heapEnv is the environment for expr's VM, which keeps it: a pooled
// copy of envv, which from then on is the event's environment and holds
// its budget (native forms too then evaluate against it).
func (m *machine) heapEnv() *runtime.Env {
	if m.renv == nil {
		m.needKeyword() // expr's programs may read any field
		e := exprEnvs.Get().(*exprEnv)
		m.exprEnv = e
		e.env = m.envv
		e.budget = m.budget
		e.env.Budget = &e.budget
		m.renv = &e.env
	}
	return m.renv
}

// curEnv is the event's environment as it stands: the pooled one once
// there is one, else envv.
func (m *machine) curEnv() *runtime.Env {
	m.needKeyword() // applets get ctx.message.keyword
	if m.renv != nil {
		return m.renv
	}
	return &m.envv
}

// needContact looks the contact up, once per event, later than Run
// fills the rest of the environment: when the first expression or
// applet that reads it runs, so that a flow that never does (a
// business-hours check, a menu) does not pay for the directory. A
// failed look-up ends the run with an error (fatal), before anything
// that needed the contact (an applet call) happens.
func (m *machine) needContact() {
	if m.contactDone {
		return
	}
	m.contactDone = true
	if m.env == nil || m.contactFrom == "" {
		return
	}
	c, err := m.env.Contact(m.ctx, m.contactFrom)
	if err != nil {
		m.fatal = fmt.Errorf("vm: contact lookup: %w", err)
		return
	}
	m.envv.Contact = c
	if m.renv != nil {
		m.renv.Contact = c
	}
}

// needKeyword sets envv.Keyword, once per event. (A pooled env, renv, is
// only made by heapEnv, which sets it first.)
func (m *machine) needKeyword() {
	if !m.envKw {
		m.envKw = true
		m.envv.Keyword = m.keyword(m.envv.Body)
	}
}

// needs prepares what c may read and the environment lacks so far: the
// contact (looked up), the keyword.
func (m *machine) needs(c *runtime.Compiled) {
	if c.ReadsContact() {
		m.needContact()
	}
	if c.ReadsKeyword() {
		m.needKeyword()
	}
	if c.ReadsList() {
		m.bindLists()
	}
	if c.ReadsNumber() {
		m.fillNumber()
	}
}

// failed is the error that ends the run, if any: a contact or a list
// that could not be read (the latest, as when the list reader set fatal
// itself: a list read in the expression whose contact look-up failed).
func (m *machine) failed() error {
	if m.lists != nil && m.lists.fatal != nil {
		m.fatal, m.lists.fatal = m.lists.fatal, nil
	}
	return m.fatal
}

// eval evaluates expression e, looking the contact up first when e may
// read it.
func (m *machine) eval(e int) (any, error) {
	c := m.p.Exprs[e].compiled
	m.needs(c)
	if m.renv == nil {
		if v, ok, err := runtime.EvalNative(c, &m.envv, &m.budget); ok {
			return v, err
		}
	}
	return runtime.Eval(c, m.heapEnv())
}

// evalText is eval for a template part: its value as a reply prints it.
func (m *machine) evalText(e int) (string, error) {
	c := m.p.Exprs[e].compiled
	m.needs(c)
	if m.renv == nil {
		if s, ok, err := runtime.EvalNativeText(c, &m.envv, &m.budget); ok {
			return s, err
		}
	}
	return runtime.EvalText(c, m.heapEnv())
}

// fillEnv sets every field of v for msg. v is the run's stack env
// (envv), filled in Run, so the stores need no write barriers. The
// fields are assigned one by one: `*v = runtime.Env{…}` builds the
// 384-byte literal in a temporary (zeroing it) and then copies it, three
// times the stores. TestFillEnvOverwritesEveryField keeps it complete
// (every field overwritten) should v ever be reused.
func fillEnv(v *runtime.Env, msg *Message, kw string, contact runtime.Contact, vars map[string]any, now time.Time, b *runtime.Budget) {
	v.Body, v.From, v.To, v.Keyword, v.Media = msg.Body, msg.From, msg.To, kw, msg.Media
	v.Contact, v.Vars, v.Now, v.Budget = contact, vars, now, b
	v.Number, v.Lists = runtime.Number{}, nil // filled when first read (fillNumber, bindLists)
	mv := &v.Message
	mv.SID, mv.AccountSID, mv.MessagingServiceSID = msg.ID, msg.AccountSID, msg.MessagingServiceSID
	mv.Segments, mv.MediaTypes = msg.Segments, msg.MediaTypes
	mv.FromCity, mv.FromState, mv.FromCountry, mv.FromZip = msg.FromCity, msg.FromState, msg.FromCountry, msg.FromZip
}

// keyword is runtime.Keyword(body), computed once per event, when the
// menu matcher or the expression environment first needs it.
func (m *machine) keyword(body string) string {
	if !m.haveKw {
		m.kw, m.haveKw = runtime.Keyword(body), true
	}
	return m.kw
}

// note joins the parts of a trace note, and costs nothing when the run
// is not traced.
func (m *machine) note(parts ...string) string {
	if !m.opts.Trace {
		return ""
	}
	return strings.Join(parts, "")
}

// trace and branch test opts.Trace before calling step, so that (being
// inlined) an untraced run neither builds the Outcome nor makes the call.
func (m *machine) trace(pc int, note string) {
	if m.opts.Trace {
		m.step(pc, note, Outcome{})
	}
}

// branch traces the step at pc that decided outcome o (o.At defaults to pc).
func (m *machine) branch(pc int, note string, o Outcome) {
	if !m.opts.Trace {
		return
	}
	if o.At == 0 {
		o.At = pc
	}
	m.step(pc, note, o)
}

// took records outcome o on the step just traced at pc (the error that
// decided it), or on a new step when there is none.
func (m *machine) took(pc int, o Outcome) {
	if !m.opts.Trace {
		return
	}
	if last := m.lastStep(); last != nil && last.PC == pc && last.Outcome.Kind == NoBranch {
		o.At = pc
		last.Outcome = o
		return
	}
	m.branch(pc, "", o)
}

func (m *machine) step(pc int, note string, o Outcome) {
	if !m.opts.Trace || pc < 0 || pc >= len(m.p.Code) {
		return
	}
	ts := TraceStep{PC: pc, Op: m.p.Code[pc], Loc: m.p.Locs[pc], Note: note, Outcome: o}
	switch {
	case m.spillSteps != nil:
		m.spillSteps = append(m.spillSteps, ts)
	case m.nsteps < len(m.steps):
		m.steps[m.nsteps] = ts
		m.nsteps++
	default:
		m.spillSteps = append(append(make([]TraceStep, 0, 2*len(m.steps)), m.steps[:]...), ts)
	}
}

// lastStep is the step traced last, nil when there is none.
func (m *machine) lastStep() *TraceStep {
	if n := len(m.spillSteps); n > 0 {
		return &m.spillSteps[n-1]
	}
	if m.nsteps > 0 {
		return &m.steps[m.nsteps-1]
	}
	return nil
}

func (m *machine) fail(pc int, err error) { m.failAt(m.p.LocString(pc), pc, err) }

func (m *machine) failAt(loc string, pc int, err error) {
	msg := fmt.Sprintf("%s: %v", loc, err)
	m.out.Errors = append(m.out.Errors, msg)
	m.trace(pc, "error: "+err.Error())
}

// failExpr records expression e's run-time error at the expression
// itself (not at its statement), at the column expr located the error
// when the expression is on one line: `when n > 1` fails at the `>`.
func (m *machine) failExpr(pc, e int, err error) {
	l := m.p.Exprs[e].Loc
	if l.Line == 0 {
		m.fail(pc, err)
		return
	}
	col := l.Col
	var ee *runtime.ExprError
	if errors.As(err, &ee) && l.Line == l.EndLine {
		col += ee.From
	}
	m.failAt(fmt.Sprintf("%s:%d:%d", m.p.File, l.Line, col), pc, err)
}

// setVar sets a flow variable. A value over the caps (CheckValue) is a
// runtime error and leaves the variable nil; setVar then reports false.
func (m *machine) setVar(pc int, name string, v any) bool {
	ok := true
	if err := CheckValue(v); err != nil {
		m.fail(pc, fmt.Errorf("variable %s: %v; it is left unset", name, err))
		v, ok = nil, false
	}
	m.ownVars()
	m.stv.Vars[name] = v
	a := m.stage()
	a.kind, a.pc, a.text = int32(ActSet), int32(pc), name
	if v != nil {
		a.value = v
	}
	return ok
}

func (m *machine) finish() (*Result, error) {
	a := m.stage()
	a.kind, a.pc = int32(ActEnd), -1
	return m.result(false), nil
}

func (m *machine) exec(pc int) (*Result, error) {
	p := m.p
	// Code and Args are parallel (Decode checks it): with args cut to
	// code's length, one bounds check per step serves both.
	code, args, maxSteps := p.Code, p.Args[:len(p.Code)], m.opts.MaxSteps
	for steps := 0; ; steps++ {
		if err := m.failed(); err != nil {
			return nil, err
		}
		if steps >= maxSteps {
			return nil, ErrBudget
		}
		if uint(pc) >= uint(len(code)) {
			return m.finish()
		}
		op, arg := code[pc], int(args[pc])
		switch op {
		case OpHalt:
			m.trace(pc, "")
			return m.finish()
		case OpEnd:
			m.trace(pc, "")
			return m.finish()
		case OpJump:
			pc = arg
			continue
		case OpTest:
			v, err := m.eval(arg)
			b, _ := v.(bool)
			if err != nil {
				m.failExpr(pc, arg, err)
				b = false
			}
			m.flag = b
			if m.opts.Trace {
				// The TEST decides the JUMP_FALSE the compiler puts after it.
				o := Outcome{}
				if pc+1 < len(p.Code) && p.Code[pc+1] == OpJumpFalse {
					o = Outcome{At: pc + 1, Kind: BranchTrue, Target: pc + 2}
					if !b {
						o.Kind, o.Target = BranchFalse, int(p.Args[pc+1])
					}
				}
				m.branch(pc, m.note(p.Exprs[arg].Source, " → ", strconv.FormatBool(b)), o)
			}
		case OpJumpFalse:
			if !m.flag {
				pc = arg
				continue
			}
		case OpReply:
			if m.reply(pc, arg) {
				m.trace(pc, "")
			}
		case OpInbox:
			m.trace(pc, "")
			a := m.stage()
			a.kind, a.pc, a.ref = int32(ActDeliver), int32(pc), int32(arg)
		case OpForward:
			m.trace(pc, "")
			a := m.stage()
			a.kind, a.pc, a.ref = int32(ActForward), int32(pc), int32(arg)
		case OpInboxExpr, OpForwardExpr:
			if next := m.computed(pc, arg); next != pc+1 {
				pc = next
				continue
			}
		case OpTag:
			m.trace(pc, "")
			a := m.stage()
			a.kind, a.pc, a.text = int32(ActTag), int32(pc), p.Consts[arg]
		case OpSet:
			s := p.Sets[arg]
			v, err := m.eval(s.Expr)
			if err != nil {
				m.failExpr(pc, s.Expr, err)
				v = nil
			}
			m.trace(pc, "")
			m.setVar(pc, s.Var, v)
		case OpRun:
			next, ok := m.run(pc, arg)
			if !ok {
				return m.finish()
			}
			if next != pc+1 {
				pc = next
				continue
			}
		case OpMenu:
			menu := &p.Menus[arg]
			if menu.Prompt >= 0 {
				m.reply(pc, menu.Prompt)
			}
			m.trace(pc, "waiting for a reply")
			return m.suspend(pc, menu.Timeout, menu.TimeoutPC)
		case OpAsk:
			a := &p.Asks[arg]
			m.reply(pc, a.Prompt)
			m.trace(pc, "waiting for an answer")
			return m.suspend(pc, a.Timeout, a.TimeoutPC)
		case OpQueue:
			next, wait := m.enqueue(pc, arg)
			if wait {
				return m.suspend(pc, p.Queues[arg].Wait, p.Queues[arg].TimeoutPC)
			}
			pc = next
			continue
		case OpSay, OpPlay, OpGather, OpRing, OpVoicemail, OpHangup, OpText:
			next, res := m.execVoice(pc, op, arg) // voice.go
			if res != nil {
				return res, nil
			}
			pc = next
			continue
		case OpRetry:
			r := p.Retries[arg]
			if used := m.stv.Retries[r.PC]; used < r.Times {
				m.ownRetries()
				m.stv.Retries[r.PC] = used + 1
				m.branch(pc, m.note("retry ", strconv.Itoa(used+1), " of ", strconv.Itoa(r.Times)), Outcome{Kind: BranchRetry, Target: r.PC})
				pc = r.PC
				continue
			}
			m.branch(pc, "no retries left", Outcome{Kind: BranchExhausted, Target: pc + 1})
		default:
			if !m.execEffect(pc, op, arg) { // effects.go
				return nil, fmt.Errorf("vm: bad opcode %d at pc %d", op, pc)
			}
		}
		pc++
	}
}

func (m *machine) suspend(pc int, timeout time.Duration, timeoutPC int) (*Result, error) {
	m.stv.PC = pc
	m.stv.Deadline = time.Time{}
	if timeout > 0 && timeoutPC >= 0 {
		m.stv.Deadline = m.now.Add(timeout)
	}
	a := m.stage()
	a.kind, a.pc = int32(ActWait), int32(pc) // the deadline is m.stv's (expand)
	return m.result(true), nil
}

// reply renders template tmpl and sends it, unless it is over
// MaxReplyChars: then nothing is sent and the step fails (a menu or ask
// still waits for its answer). It reports whether the reply was sent.
func (m *machine) reply(pc, tmpl int) bool {
	text := m.render(pc, tmpl)
	if err := ReplyTooLong(text); err != nil {
		m.fail(pc, fmt.Errorf("%v; it is not sent", err))
		return false
	}
	a := m.stage()
	a.kind, a.pc, a.text = int32(ActReply), int32(pc), text
	return true
}

func (m *machine) render(pc, tmpl int) string {
	t := &m.p.Templates[tmpl]
	if len(t.Parts) == 1 && t.Parts[0].Expr < 0 {
		return t.Parts[0].Lit
	}
	if len(t.Parts) > 4 {
		return m.renderLong(pc, t)
	}
	// Up to four parts (a greeting with a name and the rest), rendered
	// into an array on the stack and joined by Go's own concatenation:
	// one allocation of the exact size, not zeroed, and no Builder.
	var ps [4]string
	k := 0
	for i := range t.Parts {
		s, ok := m.part(pc, &t.Parts[i])
		if !ok {
			continue
		}
		ps[k&3] = s // k < 4: the mask only spares the bounds check
		k++
	}
	switch k {
	case 0:
		return ""
	case 1:
		return ps[0]
	case 2:
		return ps[0] + ps[1]
	case 3:
		return ps[0] + ps[1] + ps[2]
	}
	return ps[0] + ps[1] + ps[2] + ps[3]
}

// part is one part of the template of the instruction at pc: its text,
// or its expression's; ok is false when the expression failed (reported
// at pc, and the part left out).
func (m *machine) part(pc int, part *TemplatePart) (s string, ok bool) {
	if part.Expr < 0 {
		return part.Lit, true
	}
	s, err := m.evalText(part.Expr)
	if err != nil {
		m.failExpr(pc, part.Expr, err)
		return "", false
	}
	return s, true
}

// renderLong is render for a template of more than four parts: rendered
// first, then joined in one allocation of the exact size.
func (m *machine) renderLong(pc int, t *Template) string {
	parts := make([]string, 0, len(t.Parts))
	n := 0
	for i := range t.Parts {
		s, ok := m.part(pc, &t.Parts[i])
		if !ok {
			continue
		}
		parts = append(parts, s)
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range parts {
		b.WriteString(s)
	}
	return b.String()
}
