package inbound

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/queue"
)

// Input is everything a step depends on.
type Input struct {
	Timer bool       // a conversation's deadline passed (else: a message arrived)
	Msg   vm.Message // the message; for a timer, ID names the deadline (TimerID) and From/To the conversation
	Now   time.Time  // the step's clock

	Route    *Route // the flow serving Msg.To; nil when none (messages only)
	OptedOut bool   // the contact sent STOP to Msg.To (messages only)

	Conv    *Conversation   // the conversation in progress, nil when none
	Contact runtime.Contact // Contact(the directory's entry for Msg.From, the added tags)

	Lists ListReader // the operator's lists (`list("blocked")`); nil: every list is empty
	// Directory is the directory's users, teams and business numbers:
	// computed targets (`inbox user:(EXPR)`) are checked against it and
	// number.* read from it (vm.Directory). nil: names are not checked
	// and number.* is empty.
	Directory *directory.Directory

	// Queues is what the caller read of the teams' queues the step may
	// touch, by team: those the program's queue steps name (p.Queues) and
	// a transfer's target team (queue.go).
	Queues map[string]*QueueData
	// Agent is a person's action on the conversation (accept, reply,
	// transfer, finish): the step's event instead of Msg (whose From and
	// To name the conversation, ID the action, seeding a random pick).
	Agent *AgentEvent
	// Dispatch: a member of the conversation's queue became available
	// (or the team changed): a waiting conversation is offered again
	// (QueueOffered). The caller dispatches its team's waiting
	// conversations first come, first served (queue.Position).
	Dispatch bool
	// HandoffIdle is how long a conversation a run left held (an inbox
	// delivery, a webhook handoff) stays open without a text either way
	// (handoff.go); 0: DefaultHandoffIdle.
	HandoffIdle time.Duration
	// Call is a call's event (voice.go): EventCall starts the call flow
	// of Route (Msg: From the caller, To the number called), the others
	// resume the call in Conv.
	Call *vm.Event

	EventBudget time.Duration // the applet calls' time budget (vm.Options.EventBudget)
	AppletLogs  bool          // keep the applets' console output (offline only)

	HTTP  vm.HTTPDoer          // sends http steps' requests; nil: they fail (effects.go)
	Marks map[string]time.Time // once-per-period replies last sent to this contact on Msg.To, by mark
}

// Route is the active flow of a business number.
type Route struct {
	Flow, Version string
	Program       *vm.Program
}

// Conversation is a conversation in progress: its flow and version
// (the one it started with, which it resumes on) and its state as
// stored (vm.State's JSON).
type Conversation struct {
	Flow, Version string
	Program       *vm.Program
	State         []byte
	Started       time.Time // when its first message came (its ConversationID's); zero: unknown

	decoded *vm.State // State as the step decoded it to resume (runVars reads it instead of decoding again)
}

// Saved is a conversation's new state.
type Saved struct {
	State    []byte    // vm.State's JSON
	Deadline time.Time // when its timer fires; zero: never

	held *vm.State // what State holds, when it holds a ticket (saveTicket): Saved.TicketOf reads it instead of State
}

// Forward is an e-mail or webhook forward of the message.
type Forward struct {
	Kind string // email, webhook
	To   string // the address or URL (Storable)
	Body string // the JSON the destination receives
}

// ListReader reads an operator-managed list as a set (vm.Env.List).
type ListReader func(ctx context.Context, name string) (map[string]bool, error)

// AppletRunner runs a JavaScript applet; nil: applets are not enabled.
type AppletRunner func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error)

// Plan is what a step decided: the answer and every effect, as data.
type Plan struct {
	Outcome       string
	Flow, Version string   // the flow that decided, stored with the message
	Replies       []string // never nil

	OptOut   *bool // record STOP (true) or START (false)
	Save     *Saved
	End      bool        // the conversation is over: delete it
	Deliver  []vm.Target // inbox deliveries
	Forwards []Forward   // in the order the flow made them
	Tags     []string    // tags added to the contact (Storable)
	Effects  Effects     // what else the flow changed of the contact (effects.go)
	Record   bool        // store the message (false: a timer whose run failed)
	FlowErr  error       // the VM failed: the caller logs (or shows) it
	Program  *vm.Program // the program that ran; nil when the stage decided
	Result   *vm.Result  // the VM's result; nil when the stage decided or the run failed
	Queue    *QueuePlan  // what happened to the conversation's place in a queue; nil: nothing
	// A call's (voice.go): what the caller hears and who is rung, in
	// order (ActSay, ActPlay, ActGather, ActDial, ActRecord, ActRecorded,
	// ActHangup, and ActForward to a number), and the texts to the
	// caller (ActText).
	Call  []vm.Action
	Texts []string
}

// Texts sent by the opt-out stage.
const (
	OptOutConfirmation = "You have been unsubscribed and will receive no more messages from this number. Reply START to resubscribe."
	OptInConfirmation  = "You have been resubscribed. Reply STOP to unsubscribe."
	DefaultHelp        = "Reply STOP to unsubscribe."
)

// Outcomes decided by the stage itself.
const (
	OutcomeNoFlow   = "no-flow"
	OutcomeOptOut   = "opt-out"
	OutcomeOptIn    = "opt-in"
	OutcomeHelp     = "help"
	OutcomeOptedOut = "opted-out"
	OutcomeRouted   = "routed"
	OutcomeErrors   = "routed-with-errors"
	OutcomeError    = "error"
	OutcomeTimer    = "timer"
	timerIDPrefix   = "timer:"
)

// TimerID names a conversation's deadline, so that a timer fires once.
func TimerID(contact, number string, deadline time.Time) string {
	return timerIDPrefix + contact + ":" + number + ":" + strconv.FormatInt(deadline.UnixNano(), 10)
}

// Contact is what a flow sees of a sender: its directory entry (nil
// when the number is not in the directory) with the tags flows added in
// earlier conversations after the directory's own.
func Contact(entry *directory.Contact, addedTags []string) runtime.Contact {
	if entry == nil {
		if len(addedTags) == 0 {
			return runtime.Contact{}
		}
		return runtime.Contact{Tags: addedTags}
	}
	tags := append(append([]string(nil), entry.Tags...), addedTags...)
	tags = dedupe(tags) // a flow tagging a directory tag (again after an untag): once (effects.go)
	return runtime.KnownContact(entry.Name, entry.Owner, tags, entry.Fields)
}

// Step runs one event. An error means the conversation's state is
// unreadable; a failing flow is not an error but an "error" outcome
// (Plan.FlowErr).
func Step(ctx context.Context, in *Input, applets AppletRunner) (*Plan, error) {
	if in.Agent != nil {
		return agentStep(ctx, in, applets)
	}
	if in.Dispatch {
		return dispatchStep(in)
	}
	if in.Call != nil {
		return callStep(ctx, in, applets) // voice.go
	}
	if in.Timer {
		return timerStep(ctx, in, applets)
	}
	return messageStep(ctx, in, applets)
}

// messageStep: the opt-out stage, then the flow.
func messageStep(ctx context.Context, in *Input, applets AppletRunner) (*Plan, error) {
	if in.Route == nil {
		return &Plan{Outcome: OutcomeNoFlow, Replies: []string{}, Record: true}, nil
	}
	out := in.OptedOut
	decided := func(outcome string, replies ...string) *Plan {
		if replies == nil {
			replies = []string{}
		}
		return &Plan{Outcome: outcome, Flow: in.Route.Flow, Version: in.Route.Version, Replies: replies, Record: true}
	}
	// The carrier keywords, matched as Twilio matches them (the whole
	// message, any case, surrounding punctuation ignored), by the function
	// check's warning about shadowed menu keys uses too.
	kw := runtime.CarrierKeyword(in.Msg.Body)
	var optIn *bool
	switch {
	case kw == runtime.OptOutKeyword:
		p := decided(OutcomeOptOut)
		if !out { // confirm once
			p.Replies = []string{OptOutConfirmation}
		}
		p.OptOut, p.End = ptr(true), true
		p.Queue = closeQueued(in)
		return p, nil
	case kw == runtime.OptInKeyword:
		if out {
			p := decided(OutcomeOptIn, OptInConfirmation)
			p.OptOut = ptr(false)
			return p, nil
		}
		// Not opted out: START is recorded, and is an ordinary message for the flow.
		optIn = ptr(false)
	case kw == runtime.HelpKeyword && !out:
		help := in.Route.Program.Help
		if help == "" {
			help = DefaultHelp
		}
		return decided(OutcomeHelp, help), nil
	case out:
		// Recorded (nothing accepted is lost) but neither routed nor answered.
		return decided(OutcomeOptedOut), nil
	}
	p, err := runFlow(ctx, in, applets)
	if p != nil {
		p.OptOut = optIn
	}
	return p, err
}

func runFlow(ctx context.Context, in *Input, applets AppletRunner) (*Plan, error) {
	flow, version, prog := in.Route.Flow, in.Route.Version, in.Route.Program
	var st *vm.State
	if in.Conv != nil {
		// Resume on the version the conversation started with.
		flow, version, prog = in.Conv.Flow, in.Conv.Version, in.Conv.Program
		st = &vm.State{}
		if err := json.Unmarshal(in.Conv.State, st); err != nil {
			return nil, fmt.Errorf("conversation state: %w", err)
		}
		in.Conv.decoded = st
		if s, t, ok := queueOf(prog, st); ok {
			return joinStep(in, st, s, t), nil
		}
	}
	ev := vm.Event{Kind: vm.EventMessage, Message: in.Msg}
	res, err := vm.Run(ctx, prog, st, ev, env(in, applets), options(in))
	p := &Plan{Outcome: OutcomeRouted, Flow: flow, Version: version, Replies: []string{}, Record: true, Program: prog}
	if err != nil {
		// A broken program or state must not lose the message: record it
		// as an error and end the conversation.
		p.Outcome, p.End, p.FlowErr = OutcomeError, true, err
		return p, nil
	}
	collect(p, in, res)
	return p, nil
}

// timerStep runs the timeout branch of a conversation whose deadline
// passed. No webhook is waiting: the server sends its replies by SMS.
func timerStep(ctx context.Context, in *Input, applets AppletRunner) (*Plan, error) {
	st := &vm.State{}
	if err := json.Unmarshal(in.Conv.State, st); err != nil {
		return nil, fmt.Errorf("conversation state: %w", err)
	}
	in.Conv.decoded = st
	var waited *queue.Ticket // the ticket whose wait passed
	if s, t, ok := queueOf(in.Conv.Program, st); ok {
		if p, run := queueTimer(in, st, s, t); !run {
			return p, nil
		}
		waited = t
	}
	m := in.Msg
	ev := vm.Event{Kind: vm.EventTimer, Message: vm.Message{ID: m.ID, From: m.From, To: m.To}}
	res, err := vm.Run(ctx, in.Conv.Program, st, ev, env(in, applets), options(in))
	if err != nil {
		p := &Plan{Flow: in.Conv.Flow, Version: in.Conv.Version, Replies: []string{}, End: true, FlowErr: err, Program: in.Conv.Program}
		if waited != nil { // `on timeout` failed: it left the queue all the same (abandoned)
			p.Queue = &QueuePlan{Team: waited.Team, Event: QueueTimedOut, Left: true, Notify: waited.Assignee}
		}
		return p, nil
	}
	p := &Plan{Outcome: OutcomeRouted, Flow: in.Conv.Flow, Version: in.Conv.Version, Replies: []string{}, Record: true, Program: in.Conv.Program}
	collect(p, in, res)
	p.Outcome = OutcomeTimer
	if waited != nil {
		leftThen(p, &QueuePlan{Team: waited.Team, Event: QueueTimedOut, Left: true, Notify: waited.Assignee})
	}
	return p, nil
}

func options(in *Input) vm.Options {
	return vm.Options{Trace: true, AppletLogs: in.AppletLogs, EventBudget: in.EventBudget, HTTP: in.HTTP, Marks: in.Marks}
}

// collect turns a run's actions into the plan.
func collect(p *Plan, in *Input, res *vm.Result) {
	p.Result = res
	if len(res.Errors) > 0 {
		p.Outcome = OutcomeErrors
	}
	var vars map[string]any // the flow's variables, for a webhook forward (handoff.go)
	for _, a := range res.Actions {
		if a.Kind == vm.ActForward && a.Target.Kind == "webhook" && vars == nil {
			vars = runVars(in, res)
		}
	}
	for _, a := range res.Actions {
		if collectCall(p, a, in.Msg.From) { // voice.go
			continue
		}
		switch a.Kind {
		case vm.ActReply:
			p.Replies = append(p.Replies, a.Text)
			if a.Var != "" { // once per period (effects.go)
				collectEffect(p, a)
			}
		case vm.ActDeliver:
			p.Deliver = append(p.Deliver, a.Target)
		case vm.ActForward:
			p.Forwards = append(p.Forwards, Forward{Kind: a.Target.Kind, To: Storable(a.Target.Name), Body: forwardBody(in, p.Flow, a.Target.Kind, vars)})
		case vm.ActTag:
			p.Tags = append(p.Tags, Storable(a.Text))
			p.Effects.Untags = without(p.Effects.Untags, Storable(a.Text)) // effects.go
		default:
			collectEffect(p, a) // effects.go
		}
	}
	if res.State == nil {
		p.End = true
	} else if state, err := json.Marshal(res.State); err != nil {
		p.Outcome, p.End, p.FlowErr = OutcomeError, true, fmt.Errorf("conversation state: %w", err)
	} else {
		p.Save = &Saved{State: state, Deadline: res.State.Deadline}
	}
	if p.Program != nil && p.FlowErr == nil {
		afterRun(p, in, res)
	}
	keepHeld(p, in, res, vars) // a handoff stays open (handoff.go)
}

// Storable makes text computed by a flow (an applet's tag, reply or
// forward target) storable in a text column: PostgreSQL refuses NUL and
// invalid UTF-8, which would fail the transaction on every retry. Both
// become U+FFFD, as TwiML's encoding already renders them.
func Storable(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func ptr[T any](v T) *T { return &v }

func env(in *Input, applets AppletRunner) *runEnv {
	return &runEnv{now: in.Now, contact: in.Contact, applets: applets, lists: in.Lists, dir: in.Directory, queues: in.Queues}
}

// runEnv is the VM's environment for one step: the step's clock and
// contact, and the applet runner.
type runEnv struct {
	now     time.Time
	contact runtime.Contact
	applets AppletRunner
	lists   ListReader
	dir     *directory.Directory
	queues  map[string]*QueueData
}

// HasUser, HasTeam and Number implement vm.Directory from the input's
// directory; without one every name is taken.
func (e *runEnv) HasUser(name string) bool {
	if e.dir == nil {
		return true
	}
	_, ok := e.dir.User(name)
	return ok
}

func (e *runEnv) HasTeam(name string) bool {
	if e.dir == nil {
		return true
	}
	_, ok := e.dir.Team(name)
	return ok
}

func (e *runEnv) Number(number string) runtime.Number {
	if e.dir == nil {
		return runtime.Number{}
	}
	n, ok := e.dir.Number(number)
	if !ok {
		return runtime.Number{}
	}
	return runtime.NumberSettings(n.Name, n.BackupEmail, n.Settings)
}

func (e *runEnv) List(ctx context.Context, name string) (map[string]bool, error) {
	if e.lists == nil {
		return nil, nil
	}
	return e.lists(ctx, name)
}

func (e *runEnv) Now() time.Time { return e.now }

func (e *runEnv) Contact(context.Context, string) (runtime.Contact, error) { return e.contact, nil }

func (e *runEnv) RunApplet(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	if e.applets == nil {
		return nil, fmt.Errorf("JavaScript applets are not enabled on this server")
	}
	return e.applets(ctx, a, in)
}
