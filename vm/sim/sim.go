// Package sim runs flows offline: a fake clock, an in-memory contact
// directory and a conversation driver that fires timers when the clock
// passes their deadline. `flowc run` and `flowc test` are built on it.
//
// Every event goes through vm/inbound, the inbound stage the server runs
// too: STOP, START and HELP are answered as the server answers them, a
// contact is what the directory says of it plus the tags flows added in
// its earlier conversations, and a conversation's state is kept as the
// same JSON the server stores. The server adds only persistence and
// delivery; sim keeps in memory what it keeps in its store: per contact
// and number the conversation and the opt-out (Conversation), per
// contact the added tags (Env), and for queues (queue.go) each team's
// round-robin memory, each member's finished count and last finish,
// availability changes and other conversations said to wait. People act
// on a queued conversation with Conversation.Agent, through the same
// stage (Input.Agent). A call to a call flow is a Conversation too: its
// events go through Conversation.Call (voice.go; Input.Call).
package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// AppletFunc runs an applet for the simulator.
type AppletFunc func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error)

// Env is an offline vm.Env, and the simulated server's memory that
// outlives a conversation.
type Env struct {
	Clock time.Time
	// Contacts are contacts given as the VM sees them; a number here
	// wins over Directory.
	Contacts map[string]runtime.Contact
	// Directory is the directory file (directory.json), as the server
	// reads it: contacts with their names, owners, tags and fields.
	Directory *directory.Directory
	Applets   AppletFunc
	// EventBudget is the time all applet calls of one event may take
	// (vm.Options.EventBudget); zero: vm.DefaultEventBudget.
	EventBudget time.Duration
	// Lists are the operator's lists (`list("blocked")`) as sets, by name.
	Lists map[string]map[string]bool
	// HTTP answers the flows' http steps: a .flowtest's mocks
	// (vm/scenario), or the network (`flowc run --net`). Nil: they fail.
	HTTP vm.HTTPDoer

	edits map[string]*contactEdits // what flows removed and set, per contact (effects.go)
	marks map[string]map[string]time.Time

	// History is each contact's interactions, newest first: what a
	// scenario gives, then what the simulator records as it runs (each
	// inbound text, and each reply as an outbound text without a user),
	// as the server's interactions table does. Campaigns is each
	// contact's last campaign message. Add to them with Record.
	History   map[string][]runtime.Interaction
	Campaigns map[string]*runtime.Campaign

	lastTexted, lastCalled map[string]*runtime.Interaction // per contact, the newest text and call with a user (runtime.History)

	tags       map[string][]string // tags flows added, per contact, sorted (as the store keeps them)
	roundRobin map[string]int64    // per team, the round-robin counter (the store's)
	queues     queueMemory         // the queues' memory and members' counters (queue.go)
	open       map[string]int      // per user, the inbox items assigned (none is closed offline)
}

// Delivery is an inbox item a step made: its target and the member it
// went to ("" when a team had no available member or no strategy: the
// item waits in the team's queue).
type Delivery struct {
	Target   vm.Target
	Assignee string
}

// deliver assigns an inbox item as the server's commit does, through
// inbound.Assign, keeping the counters in memory.
func (e *Env) deliver(t vm.Target, messageID string) Delivery {
	d := Delivery{Target: t}
	if t.Kind == "user" {
		d.Assignee = t.Name
	} else if e.Directory != nil {
		a := inbound.Assignment{Strategy: t.Strategy, Members: e.Directory.Members(t.Name),
			Counter: e.roundRobin[t.Name], Open: e.open, MessageID: messageID}
		var advance bool
		d.Assignee, advance = inbound.Assign(a)
		if advance {
			if e.roundRobin == nil {
				e.roundRobin = map[string]int64{}
			}
			e.roundRobin[t.Name]++
		}
	}
	if d.Assignee != "" {
		if e.open == nil {
			e.open = map[string]int{}
		}
		e.open[d.Assignee]++
	}
	return d
}

// Now implements vm.Env.
func (e *Env) Now() time.Time { return e.Clock }

// Contact implements vm.Env: the contact as a flow sees it, with the
// tags flows added to it so far.
func (e *Env) Contact(_ context.Context, phone string) (runtime.Contact, error) {
	return e.contact(phone), nil
}

func (e *Env) contact(phone string) runtime.Contact {
	added := e.tags[phone]
	if c, ok := e.Contacts[phone]; ok {
		c.Tags = append(append([]string(nil), c.Tags...), added...)
		return e.edited(phone, c).WithHistory(e.history(phone)) // effects.go
	}
	var entry *directory.Contact
	if e.Directory != nil {
		for i := range e.Directory.Contacts {
			if e.Directory.Contacts[i].Phone == phone {
				entry = &e.Directory.Contacts[i]
			}
		}
	}
	return e.editedEntry(phone, entry, slices.Clone(added)).WithHistory(e.history(phone)) // effects.go
}

// history is what the store knows of the contact's past.
func (e *Env) history(phone string) runtime.History {
	return runtime.History{Interactions: e.History[phone], Campaign: e.Campaigns[phone],
		LastTexted: e.lastTexted[phone], LastCalled: e.lastCalled[phone]}
}

// Record adds an interaction of the contact phone in its place by time,
// newest first (before those of the same time), keeping the newest
// runtime.MaxInteractions. The slice is copied: a contact read before
// keeps its history.
func (e *Env) Record(phone string, in runtime.Interaction) {
	if e.History == nil {
		e.History = map[string][]runtime.Interaction{}
	}
	old := e.History[phone]
	i := 0
	for i < len(old) && old[i].At.After(in.At) {
		i++
	}
	// As the server's lookups do, the newest text and call that have a
	// user outlive the MaxInteractions newest.
	if in.TextedBy() && (e.lastTexted[phone] == nil || !e.lastTexted[phone].At.After(in.At)) {
		e.lastTexted = setLast(e.lastTexted, phone, in)
	}
	if in.CalledBy() && (e.lastCalled[phone] == nil || !e.lastCalled[phone].At.After(in.At)) {
		e.lastCalled = setLast(e.lastCalled, phone, in)
	}
	h := make([]runtime.Interaction, 0, len(old)+1)
	h = append(append(append(h, old[:i]...), in), old[i:]...)
	e.History[phone] = h[:min(len(h), runtime.MaxInteractions)]
}

func setLast(m map[string]*runtime.Interaction, phone string, in runtime.Interaction) map[string]*runtime.Interaction {
	if m == nil {
		m = map[string]*runtime.Interaction{}
	}
	m[phone] = &in
	return m
}

// SetCampaign records a campaign message sent to the contact phone: an
// outbound text of the campaign, and its reply address for
// contact.campaign.
func (e *Env) SetCampaign(phone, number string, c runtime.Campaign) {
	if e.Campaigns == nil {
		e.Campaigns = map[string]*runtime.Campaign{}
	}
	if cur := e.Campaigns[phone]; cur == nil || !cur.At.After(c.At) { // the newest, whatever order the scenario gives them in (the server's ORDER BY at DESC)
		e.Campaigns[phone] = &c
	}
	name := c.Name
	e.Record(phone, runtime.Interaction{Kind: runtime.InteractionSMS, Direction: runtime.DirectionOutbound, Number: number, Campaign: &name, At: c.At})
}

// HasUser, HasTeam and Number implement vm.Directory from Directory.
func (e *Env) HasUser(name string) bool {
	if e.Directory == nil {
		return true
	}
	_, ok := e.Directory.User(name)
	return ok
}

func (e *Env) HasTeam(name string) bool {
	if e.Directory == nil {
		return true
	}
	_, ok := e.Directory.Team(name)
	return ok
}

func (e *Env) Number(number string) runtime.Number {
	if e.Directory == nil {
		return runtime.Number{}
	}
	n, ok := e.Directory.Number(number)
	if !ok {
		return runtime.Number{}
	}
	return runtime.NumberSettings(n.Name, n.BackupEmail, n.Settings)
}

// AddedTags are the tags flows added to the contact, sorted.
func (e *Env) AddedTags(phone string) []string { return slices.Clone(e.tags[phone]) }

func (e *Env) addTags(phone string, tags []string) {
	if len(tags) == 0 {
		return
	}
	if e.tags == nil {
		e.tags = map[string][]string{}
	}
	cur := e.tags[phone]
	for _, t := range tags {
		if !slices.Contains(cur, t) { // adding a tag again does nothing
			cur = append(cur, t)
		}
	}
	slices.Sort(cur)
	e.tags[phone] = cur
}

// List implements vm.Env from the scenario's lists.
func (e *Env) List(_ context.Context, name string) (map[string]bool, error) {
	return e.Lists[name], nil
}

// RunApplet implements vm.Env.
func (e *Env) RunApplet(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	if e.Applets == nil {
		return nil, fmt.Errorf("no applet runner configured")
	}
	return e.Applets(ctx, a, in)
}

// Conversation is one contact texting one number of a flow.
type Conversation struct {
	Prog *vm.Program
	Env  *Env
	From string
	To   string
	// State is the conversation in progress (nil: the next message
	// starts the flow), as decoded from the JSON the server would store.
	State *vm.State
	// OptedOut: the contact sent STOP to this number (and not START since).
	OptedOut bool
	// Trace is kept for callers; the stage always records the trace, as
	// the server does.
	Trace bool
	// Last is what the inbound stage decided for the last event.
	Last *inbound.Plan
	// Delivered are the inbox items of the last Send, or of every timer
	// the last Wait fired, with the member each went to.
	Delivered []Delivery
	seq       int
	started   time.Time // when the conversation in progress started (its ConversationID's)
	// deadline is the conversation's timer as the stage saved it
	// (Saved.Deadline): its State's, or a queue limit's.
	deadline time.Time
}

// Send delivers an inbound message and returns what was decided, as the
// VM's result (Conversation.Last has the stage's whole plan).
func (c *Conversation) Send(ctx context.Context, body string) (*vm.Result, error) {
	return c.SendMessage(ctx, vm.Message{Body: body})
}

// SendMessage is Send with the message's other fields (media…); its
// ID, From and To are filled in when empty.
func (c *Conversation) SendMessage(ctx context.Context, m vm.Message) (*vm.Result, error) {
	c.seq++
	if m.ID == "" {
		m.ID = fmt.Sprintf("SM%06d", c.seq)
	}
	if m.From == "" {
		m.From = c.From
	}
	if m.To == "" {
		m.To = c.To
	}
	in := c.input(false, m)
	in.Route = &inbound.Route{Flow: c.Prog.Name, Version: c.Prog.Version, Program: c.Prog}
	in.OptedOut = c.OptedOut
	return c.step(ctx, in)
}

// Wait advances the clock by d. If the conversation's deadline falls
// inside that time, the clock stops at the deadline, the timer fires and
// its result is returned; then the clock moves on to the end of d.
func (c *Conversation) Wait(ctx context.Context, d time.Duration) ([]*vm.Result, error) {
	end := c.Env.Clock.Add(d)
	var out []*vm.Result
	var delivered []Delivery // of every timer that fired
	defer func() {
		if len(out) > 0 {
			c.Delivered = delivered
		}
	}()
	for c.State != nil && !c.deadline.IsZero() && !c.deadline.After(end) {
		if c.deadline.After(c.Env.Clock) {
			c.Env.Clock = c.deadline
		}
		res, err := c.step(ctx, c.input(true, vm.Message{ID: inbound.TimerID(c.From, c.To, c.deadline), From: c.From, To: c.To}))
		if err != nil {
			return out, err
		}
		delivered = append(delivered, c.Delivered...)
		out = append(out, res)
	}
	c.Env.Clock = end
	return out, nil
}

func (c *Conversation) input(timer bool, m vm.Message) *inbound.Input {
	in := &inbound.Input{Timer: timer, Msg: m, Now: c.Env.Clock, Contact: c.Env.contact(c.From),
		Lists: c.Env.List, Directory: c.Env.Directory,
		EventBudget: c.Env.EventBudget, AppletLogs: true, // offline, console output is part of what the author sees
		HTTP: c.Env.HTTP, Marks: c.Env.marksOf(c.From, m.To), // effects.go
		Queues: c.Env.queueData(c.Prog, c.State)}
	if c.State != nil {
		state, _ := json.Marshal(c.State)
		in.Conv = &inbound.Conversation{Flow: c.Prog.Name, Version: c.Prog.Version, Program: c.Prog, State: state, Started: c.started}
	}
	return in
}

// record keeps the step's texts in the contact's history, as the
// server's commit does: the inbound message (not a timer) and each
// reply, an outbound text without a user. They are recorded after the
// step, so a flow sees the history before its message.
func (c *Conversation) record(in *inbound.Input, p *inbound.Plan) {
	for _, x := range inbound.Interactions(in, p) {
		c.Env.Record(c.From, x)
	}
}

// step runs one event through the inbound stage and keeps its effects.
// A failing run ends the conversation (as on the server) and is
// returned as the error.
func (c *Conversation) step(ctx context.Context, in *inbound.Input) (*vm.Result, error) {
	p, err := inbound.Step(ctx, in, inbound.AppletRunner(c.Env.RunApplet))
	if err != nil {
		return nil, err
	}
	c.Last = p
	c.Delivered = nil
	c.record(in, p)
	for i, t := range p.Deliver {
		d := c.Env.deliver(t, in.Msg.ID)
		c.Delivered = append(c.Delivered, d)
		if i == len(p.Deliver)-1 && t.Kind == "team" && p.Save != nil {
			p.Save.State = inbound.HoldFor(p.Save.State, t.Name, d.Assignee) // as the server's commit does
		}
	}
	if p.OptOut != nil {
		c.OptedOut = *p.OptOut
	}
	c.Env.addTags(c.From, p.Tags)
	c.Env.applyEffects(c.From, in.Msg.To, p) // effects.go
	c.Env.applyQueue(p.Queue, c.State, c.Env.Clock)
	switch {
	case p.Save != nil:
		c.deadline = p.Save.Deadline
		st := &vm.State{}
		if err := json.Unmarshal(p.Save.State, st); err != nil {
			return nil, fmt.Errorf("conversation state: %w", err)
		}
		if c.State == nil {
			c.started = in.Now
		}
		c.State = st
	case p.End:
		c.State, c.deadline = nil, time.Time{}
	}
	if p.FlowErr != nil {
		return nil, p.FlowErr
	}
	if p.Result != nil {
		return p.Result, nil
	}
	// The stage decided (STOP, START, HELP, an opted-out contact, a text
	// that joined a handed-off conversation): its replies, its forwards,
	// and the end of the conversation STOP interrupted, as actions.
	res := &vm.Result{}
	for _, r := range p.Replies {
		res.Actions = append(res.Actions, vm.Action{Kind: vm.ActReply, Text: r, PC: -1})
	}
	for _, f := range p.Forwards {
		res.Actions = append(res.Actions, vm.Action{Kind: vm.ActForward, Target: vm.Target{Kind: f.Kind, Name: f.To}, PC: -1})
	}
	if p.End && in.Conv != nil {
		res.Actions = append(res.Actions, vm.Action{Kind: vm.ActEnd, PC: -1})
	}
	return res, nil
}
