package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// This file is the pure middle of a step (see doc.go): given what was
// read, it runs the opt-out stage and the VM and returns the effects as
// data. It touches no store and no server state; the only thing it calls
// out to is the applet runner it is given.

// stepInput is everything a step reads, gathered by readStep in one
// short transaction.
type stepInput struct {
	Timer bool      // a conversation's deadline passed (else: a message arrived)
	Msg   Inbound   // the message; for a timer, SID names the deadline and From/To the conversation
	Now   time.Time // the step's clock, for the VM and every stored time

	Route    *routed // the flow serving Msg.To; nil when none (messages only)
	OptedOut bool    // the contact sent STOP to Msg.To (messages only)

	Conv        *store.Conversation // the conversation in progress, nil when none
	ConvProgram *vm.Program         // Conv's program version
	Contact     runtime.Contact     // what the directory and the tags say about Msg.From

	EventBudget time.Duration // the applet calls' time budget (Config.EventBudget)
}

// routed is the active flow of a business number.
type routed struct {
	Flow, Version string
	Program       *vm.Program
}

// appletRunner runs a JavaScript applet (Config.Applets).
type appletRunner func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error)

// plan is what a step decided: the answer and every write, to be applied
// by commitStep in one transaction.
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

	Record  bool  // store the message (false: a timer whose run failed)
	FlowErr error // the VM failed: the caller logs it
}

// Opt-out keywords (CTIA): one word, any case.
var (
	stopWords  = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	startWords = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
	helpWords  = map[string]bool{"HELP": true, "INFO": true}
)

// Texts sent by the opt-out stage.
const (
	OptOutConfirmation = "You have been unsubscribed and will receive no more messages from this number. Reply START to resubscribe."
	OptInConfirmation  = "You have been resubscribed. Reply STOP to unsubscribe."
	DefaultHelp        = "Reply STOP to unsubscribe."
)

// step runs one event. An error means the stored state is unreadable
// (answered 503); a failing flow is not an error but an "error" outcome.
func step(ctx context.Context, in *stepInput, applets appletRunner) (*plan, error) {
	if in.Timer {
		return timerStep(ctx, in, applets)
	}
	return messageStep(ctx, in, applets)
}

// messageStep: the opt-out stage, then the flow.
func messageStep(ctx context.Context, in *stepInput, applets appletRunner) (*plan, error) {
	if in.Route == nil {
		return &plan{Answer: Answer{Outcome: "no-flow", Replies: []string{}}, Record: true}, nil
	}
	flow, version, out := in.Route.Flow, in.Route.Version, in.OptedOut
	decided := func(outcome string, replies ...string) *plan {
		if replies == nil {
			replies = []string{}
		}
		return &plan{Answer: Answer{Outcome: outcome, Flow: flow, Replies: replies}, Flow: flow, Version: version, Record: true}
	}
	word := strings.ToUpper(strings.TrimSpace(in.Msg.Body))
	single := word != "" && !strings.ContainsAny(word, " \t\n")
	var optIn *bool
	switch {
	case single && stopWords[word]:
		p := decided("opt-out")
		if !out { // confirm once
			p.Answer.Replies = []string{OptOutConfirmation}
		}
		p.OptOut, p.End = ptr(true), true
		return p, nil
	case single && startWords[word]:
		if out {
			p := decided("opt-in", OptInConfirmation)
			p.OptOut = ptr(false)
			return p, nil
		}
		// Not opted out: START is recorded, and is an ordinary message for the flow.
		optIn = ptr(false)
	case single && helpWords[word] && !out:
		help := in.Route.Program.Help
		if help == "" {
			help = DefaultHelp
		}
		return decided("help", help), nil
	case out:
		// Stored (nothing accepted is lost) but neither routed nor answered.
		return decided("opted-out"), nil
	}
	p, err := runFlow(ctx, in, applets)
	if p != nil {
		p.OptOut = optIn
	}
	return p, err
}

func runFlow(ctx context.Context, in *stepInput, applets appletRunner) (*plan, error) {
	flow, version, prog := in.Route.Flow, in.Route.Version, in.Route.Program
	var st *vm.State
	if in.Conv != nil {
		// Resume on the version the conversation started with.
		flow, version, prog = in.Conv.Flow, in.Conv.Version, in.ConvProgram
		st = &vm.State{}
		if err := json.Unmarshal(in.Conv.State, st); err != nil {
			return nil, fmt.Errorf("conversation state: %w", err)
		}
	}
	m := in.Msg
	ev := vm.Event{Kind: vm.EventMessage, Message: vm.Message{ID: m.SID, From: m.From, To: m.To, Body: m.Body, Media: m.Media}}
	res, err := vm.Run(ctx, prog, st, ev, &runEnv{now: in.Now, contact: in.Contact, applets: applets}, vm.Options{Trace: true, EventBudget: in.EventBudget})
	p := &plan{Answer: Answer{Outcome: "routed", Flow: flow, Replies: []string{}}, Flow: flow, Version: version, Record: true}
	if err != nil {
		// A broken program or state must not lose the message: store it
		// as an error and end the conversation.
		p.Answer.Outcome, p.End, p.FlowErr = "error", true, err
		return p, nil
	}
	collect(p, in, prog, res)
	return p, nil
}

// timerStep runs the timeout branch of a conversation whose deadline
// passed. Its replies go out through the outbox: no webhook is waiting.
func timerStep(ctx context.Context, in *stepInput, applets appletRunner) (*plan, error) {
	st := &vm.State{}
	if err := json.Unmarshal(in.Conv.State, st); err != nil {
		return nil, fmt.Errorf("conversation state: %w", err)
	}
	m := in.Msg
	ev := vm.Event{Kind: vm.EventTimer, Message: vm.Message{ID: m.SID, From: m.From, To: m.To}}
	res, err := vm.Run(ctx, in.ConvProgram, st, ev, &runEnv{now: in.Now, contact: in.Contact, applets: applets}, vm.Options{Trace: true, EventBudget: in.EventBudget})
	if err != nil {
		return &plan{Flow: in.Conv.Flow, Version: in.Conv.Version, End: true, FlowErr: err}, nil
	}
	p := &plan{Answer: Answer{Flow: in.Conv.Flow, Replies: []string{}}, Flow: in.Conv.Flow, Version: in.Conv.Version, Record: true}
	collect(p, in, in.ConvProgram, res)
	for _, r := range p.Answer.Replies {
		p.Outbox = append(p.Outbox, store.OutboxItem{Kind: "sms", To: m.From, From: m.To, Body: storable(r), Contact: m.From,
			MessageSID: m.SID, Created: in.Now, NotBefore: in.Now})
	}
	p.Answer.Outcome = "timer"
	return p, nil
}

// collect turns a run's actions into the plan.
func collect(p *plan, in *stepInput, prog *vm.Program, res *vm.Result) {
	m := in.Msg
	if len(res.Errors) > 0 {
		p.Answer.Outcome = "routed-with-errors"
	}
	for _, a := range res.Actions {
		switch a.Kind {
		case vm.ActReply:
			p.Answer.Replies = append(p.Answer.Replies, a.Text)
		case vm.ActDeliver:
			p.Deliver = append(p.Deliver, a.Target)
		case vm.ActForward:
			body, _ := json.Marshal(map[string]any{"flow": p.Flow, "message_sid": m.SID, "from": m.From, "to": m.To, "body": m.Body, "media": m.Media})
			p.Outbox = append(p.Outbox, store.OutboxItem{Kind: a.Target.Kind, To: storable(a.Target.Name), From: m.To, Body: string(body),
				MessageSID: m.SID, Created: in.Now, NotBefore: in.Now})
		case vm.ActTag:
			p.Tags = append(p.Tags, storable(a.Text))
		}
	}
	if res.State == nil {
		p.End = true
	} else if state, err := json.Marshal(res.State); err != nil {
		p.Answer.Outcome, p.End, p.FlowErr = "error", true, fmt.Errorf("conversation state: %w", err)
	} else {
		p.Save = &store.Conversation{Contact: m.From, Number: m.To, Flow: p.Flow, Version: p.Version,
			State: state, Deadline: res.State.Deadline, Updated: in.Now}
	}
	p.Trace = traceJSON(prog, res)
}

// storable makes text computed by a flow (an applet's tag, reply or
// forward target) storable in a text column: PostgreSQL refuses NUL and
// invalid UTF-8, which would fail the transaction on every retry. Both
// become U+FFFD, as TwiML's encoding already renders them.
func storable(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func ptr[T any](v T) *T { return &v }

// runEnv is the VM's environment for one step: the step's clock and
// contact, and the applet runner.
type runEnv struct {
	now     time.Time
	contact runtime.Contact
	applets appletRunner
}

func (e *runEnv) Now() time.Time { return e.now }

func (e *runEnv) Contact(context.Context, string) (runtime.Contact, error) { return e.contact, nil }

func (e *runEnv) RunApplet(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	if e.applets == nil {
		return nil, fmt.Errorf("JavaScript applets are not enabled on this server")
	}
	return e.applets(ctx, a, in)
}
