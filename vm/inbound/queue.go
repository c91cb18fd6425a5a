package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/queue"
)

// QueueData is what the caller read of one team's queue for a step
// (Input.Queues, by team): the members, in the directory's order, with
// their availability, weights and counters; the team's round-robin
// memory; how many other conversations wait in it (not yet taken).
type QueueData struct {
	Members []queue.Member
	Memory  string // rrmemory: the member offered last (store QueuePlan.Memory)
	Waiting int    // conversations waiting or offered, this one excluded
}

// Agent actions (AgentEvent.Kind).
const (
	AgentAccept   = "accept"
	AgentReply    = "reply"
	AgentTransfer = "transfer"
	AgentFinish   = "finish"
)

// AgentEvent is a person acting on a queued conversation (the agent API;
// offline, a .flowtest's `agent` step). It is the step's event instead of
// a message or a timer.
type AgentEvent struct {
	Kind string // accept, reply, transfer, finish
	User string // who acts
	Text string // reply: the text sent to the contact
	To   string // transfer: user:NAME or team:NAME
}

// Queue events (QueuePlan.Event): what happened to the conversation's
// place in its queue. The server keeps its statistics from them.
const (
	QueueEntered     = "entered"     // it entered the queue (Offer: who is offered it; none: it waits)
	QueueFull        = "full"        // the queue had no room: `on full` ran
	QueueJoined      = "joined"      // the contact's text joined it (Notify: the assignee, if any)
	QueueAccepted    = "accepted"    // Ticket.Assignee took it
	QueueReplied     = "replied"     // the assignee's text went to the contact (Plan.Replies)
	QueueTransferred = "transferred" // offered to another user or team (Offer)
	QueueReoffered   = "reoffered"   // a reservation passed: offered to the next (Offer)
	QueueReturned    = "returned"    // a transfer passed: back with who transferred it
	QueueTimedOut    = "timeout"     // nobody took it in time: `on timeout` ran (abandoned)
	QueueFinished    = "finished"    // the assignee finished it: `on done` ran
	QueueClosed      = "closed"      // STOP or inactivity closed it
	QueueRefused     = "refused"     // the agent's action was refused (Err)
	QueueUnchanged   = "unchanged"   // a timer with nothing due, a dispatch with nobody to offer it to
	QueueOffered     = "offered"     // a dispatch offered a waiting conversation (Offer)
)

// QueuePlan is what a step did to the conversation's place in a queue.
type QueuePlan struct {
	Team   string
	Event  string        // one of the Queue* events
	Ticket *queue.Ticket // its place now (as saved in the state); nil when it left the queue
	Offer  []string      // members newly offered it: tell them
	Memory string        // the team's new round-robin memory; "": unchanged
	Notify string        // the member to tell of the contact's text (joined)
	// On accept: Taken when it was taken from the queue (not a
	// transfer), and then the time it waited and whether that met the
	// service level.
	Taken              bool
	Waited             time.Duration
	WithinServiceLevel bool
	Left               bool // it left the queue (finished, timed out, closed)
	// Max is the queue's `max` when the event was decided by it
	// (entered, full; 0: no limit): what a commit must find still true.
	Max int
	Err error // refused: queue.ErrNotYours (the API's 403), queue.ErrState, ErrOptedOut
	// Previous is how it left its last queue (finished, timed out) when
	// the flow then queued it again in the same step (Event: entered).
	Previous *QueuePlan
}

// leftThen records that the conversation left a queue (left) and, if
// the flow queued it again in the same run, that too.
func leftThen(p *Plan, left *QueuePlan) {
	if p.Queue != nil && (p.Queue.Event == QueueEntered || p.Queue.Event == QueueHandedOff) {
		p.Queue.Previous = left
		return
	}
	p.Queue = left
}

// ErrNobodyAvailable refuses a transfer to a team none of whose members
// is available: it would sit with nobody, so it stays with the assignee.
var ErrNobodyAvailable = errors.New("nobody can take it")

// ErrOptedOut refuses an agent's reply to a contact who sent STOP.
var ErrOptedOut = errors.New("the contact has opted out")

// queueOf returns the state's ticket and the settings of the queue step
// it waits at; ok is false when the state is not waiting in a queue.
func queueOf(prog *vm.Program, st *vm.State) (queue.Settings, *queue.Ticket, bool) {
	if s, t, ok := handoffOf(st); ok {
		return s, t, true
	}
	if st == nil || st.Queue == nil || st.PC < 0 || st.PC >= len(prog.Code) || prog.Code[st.PC] != vm.OpQueue {
		return queue.Settings{}, nil, false
	}
	return prog.Queues[prog.Args[st.PC]].Settings, st.Queue, true
}

func decodeState(c *Conversation) (*vm.State, error) {
	st := &vm.State{}
	if err := json.Unmarshal(c.State, st); err != nil {
		return nil, fmt.Errorf("conversation state: %w", err)
	}
	return st, nil
}

// saveTicket stores the ticket in the state and the plan's Save, with
// the queue's next deadline as the conversation's timer.
func saveTicket(p *Plan, s queue.Settings, st *vm.State, t *queue.Ticket) {
	st.Queue = t
	state, err := json.Marshal(st)
	if err != nil {
		p.Outcome, p.End, p.FlowErr = OutcomeError, true, fmt.Errorf("conversation state: %w", err)
		return
	}
	held := *st // a copy of its own: the plan's ticket may change after
	held.Queue = t.Clone()
	p.Save = &Saved{State: state, Deadline: queue.Next(s, t), held: &held}
}

// joinStep: a message from a contact whose conversation is queued joins
// it instead of running the flow; the assignee (if any) is told.
func joinStep(in *Input, st *vm.State, s queue.Settings, t *queue.Ticket) *Plan {
	p := &Plan{Outcome: OutcomeQueued, Flow: in.Conv.Flow, Version: in.Conv.Version, Replies: []string{}, Record: true, Program: in.Conv.Program}
	t = queue.Contact(t, in.Now)
	p.Queue = &QueuePlan{Team: t.Team, Event: QueueJoined, Ticket: t, Notify: t.Assignee}
	p.Forwards = joinedForward(in, in.Conv.Flow, st, t) // a handoff's webhook gets the text (handoff.go)
	p.Deliver = joinedDelivery(st, t)                   // an inbox's holder gets it in their inbox (handoff.go)
	saveTicket(p, s, st, t)
	return p
}

// OutcomeQueued is a message that joined a queued conversation.
const OutcomeQueued = "queued"

// closeQueued is STOP's effect on a queued conversation: it leaves the
// queue (the assignee is told).
func closeQueued(in *Input) *QueuePlan {
	if in.Conv == nil {
		return nil
	}
	st, err := decodeState(in.Conv)
	if err != nil {
		return nil
	}
	if _, t, ok := queueOf(in.Conv.Program, st); ok {
		return &QueuePlan{Team: t.Team, Event: QueueClosed, Notify: t.Assignee, Left: true}
	}
	return nil
}

// afterRun completes a run's plan when the run entered a queue (offer it
// to the team's members, as the strategy picks) or found it full.
func afterRun(p *Plan, in *Input, res *vm.Result) {
	for _, s := range res.Trace {
		if s.Outcome.Kind == vm.BranchFull && s.PC < len(p.Program.Code) {
			q := p.Program.Queues[p.Program.Args[s.PC]]
			p.Queue = &QueuePlan{Team: q.Team, Event: QueueFull, Max: q.Settings.Max}
		}
	}
	if res.State == nil || p.Save == nil {
		return
	}
	entered := false
	for _, a := range res.Actions {
		entered = entered || a.Kind == vm.ActQueue
	}
	s, t, ok := queueOf(p.Program, res.State)
	if !ok || !entered {
		return
	}
	d := in.Queues[t.Team]
	if d == nil {
		d = &QueueData{}
	}
	t, off := queue.Offer(s, t, queue.Pick{Members: d.Members, Memory: d.Memory, Seed: in.Msg.ID}, in.Now)
	p.Queue = &QueuePlan{Team: t.Team, Event: QueueEntered, Ticket: t, Offer: off.To, Memory: off.Last, Max: s.Max}
	st := *res.State
	saveTicket(p, s, &st, t)
}

// queueTimer runs a queued conversation's timer: the limit that passed.
// The wait runs the flow (`on timeout`, done: false to let the caller
// run it); the others are the queue's.
func queueTimer(in *Input, st *vm.State, s queue.Settings, t *queue.Ticket) (p *Plan, runFlow bool) {
	limit := queue.Due(s, t, in.Now)
	if limit == queue.LimitWait {
		return nil, true
	}
	p = &Plan{Outcome: OutcomeTimer, Flow: in.Conv.Flow, Version: in.Conv.Version, Replies: []string{}, Record: true, Program: in.Conv.Program}
	qp := &QueuePlan{Team: t.Team, Event: QueueUnchanged, Ticket: t}
	p.Queue = qp
	switch limit {
	case queue.LimitReservation:
		t, _ = queue.Expire(t, limit, in.Now)
		d := in.Queues[t.Team]
		if d == nil {
			d = &QueueData{}
		}
		var off queue.Offering
		t, off = queue.Offer(s, t, queue.Pick{Members: d.Members, Memory: d.Memory, Seed: in.Msg.ID}, in.Now)
		qp.Event, qp.Ticket, qp.Offer, qp.Memory = QueueReoffered, t, off.To, off.Last
	case queue.LimitTransfer:
		t, _ = queue.Expire(t, limit, in.Now)
		qp.Event, qp.Ticket, qp.Notify = QueueReturned, t, t.Assignee
	case queue.LimitInactivity:
		qp.Event, qp.Ticket, qp.Left, qp.Notify = QueueClosed, nil, true, t.Assignee
		p.End = true
		return p, false
	}
	saveTicket(p, s, st, t)
	return p, false
}

// agentStep runs a person's action on a queued conversation.
func agentStep(ctx context.Context, in *Input, applets AppletRunner) (*Plan, error) {
	a := in.Agent
	refused := func(team string, err error) *Plan {
		p := &Plan{Outcome: OutcomeRefused, Replies: []string{}}
		if in.Conv != nil {
			p.Flow, p.Version = in.Conv.Flow, in.Conv.Version
		}
		p.Queue = &QueuePlan{Team: team, Event: QueueRefused, Err: err}
		return p
	}
	if in.Conv == nil {
		return refused("", queue.ErrState), nil
	}
	st, err := decodeState(in.Conv)
	if err != nil {
		return nil, err
	}
	s, t, ok := queueOf(in.Conv.Program, st)
	if !ok {
		return refused("", queue.ErrState), nil
	}
	if st.PC == -1 { // held without a queue step (handoff.go)
		return handoffAgentStep(in, st, t), nil
	}
	p := &Plan{Outcome: OutcomeAgent, Flow: in.Conv.Flow, Version: in.Conv.Version, Replies: []string{}, Record: true, Program: in.Conv.Program}
	qp := &QueuePlan{Team: t.Team}
	p.Queue = qp
	switch a.Kind {
	case AgentAccept:
		var waited time.Duration
		first := t.Status == queue.Offered
		if t, waited, err = queue.Accept(t, a.User, in.Now); err != nil {
			return refused(qp.Team, err), nil
		}
		qp.Event = QueueAccepted
		if first {
			qp.Taken, qp.Waited, qp.WithinServiceLevel = true, waited, queue.WithinServiceLevel(s, waited)
		}
	case AgentReply:
		if in.OptedOut {
			return refused(qp.Team, ErrOptedOut), nil
		}
		if t, err = queue.Reply(t, a.User, in.Now); err != nil {
			return refused(qp.Team, err), nil
		}
		qp.Event, p.Replies = QueueReplied, []string{a.Text}
	case AgentTransfer:
		if t, err = queue.Transfer(t, a.User, a.To, in.Now); err != nil {
			return refused(qp.Team, err), nil
		}
		qp.Event, qp.Offer = QueueTransferred, t.Offered
		if len(a.To) > 5 && a.To[:5] == "team:" {
			d := in.Queues[a.To[5:]]
			if d == nil {
				d = &QueueData{}
			}
			ts := s
			ts.Strategy = queue.RingAll // a transfer to a team goes to every available member
			var off queue.Offering
			t, off = queue.Offer(ts, t, queue.Pick{Members: d.Members, Seed: in.Msg.ID}, in.Now)
			if len(off.To) == 0 { // nobody to take it: refused, it stays with the assignee
				return refused(qp.Team, fmt.Errorf("%w: nobody of %s is available", ErrNobodyAvailable, a.To)), nil
			}
			qp.Offer = off.To
		}
	case AgentFinish:
		if err := queue.Finish(t, a.User); err != nil {
			return refused(qp.Team, err), nil
		}
		m := in.Msg
		ev := vm.Event{Kind: vm.EventQueueDone, Message: vm.Message{ID: m.ID, From: m.From, To: m.To}}
		res, err := vm.Run(ctx, in.Conv.Program, st, ev, env(in, applets), options(in))
		if err != nil { // `on done` failed: it is finished all the same (and counted so)
			p.End, p.FlowErr, p.Outcome = true, err, OutcomeError
			qp.Event, qp.Left, qp.Notify = QueueFinished, true, t.Assignee
			return p, nil
		}
		p.Queue = nil
		collect(p, in, res)
		p.Outcome = OutcomeAgent
		qp.Event, qp.Left, qp.Ticket = QueueFinished, true, nil
		qp.Notify = t.Assignee
		leftThen(p, qp)
		return p, nil
	default:
		return refused(qp.Team, fmt.Errorf("unknown agent action %q", a.Kind)), nil
	}
	qp.Ticket = t
	saveTicket(p, s, st, t)
	return p, nil
}

// Outcomes of an agent's action.
const (
	OutcomeAgent   = "agent"
	OutcomeRefused = "refused"
)

// Waiting implements vm.QueueCounter from Input.Queues.
func (e *runEnv) Waiting(team string) int {
	if d := e.queues[team]; d != nil {
		return d.Waiting
	}
	return 0
}

// QueueMembers is a team's members as QueueData wants them, from the
// directory: in its order, with their availability and weight. The
// caller adds what it counts (queue.Member.LastDone, Handled) and its
// own availability changes; nil when the team is unknown.
func QueueMembers(d *directory.Directory, team string) []queue.Member {
	if d == nil {
		return nil
	}
	t, ok := d.Team(team)
	if !ok {
		return nil
	}
	var out []queue.Member
	for _, name := range t.Members {
		if u, ok := d.User(name); ok {
			out = append(out, queue.Member{Name: name, Available: u.IsAvailable(), Weight: u.Weight})
		}
	}
	return out
}

// QueueTeams are the teams a program's queue steps name, in order: the
// teams whose QueueData a step of it may need (with a transfer's target).
func QueueTeams(p *vm.Program) []string {
	var out []string
	for _, q := range p.Queues {
		if !slices.Contains(out, q.Team) {
			out = append(out, q.Team)
		}
	}
	return out
}

// dispatchStep offers a waiting conversation again, to the members
// available now (Input.Dispatch).
func dispatchStep(in *Input) (*Plan, error) {
	p := &Plan{Outcome: OutcomeDispatch, Replies: []string{}}
	if in.Conv == nil {
		return p, nil
	}
	p.Flow, p.Version, p.Program = in.Conv.Flow, in.Conv.Version, in.Conv.Program
	st, err := decodeState(in.Conv)
	if err != nil {
		return nil, err
	}
	s, t, ok := queueOf(in.Conv.Program, st)
	if !ok || t.Team == "" || (t.Status != queue.Waiting && t.Status != queue.Offered) {
		return p, nil
	}
	d := in.Queues[t.Team]
	if d == nil {
		d = &QueueData{}
	}
	if t.Status == queue.Offered {
		// An offer held by a member who went away passes on, as if its
		// reservation had run out; an offer to members all still here stays.
		if !offeredToSomeoneAway(t, d.Members) {
			return p, nil
		}
		t, _ = queue.Expire(t, queue.LimitReservation, in.Now)
	}
	t, off := queue.Offer(s, t, queue.Pick{Members: d.Members, Memory: d.Memory, Seed: in.Msg.ID}, in.Now)
	p.Queue = &QueuePlan{Team: t.Team, Event: QueueUnchanged, Ticket: t}
	if len(off.To) > 0 {
		p.Queue.Event, p.Queue.Offer, p.Queue.Memory = QueueOffered, off.To, off.Last
		saveTicket(p, s, st, t)
	}
	return p, nil
}

// offeredToSomeoneAway reports whether the ticket is offered to a
// member who is not available now.
func offeredToSomeoneAway(t *queue.Ticket, members []queue.Member) bool {
	for _, name := range t.Offered {
		i := slices.IndexFunc(members, func(m queue.Member) bool { return m.Name == name })
		if i < 0 || !members[i].Available {
			return true
		}
	}
	return false
}

// OutcomeDispatch is a dispatch step's outcome (nothing is recorded).
const OutcomeDispatch = "dispatch"
