package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// This file is the part of a step that touches the store (see doc.go):
// readStep gathers a stepInput in one statement, and applyStep re-checks
// it and applies the plan in a write transaction: the step's own
// (commitStep) or a batch's (groupCommit, groupcommit.go). process ties
// them together around the pure step, with no transaction open while the
// VM and applets run.

// MaxStepAttempts bounds how many times one event is read, run and
// committed when each commit finds that the conversation changed since
// its read (another replica committed a step of it first). Within one
// process a conversation's steps never overlap (keyedFIFO), so only
// replicas, or a deployment racing a conversation's first message, make
// a step run again.
const MaxStepAttempts = 4

// snapshot is what readStep found.
type snapshot struct {
	in       stepInput
	revision int64   // the conversation's revision the input was read at
	routes   int64   // the route table's version the route was found in
	stored   *Answer // the MessageSid was answered before: answer that
	idle     bool    // a timer with nothing to fire (ended, answered, not due)
}

// processed is the outcome of one event.
type processed struct {
	answer *Answer            // nil when nothing happened (an idle timer)
	retry  bool               // the answer is the one stored for an earlier delivery
	queue  *inbound.QueuePlan // what the step did to the conversation's place in a queue
}

// errSIDReused: the MessageSid is stored for another conversation.
func errSIDReused(field, sid string) error {
	return &badRequest{http.StatusConflict, fmt.Sprintf("%s %s was already used by a message of another contact or number", field, sid)}
}

// errConversationBusy: MaxStepAttempts commits all found the conversation
// changed. Answered 503, which the provider may retry
// (Twilio only when the webhook URL or a fallback URL says so).
type errConversationBusy struct{ attempts int }

func (e *errConversationBusy) Error() string {
	return fmt.Sprintf("the conversation changed during each of %d attempts to handle the message (other replicas are handling its messages)", e.attempts)
}

// process handles one event of the conversation (in.From, in.To): a
// message, or (timer) the conversation's due deadline. The caller holds
// the conversation's keyedFIFO turn.
func (s *Server) process(ctx context.Context, in Inbound, timer bool, f fieldNames) (processed, error) {
	return s.processEvent(ctx, in, event{timer: timer}, f)
}

// event is what a step handles besides the message's fields: a
// message (the zero event), the conversation's timer, a person's action
// on it (the agent API) or a dispatch (queue.go).
type event struct {
	timer    bool
	agent    *inbound.AgentEvent
	started  time.Time // agent: the start of the conversation acted on (its id's)
	dispatch bool
	// queueTurns: take the turns at the teams before reading their
	// queues (a step run again after its team's decision conflicted,
	// queue.go).
	queueTurns bool
}

// processEvent is process for any event.
func (s *Server) processEvent(ctx context.Context, in Inbound, ev event, f fieldNames) (processed, error) {
	var last *snapshot // the attempt's read: its turns at queues end with it (queue.go), even on a panic
	defer func() {
		if last != nil {
			last.in.endQueueTurns()
		}
	}()
	for attempt := 1; ; attempt++ {
		snap, p, err := s.readAndRun(ctx, in, ev, f)
		last = snap
		if err != nil {
			return processed{}, err
		}
		if snap.stored != nil {
			return processed{answer: snap.stored, retry: true}, nil
		}
		if snap.idle {
			return processed{}, nil
		}
		if err := s.takeCommitTurns(ctx, &snap.in, p); err != nil { // queue.go
			return processed{}, err
		}
		res, err := s.groupCommit(ctx, snap, p)
		snap.in.endQueueTurns()
		if errors.Is(err, store.ErrConflict) {
			s.metrics.conflicts.Inc()
			if attempt < MaxStepAttempts {
				ev.queueTurns = decidedByTeams(p) // queue.go: the next attempt reads the teams in its turns
				continue
			}
			return processed{}, &errConversationBusy{attempt}
		}
		if err != nil {
			return processed{}, err
		}
		if !res.retry {
			s.logPlan(snap, p)
		}
		res.queue = p.Queue
		return res, nil
	}
}

// readAndRun is a step's read and pure run (no plan when the read says
// there is nothing to run), counted in Server.stepping while it lasts:
// the group commit waits a moment for such steps (groupcommit.go).
func (s *Server) readAndRun(ctx context.Context, in Inbound, ev event, f fieldNames) (*snapshot, *plan, error) {
	s.stepping.Add(1)
	defer s.stepping.Add(-1)
	snap, err := s.readEvent(ctx, in, ev, f)
	if err != nil || snap.stored != nil || snap.idle {
		return snap, nil, err
	}
	snap.in.EventBudget, snap.in.HandoffIdle = s.cfg.EventBudget, s.cfg.HandoffIdle
	defer func() {
		if r := recover(); r != nil {
			snap.in.endQueueTurns() // queue.go
			panic(r)
		}
	}()
	p, err := step(ctx, &snap.in, s.cfg.Applets) // no transaction open
	return snap, p, err
}

func (s *Server) logPlan(snap *snapshot, p *plan) {
	switch {
	case p.FlowErr != nil && snap.in.Timer:
		s.log.Error("timer failed", "flow", p.Flow, "version", p.Version, "error", clipErr(p.FlowErr))
	case p.FlowErr != nil:
		s.log.Error("flow failed", "flow", p.Flow, "version", p.Version, "error", clipErr(p.FlowErr))
	case p.Answer.Outcome == "no-flow":
		s.log.Warn("no flow serves this number", "outcome", "no-flow")
	}
}

// timerSID names a deadline, so that a timer fires once.
func timerSID(c *store.Conversation) string {
	return inbound.TimerID(c.Contact, c.Number, c.Deadline)
}

// readStep reads a step's input: one statement (store.StepState, on a
// store.StepReader outside any transaction: one round trip, and on SQLite
// a read-only WAL connection, not the writers' one) for the conversation,
// its revision, the opt-out, the tags, the MessageSid (a timer's: the
// SID of the deadline the scheduler found due, in.SID) and the route
// table's version; the route table and the programs from memory (read
// again only when a deploy changed them). Nothing is locked: the
// statement is one snapshot, and the commit re-checks what matters.
func (s *Server) readStep(ctx context.Context, in Inbound, timer bool, f fieldNames) (*snapshot, error) {
	return s.readEvent(ctx, in, event{timer: timer}, f)
}

// readEvent is readStep for any event: a person's action and a dispatch
// read as a timer does (the conversation must be there; no route), and
// the queues the step may touch (queue.go).
func (s *Server) readEvent(ctx context.Context, in Inbound, ev event, f fieldNames) (*snapshot, error) {
	timer := ev.timer
	snap := &snapshot{in: stepInput{Timer: timer, Agent: ev.agent, Dispatch: ev.dispatch, Msg: in, Now: s.cfg.Now(), queueTurns: ev.queueTurns}}
	// A timer's SID names its deadline, which the state holds; in.SID is
	// the one the scheduler found due (fireTimer), looked up in the same
	// statement, and still the right one unless the deadline moved since.
	// The history and the edits are read in the same statement when the
	// number's program (as the route table in memory has it) may read
	// them: the programs are known only once the statement has answered,
	// so this is a guess, and readHistory and readEdits read what it
	// missed on their own.
	st, err := s.stepState(ctx, in.From, in.To, in.SID, s.guessReads(in.From, in.To))
	if err != nil {
		return nil, err
	}
	conv := st.Conversation
	snap.in.Conv = conv
	if ev.agent != nil || ev.dispatch {
		if conv == nil {
			return nil, errNoConversation
		}
		if started := conversationStart(&stepInput{Conv: conv}); !ev.started.IsZero() && started.Sub(ev.started).Abs() >= time.Microsecond {
			return nil, errNoConversation // that one ended; this is the contact's next conversation
		}
		snap.in.OptedOut = st.OptedOut
	} else if timer {
		if conv == nil || conv.Deadline.IsZero() || conv.Deadline.After(snap.in.Now) {
			snap.idle = true // ended meanwhile (a reply, STOP), answered, or not due yet
			return snap, nil
		}
		snap.in.Msg = Inbound{SID: timerSID(conv), From: in.From, To: in.To}
		prev := st.Answered
		if snap.in.Msg.SID != in.SID { // another deadline than the one looked up
			prev = nil
			err := s.readStoreTx(ctx, func(tx store.Tx) error {
				var err error
				prev, err = tx.MessageBySID(ctx, snap.in.Msg.SID)
				return err
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		if prev != nil {
			if _, err := answerOf(prev, snap.in.Msg, f); err != nil {
				return nil, err
			}
			snap.idle = true // fired before
			return snap, nil
		}
	} else if st.Answered != nil {
		snap.stored, err = answerOf(st.Answered, in, f)
		return snap, err
	}
	snap.revision = st.Revision
	if err := s.syncDirectory(ctx, st.DirectoryVersion); err != nil { // another replica saved one (directory.go)
		return nil, err
	}
	if !timer && ev.agent == nil && !ev.dispatch {
		rt, err := s.routeTableAt(ctx, st.RoutesVersion)
		if err != nil {
			return nil, err
		}
		snap.routes = rt.version
		if flow, version, ok := rt.route(in.To, in.From); ok {
			p, err := s.programRead(ctx, version)
			if err != nil {
				return nil, err
			}
			snap.in.Route = &routed{Flow: flow, Version: version, Program: p}
		}
		snap.in.OptedOut = st.OptedOut
	}
	if conv != nil {
		if snap.in.ConvProgram, err = s.programRead(ctx, conv.Version); err != nil {
			return nil, err
		}
	}
	// What the programs that may run can read: the rest is left unread.
	reads := snap.in.reads()
	if err := s.readHistory(ctx, snap, st, reads.History); err != nil { // the contact, its history and the lists (history.go)
		return nil, err
	}
	snap.in.Directory = s.directory().CheckFile()
	if err := s.readEdits(ctx, &snap.in, reads.Edits, st.Edits); err != nil { // the contact's edits and reply marks, the http client (effects.go)
		return nil, err
	}
	if err := s.readQueues(ctx, &snap.in); err != nil { // the teams' queues the step may touch (queue.go)
		return nil, err
	}
	return snap, nil
}

// reads is what the step's programs (the route's, the conversation's)
// may read (vm.Program.Reads); nothing when neither runs.
func (in *stepInput) reads() vm.Reads {
	var r vm.Reads
	if in.Route != nil && in.Route.Program != nil {
		r = in.Route.Program.Reads()
	}
	if in.ConvProgram != nil {
		r = r.Union(in.ConvProgram.Reads())
	}
	return r
}

// guessReads is what the program the route table in memory gives the
// number may read (nothing when there is none): what readStep asks the
// step's statement for.
func (s *Server) guessReads(contact, number string) vm.Reads {
	rt := s.routeCache.cur.Load()
	if rt == nil {
		return vm.Reads{}
	}
	_, version, ok := rt.route(number, contact)
	if !ok {
		return vm.Reads{}
	}
	s.mu.RLock()
	p := s.programs[version]
	s.mu.RUnlock()
	if p == nil {
		return vm.Reads{}
	}
	return p.Reads()
}

// stepState reads store.StepState: outside a transaction when the store
// can (store.StepReader; with the history and the edits guess asks for
// when it is a store.StepReaderWith), else in one.
func (s *Server) stepState(ctx context.Context, contact, number, sid string, guess vm.Reads) (*store.StepState, error) {
	if r, ok := s.store.(store.StepReaderWith); ok && (guess.History || guess.Edits) {
		return r.ReadStepWith(ctx, contact, number, sid, store.StepReads{History: guess.History, HistoryLimit: runtime.MaxInteractions, Edits: guess.Edits})
	}
	if r, ok := s.store.(store.StepBatchReader); ok { // with other steps' reads (groupread.go)
		return s.groupReadStep(ctx, r, store.StepKey{Contact: contact, Number: number, SID: sid})
	}
	if r, ok := s.store.(store.StepReader); ok {
		return r.ReadStep(ctx, contact, number, sid)
	}
	var st *store.StepState
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		st, err = tx.StepState(ctx, contact, number, sid)
		return err
	})
	return st, err
}

// programRead is program, reading a version missing from memory in a
// read transaction of its own.
func (s *Server) programRead(ctx context.Context, version string) (*vm.Program, error) {
	s.mu.RLock()
	p := s.programs[version]
	s.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	err := s.readStoreTx(ctx, func(tx store.Tx) error {
		var err error
		p, err = s.program(ctx, tx, version)
		return err
	})
	return p, err
}

// answerOf is the answer stored as prev for msg's SID. An SID stored for
// another conversation is a 409: answering it would hand one contact's
// reply to another.
func answerOf(prev *store.Message, msg Inbound, f fieldNames) (*Answer, error) {
	if prev.From != msg.From || prev.To != msg.To {
		return nil, errSIDReused(f.sid, msg.SID)
	}
	var a Answer
	if err := json.Unmarshal([]byte(prev.Response), &a); err != nil {
		return nil, fmt.Errorf("stored answer of %s: %w", msg.SID, err)
	}
	a.Version = prev.Version
	return &a, nil
}

// commitStep applies p in a transaction of its own (groupcommit.go's
// batches of one step, and the steps it commits apart), after checking
// under the conversation's lock that what the step read still holds: the
// conversation's revision is the one read (which also covers its
// opt-out: only steps change that), and, for a message that starts a
// conversation, the number's route (the route table's version, in the
// same statement as the revision's; when that moved, the number's route
// itself). Anything else is store.ErrConflict, and process runs the step
// again from its reads.
//
// The MessageSid is not looked up again: the message's INSERT is what
// makes a step exactly-once (the SID is unique; a duplicate is
// ErrConflict, the transaction rolls back, and the step's next read finds
// the stored answer). Another delivery of the same message is the same
// conversation, whose revision its commit advanced, so it fails even
// earlier, at AdvanceRevision.
func (s *Server) commitStep(ctx context.Context, snap *snapshot, p *plan) (processed, error) {
	var res processed
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		pipelineStep(tx, 0) // groupcommit.go; InTx sends what is queued before its commit
		res, err = s.applyStep(ctx, tx, snap, p)
		return err
	})
	return res, err
}

// applyStep is commitStep's work in tx, which may hold other steps too
// (a group commit, groupcommit.go): the conversation's lock, the
// revision (and route) check, the plan's writes.
func (s *Server) applyStep(ctx context.Context, tx store.Tx, snap *snapshot, p *plan) (processed, error) {
	in := &snap.in
	m := in.Msg
	if err := tx.LockConversation(ctx, m.From, m.To); err != nil {
		return processed{}, err
	}
	if in.isMessage() && in.Conv == nil && in.Route != nil { // a first message: its route must hold too
		if err := advanceRouted(ctx, tx, snap); err != nil { // groupcommit.go
			return processed{}, err
		}
	} else if err := tx.AdvanceRevision(ctx, m.From, m.To, snap.revision); err != nil {
		return processed{}, err
	}
	if err := s.apply(ctx, tx, in, p); err != nil {
		return processed{}, err
	}
	var res processed
	if p.Record {
		p.Answer.Version = p.Version
		res.answer = &p.Answer
	}
	return res, nil
}

// checkRoute is commitStep's check, when the route table changed since
// the step read it, that the first message of a conversation is still
// routed as its step was: the number's own route is read and compared,
// so a deploy of another flow does not make the step run again.
func checkRoute(ctx context.Context, tx store.Tx, snap *snapshot) error {
	m := snap.in.Msg
	flow, version, err := routeFor(ctx, tx, m.To, m.From)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if flow != snap.in.Route.Flow || version != snap.in.Route.Version {
		return fmt.Errorf("number %s was routed anew: %w", m.To, store.ErrConflict)
	}
	return nil
}

// apply writes a plan's effects.
func (s *Server) apply(ctx context.Context, tx store.Tx, in *stepInput, p *plan) error {
	m, now := in.Msg, in.Now
	if p.OptOut != nil {
		if err := tx.SetOptOut(ctx, m.From, m.To, *p.OptOut, now); err != nil {
			return err
		}
	}
	if err := s.applyOutputs(ctx, tx, in, p); err != nil {
		return err
	}
	switch {
	case p.Save != nil:
		p.Save.Started = conversationStart(in)
		if err := tx.SaveConversation(ctx, p.Save); err != nil {
			return err
		}
	case p.End && in.Conv != nil: // none read, and the revision check says none was made since
		if err := tx.DeleteConversation(ctx, m.From, m.To); err != nil {
			return err
		}
	}
	if err := s.applyQueue(ctx, tx, in, p); err != nil { // queue.go
		return err
	}
	if err := s.recordInteractions(ctx, tx, in, p); err != nil { // history.go
		return err
	}
	if !p.Record || in.Agent != nil || in.Dispatch { // a person's action is no message
		return nil
	}
	resp, _ := json.Marshal(p.Answer)
	msg := &store.Message{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Media: m.Media,
		Flow: p.Flow, Version: p.Version, Outcome: p.Answer.Outcome, Response: string(resp), Trace: p.Trace, Received: now,
		Details: messageDetails(m)}
	if startedConversation(in, p) { // replayed by `flowc deploy --diff` (diff.go)
		dt, err := deployTx(tx)
		if err != nil {
			return err
		}
		return dt.InsertStartingMessage(ctx, msg)
	}
	return tx.InsertMessage(ctx, msg)
}

// applyOutputs writes what a step sends and changes of the contact: its
// inbox deliveries, its outbox items (forwards, texts), tags and edits.
// A call's step (voicestep.go) writes these and nothing else of apply's.
func (s *Server) applyOutputs(ctx context.Context, tx store.Tx, in *stepInput, p *plan) error {
	m, now := in.Msg, in.Now
	if len(p.Deliver) > 0 {
		item := store.InboxItem{MessageSID: m.SID, Contact: m.From, Number: m.To, Body: m.Body, Flow: p.Flow, Created: now}
		if in.Call == nil {
			msgs, omitted, err := conversationMessages(ctx, tx, in)
			if err != nil {
				return err
			}
			item.Messages, item.MessagesOmitted = msgs, omitted
		} else { // a call's (a voicemail): what it says, with the recording as its media
			item.Messages = []store.InboxMessage{{SID: m.SID, Body: m.Body, Media: m.Media, Received: now}}
		}
		for i, t := range p.Deliver {
			assignee, err := s.deliver(ctx, tx, t, item)
			if err != nil {
				return err
			}
			if i == len(p.Deliver)-1 && t.Kind == "team" && in.Call == nil && p.Save != nil && p.stage != nil && p.stage.Save != nil {
				// The member the strategy chose holds the conversation
				// the run left with the team (vm/inbound's holds): from the
				// stage's state each time, as a retried transaction may
				// choose another member.
				p.Save.State = inbound.HoldFor(p.stage.Save.State, t.Name, assignee)
			}
		}
	}
	for i := range p.Outbox {
		it := p.Outbox[i] // a copy: Enqueue sets its ID, and a retried transaction enqueues anew
		if err := tx.Enqueue(ctx, &it); err != nil {
			return err
		}
	}
	for _, tag := range p.Tags {
		if err := tx.AddContactTag(ctx, m.From, tag); err != nil {
			return err
		}
	}
	return applyEffects(ctx, tx, in, p) // effects.go
}

// messageDetails is what is stored of m beyond its ids, body and media:
// the other parameters the provider sent, as JSON; nil when none.
func messageDetails(m Inbound) []byte {
	d := m
	if d.AccountSID == "" && d.MessagingServiceSID == "" && d.Segments == 0 && d.MediaTypes == nil &&
		d.FromCity == "" && d.FromState == "" && d.FromCountry == "" && d.FromZip == "" {
		return nil
	}
	b, _ := json.Marshal(struct {
		AccountSID          string   `json:"account_sid,omitempty"`
		MessagingServiceSID string   `json:"messaging_service_sid,omitempty"`
		Segments            int      `json:"segments,omitempty"`
		MediaTypes          []string `json:"media_types,omitempty"`
		FromCity            string   `json:"from_city,omitempty"`
		FromState           string   `json:"from_state,omitempty"`
		FromCountry         string   `json:"from_country,omitempty"`
		FromZip             string   `json:"from_zip,omitempty"`
	}{d.AccountSID, d.MessagingServiceSID, d.Segments, d.MediaTypes, d.FromCity, d.FromState, d.FromCountry, d.FromZip})
	return b
}

// deliver stores an inbox item (a copy of base) for a target, choosing
// the member of a team by its strategy, and says whom it went to ("": a
// team's, to nobody in particular).
func (s *Server) deliver(ctx context.Context, tx store.Tx, t vm.Target, base store.InboxItem) (string, error) {
	item := &base
	item.TargetKind, item.TargetName = t.Kind, storable(t.Name)
	if t.Kind == "user" {
		item.Assignee = item.TargetName
		return item.Assignee, tx.AddInboxItem(ctx, item)
	}
	// The member is chosen by the same function as the simulator's
	// (`expect assignee` in a .flowtest), from the store's counters.
	members := s.directory().Members(t.Name)
	if len(members) > 0 {
		a := inbound.Assignment{Strategy: t.Strategy, Members: members, MessageID: item.MessageSID}
		switch t.Strategy {
		case "round-robin":
			i, err := tx.NextRoundRobin(ctx, t.Name, len(members)) // advances the stored counter itself
			if err != nil {
				return "", err
			}
			a.Counter = int64(i)
		case "least-busy":
			counts, err := tx.OpenItemCounts(ctx, members)
			if err != nil {
				return "", err
			}
			a.Open = counts
		}
		item.Assignee, _ = inbound.Assign(a)
	}
	return item.Assignee, tx.AddInboxItem(ctx, item)
}
