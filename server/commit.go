package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// This file is the part of a step that touches the store (see doc.go):
// readStep gathers a stepInput in one short transaction, and commitStep
// re-checks it and applies the plan in another. process ties them
// together around the pure step, with no transaction open while the VM
// and applets run.

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
	stored   *Answer // the MessageSid was answered before: answer that
	idle     bool    // a timer with nothing to fire (ended, answered, not due)
}

// processed is the outcome of one event.
type processed struct {
	answer *Answer // nil when nothing happened (an idle timer)
	retry  bool    // the answer is the one stored for an earlier delivery
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
	for attempt := 1; ; attempt++ {
		snap, err := s.readStep(ctx, in, timer, f)
		if err != nil {
			return processed{}, err
		}
		if snap.stored != nil {
			return processed{answer: snap.stored, retry: true}, nil
		}
		if snap.idle {
			return processed{}, nil
		}
		snap.in.EventBudget = s.cfg.EventBudget
		p, err := step(ctx, &snap.in, s.cfg.Applets) // no transaction open
		if err != nil {
			return processed{}, err
		}
		res, err := s.commitStep(ctx, snap, p, f)
		if errors.Is(err, store.ErrConflict) {
			s.metrics.conflicts.Inc()
			if attempt < MaxStepAttempts {
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
		return res, nil
	}
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

// readStep reads a step's input in one short transaction (on PostgreSQL
// Conversation takes the conversation's lock, held only until this
// transaction ends); the commit re-checks what matters.
func (s *Server) readStep(ctx context.Context, in Inbound, timer bool, f fieldNames) (*snapshot, error) {
	var snap *snapshot
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		snap = &snapshot{in: stepInput{Timer: timer, Msg: in, Now: s.cfg.Now()}}
		conv, err := tx.Conversation(ctx, in.From, in.To)
		switch {
		case err == nil:
			snap.in.Conv = conv
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if timer {
			if conv == nil || conv.Deadline.IsZero() || conv.Deadline.After(snap.in.Now) {
				snap.idle = true // ended meanwhile (a reply, STOP), answered, or not due yet
				return nil
			}
			snap.in.Msg = Inbound{SID: timerSID(conv), From: in.From, To: in.To}
		}
		if stored, err := s.storedAnswer(ctx, tx, snap.in.Msg, timer, f); err != nil || stored != nil {
			snap.stored = stored
			if timer && stored != nil {
				snap.stored, snap.idle = nil, true
			}
			return err
		}
		if snap.revision, err = tx.ConversationRevision(ctx, in.From, in.To); err != nil {
			return err
		}
		if !timer {
			r, err := s.route(ctx, tx, in.To, in.From)
			if err != nil {
				return err
			}
			snap.in.Route = r
			if snap.in.OptedOut, err = tx.OptedOut(ctx, in.From, in.To); err != nil {
				return err
			}
		}
		if conv != nil {
			if snap.in.ConvProgram, err = s.program(ctx, tx, conv.Version); err != nil {
				return err
			}
		}
		tags, err := tx.ContactTags(ctx, in.From)
		if err != nil {
			return err
		}
		snap.in.Contact = s.directory().Contact(in.From, tags)
		return nil
	})
	return snap, err
}

// route is the flow serving a first message from contact to number
// (routeFor: a draft for its test contacts), with its program; nil when
// none.
func (s *Server) route(ctx context.Context, tx store.Tx, number, contact string) (*routed, error) {
	flow, version, err := routeFor(ctx, tx, number, contact)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := s.program(ctx, tx, version)
	if err != nil {
		return nil, err
	}
	return &routed{Flow: flow, Version: version, Program: p}, nil
}

// storedAnswer is the answer stored for msg's SID, nil when it is new.
// An SID stored for another conversation is a 409: answering it would
// hand one contact's reply to another.
func (s *Server) storedAnswer(ctx context.Context, tx store.Tx, msg Inbound, timer bool, f fieldNames) (*Answer, error) {
	prev, err := tx.MessageBySID(ctx, msg.SID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
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

// commitStep applies p in one transaction, after checking under the
// conversation's lock that what the step read still holds: the SID is
// still new, the conversation's revision is the one read (which also
// covers its opt-out: only steps change that), and, for a message that
// starts a conversation, the number's route. Anything else is
// store.ErrConflict, and process runs the step again from its reads.
func (s *Server) commitStep(ctx context.Context, snap *snapshot, p *plan, f fieldNames) (processed, error) {
	in := &snap.in
	m := in.Msg
	var res processed
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		res = processed{}
		if err := tx.LockConversation(ctx, m.From, m.To); err != nil {
			return err
		}
		stored, err := s.storedAnswer(ctx, tx, m, in.Timer, f)
		if err != nil {
			return err
		}
		if stored != nil { // another replica handled this delivery first
			if !in.Timer {
				res = processed{answer: stored, retry: true}
			}
			return nil
		}
		if err := tx.AdvanceRevision(ctx, m.From, m.To, snap.revision); err != nil {
			return err
		}
		if !in.Timer && in.Conv == nil && in.Route != nil {
			flow, version, err := routeFor(ctx, tx, m.To, m.From)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if flow != in.Route.Flow || version != in.Route.Version {
				return fmt.Errorf("number %s was routed anew: %w", m.To, store.ErrConflict)
			}
		}
		if err := s.apply(ctx, tx, in, p); err != nil {
			return err
		}
		if p.Record {
			p.Answer.Version = p.Version
			res.answer = &p.Answer
		}
		return nil
	})
	return res, err
}

// apply writes a plan's effects.
func (s *Server) apply(ctx context.Context, tx store.Tx, in *stepInput, p *plan) error {
	m, now := in.Msg, in.Now
	if p.OptOut != nil {
		if err := tx.SetOptOut(ctx, m.From, m.To, *p.OptOut, now); err != nil {
			return err
		}
	}
	if len(p.Deliver) > 0 {
		msgs, omitted, err := conversationMessages(ctx, tx, in)
		if err != nil {
			return err
		}
		item := store.InboxItem{MessageSID: m.SID, Contact: m.From, Number: m.To, Body: m.Body, Flow: p.Flow, Created: now,
			Messages: msgs, MessagesOmitted: omitted}
		for _, t := range p.Deliver {
			if err := s.deliver(ctx, tx, t, item); err != nil {
				return err
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
	switch {
	case p.Save != nil:
		p.Save.Started = conversationStart(in)
		if err := tx.SaveConversation(ctx, p.Save); err != nil {
			return err
		}
	case p.End:
		if err := tx.DeleteConversation(ctx, m.From, m.To); err != nil {
			return err
		}
	}
	if !p.Record {
		return nil
	}
	resp, _ := json.Marshal(p.Answer)
	if err := tx.InsertMessage(ctx, &store.Message{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Media: m.Media,
		Flow: p.Flow, Version: p.Version, Outcome: p.Answer.Outcome, Response: string(resp), Trace: p.Trace, Received: now,
		Details: messageDetails(m)}); err != nil {
		return err
	}
	if startedConversation(in, p) { // replayed by `flowc deploy --diff` (diff.go)
		dt, err := deployTx(tx)
		if err != nil {
			return err
		}
		return dt.RecordStart(ctx, m.SID, p.Flow, now)
	}
	return nil
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
// the member of a team by its strategy.
func (s *Server) deliver(ctx context.Context, tx store.Tx, t vm.Target, base store.InboxItem) error {
	item := &base
	item.TargetKind, item.TargetName = t.Kind, storable(t.Name)
	if t.Kind == "user" {
		item.Assignee = item.TargetName
		return tx.AddInboxItem(ctx, item)
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
				return err
			}
			a.Counter = int64(i)
		case "least-busy":
			counts, err := tx.OpenItemCounts(ctx, members)
			if err != nil {
				return err
			}
			a.Open = counts
		}
		item.Assignee, _ = inbound.Assign(a)
	}
	return tx.AddInboxItem(ctx, item)
}
