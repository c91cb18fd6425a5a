package server

import (
	"context"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// This file adapts the pure middle of a step (see doc.go), which is
// vm/inbound's, shared with `flowc run` and `flowc test`: it turns what
// readStep read into an inbound.Input and the inbound.Plan into the
// store's writes. It touches no store and no server state.

// stepInput is everything a step reads, gathered by readStep in one
// short transaction.
type stepInput struct {
	Timer bool // a conversation's deadline passed (else: a message arrived)
	// Agent is a person's action on the queued conversation (the agent
	// API), Dispatch a member's becoming available (queue.go); else a
	// message or a timer.
	Agent    *inbound.AgentEvent
	Dispatch bool
	Msg      Inbound   // the message; for a timer, SID names the deadline and From/To the conversation
	Now      time.Time // the step's clock, for the VM and every stored time

	Route    *routed // the flow serving Msg.To; nil when none (messages only)
	OptedOut bool    // the contact sent STOP to Msg.To (messages only)

	Conv        *store.Conversation // the conversation in progress, nil when none
	ConvProgram *vm.Program         // Conv's program version
	Contact     runtime.Contact     // what the directory, the tags and the history say about Msg.From
	Lists       inbound.ListReader  // the operator's lists, as of the step's read (lists.go)

	Directory *directory.Directory // users, teams, numbers: computed targets and number.* (inbound.Input.Directory)

	EventBudget time.Duration // the applet calls' time budget (Config.EventBudget)

	HTTP  vm.HTTPDoer          // sends http steps' requests (effects.go); nil: they fail (a deploy's replay)
	Marks map[string]time.Time // once-per-period replies sent to Msg.From on Msg.To

	// Call is a call's event (voicestep.go); nil for every other step.
	Call *vm.Event

	Queues      map[string]*inbound.QueueData // the teams' queues the step may touch (queue.go)
	HandoffIdle time.Duration                 // Config.HandoffIdle
	// queueTurns: take the turns at the teams before reading their
	// queues; endTurns ends the turns taken (queue.go's takeQueueTurns),
	// nil when none.
	queueTurns bool
	endTurns   func()
}

// isMessage reports whether the step's event is a message from the
// contact (not a timer, a person's action or a dispatch).
func (in *stepInput) isMessage() bool {
	return !in.Timer && in.Agent == nil && !in.Dispatch && in.Call == nil
}

// routed is the active flow of a business number.
type routed struct {
	Flow, Version string
	Program       *vm.Program
}

// appletRunner runs a JavaScript applet (Config.Applets).
type appletRunner func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error)

// plan is what a step decided: the answer and every write, to be applied
// by applyStep in one transaction (with other steps' in a group commit).
type plan struct {
	Answer        Answer
	Flow, Version string // stored with the message
	Trace         []byte // the capped execution record (see trace.go)

	OptOut  *bool               // record STOP (true) or START (false)
	Save    *store.Conversation // the conversation's new state
	End     bool                // the conversation is over: delete it
	Deliver []vm.Target         // inbox deliveries; a team's member is chosen at commit
	Outbox  []store.OutboxItem  // forwards, and a timer's replies
	Tags    []string            // tags added to the contact
	Effects inbound.Effects     // tags removed, fields set, once-per-period replies sent (effects.go)

	Record  bool  // store the message (false: a timer whose run failed)
	FlowErr error // the VM failed: the caller logs it

	Queue *inbound.QueuePlan // what it did to the conversation's place in a queue (queue.go)
	stage *inbound.Plan      // the inbound stage's plan, as decided
}

// Texts sent by the opt-out stage (vm/inbound's).
const (
	OptOutConfirmation = inbound.OptOutConfirmation
	OptInConfirmation  = inbound.OptInConfirmation
	DefaultHelp        = inbound.DefaultHelp
)

// step runs one event through the inbound stage. An error means the
// stored state is unreadable (answered 503); a failing flow is not an
// error but an "error" outcome.
func step(ctx context.Context, in *stepInput, applets appletRunner) (*plan, error) {
	ip, err := inbound.Step(ctx, inboundInput(in), inbound.AppletRunner(applets))
	if err != nil {
		return nil, err
	}
	return planOf(in, ip), nil
}

// inboundInput is in as the inbound stage takes it.
func inboundInput(in *stepInput) *inbound.Input {
	ii := &inbound.Input{Timer: in.Timer, Msg: vmMessage(in.Msg), Now: in.Now, OptedOut: in.OptedOut,
		Contact: in.Contact, Lists: in.Lists, EventBudget: in.EventBudget, HTTP: in.HTTP, Marks: in.Marks,
		Agent: in.Agent, Dispatch: in.Dispatch, Queues: in.Queues, HandoffIdle: in.HandoffIdle, Call: in.Call}
	ii.Directory = in.Directory
	if in.Route != nil {
		ii.Route = &inbound.Route{Flow: in.Route.Flow, Version: in.Route.Version, Program: in.Route.Program}
	}
	if in.Conv != nil {
		ii.Conv = &inbound.Conversation{Flow: in.Conv.Flow, Version: in.Conv.Version, Program: in.ConvProgram, State: in.Conv.State, Started: conversationStart(in)}
	}
	return ii
}

// planOf is the store's writes for what the inbound stage decided.
func planOf(in *stepInput, ip *inbound.Plan) *plan {
	m := in.Msg
	p := &plan{Answer: Answer{Outcome: ip.Outcome, Flow: ip.Flow, Replies: ip.Replies}, Flow: ip.Flow, Version: ip.Version,
		OptOut: ip.OptOut, End: ip.End, Deliver: ip.Deliver, Tags: ip.Tags, Record: ip.Record, FlowErr: ip.FlowErr,
		Effects: ip.Effects, Queue: ip.Queue, stage: ip}
	if !ip.Record { // a failed timer: nothing answered or stored
		p.Answer = Answer{}
	}
	if ip.Save != nil {
		p.Save = &store.Conversation{Contact: m.From, Number: m.To, Flow: ip.Flow, Version: ip.Version,
			State: ip.Save.State, Deadline: ip.Save.Deadline, Updated: in.Now}
	}
	for _, f := range ip.Forwards {
		p.Outbox = append(p.Outbox, store.OutboxItem{Kind: f.Kind, To: f.To, From: m.To, Body: f.Body,
			MessageSID: m.SID, Created: in.Now, NotBefore: in.Now})
	}
	if !in.isMessage() { // no webhook is waiting: the replies go out through the outbox
		for _, r := range ip.Replies {
			p.Outbox = append(p.Outbox, store.OutboxItem{Kind: "sms", To: m.From, From: m.To, Body: storable(r), Contact: m.From,
				MessageSID: m.SID, Created: in.Now, NotBefore: in.Now})
		}
	}
	if ip.Result != nil {
		p.Trace = traceJSON(ip.Program, ip.Result)
	}
	return p
}

// vmMessage is the VM's view of an inbound message.
func vmMessage(m Inbound) vm.Message {
	return vm.Message{ID: m.SID, From: m.From, To: m.To, Body: m.Body, Media: m.Media,
		AccountSID: m.AccountSID, MessagingServiceSID: m.MessagingServiceSID, Segments: m.Segments, MediaTypes: m.MediaTypes,
		FromCity: m.FromCity, FromState: m.FromState, FromCountry: m.FromCountry, FromZip: m.FromZip}
}

// storable is inbound.Storable: text a flow computed, made storable.
func storable(s string) string { return inbound.Storable(s) }
