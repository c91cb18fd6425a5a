package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
)

// Queues on the server (the Queues issue). The decisions are vm/inbound's
// and vm/queue's, the same as `flowc test`'s; this file reads what they
// need and writes what they decided:
//
//   - readQueues reads, for each team the step may touch (the programs'
//     queue steps, a transfer's target), the members in the directory's
//     order with their availability and weight, their finished counts and
//     last finishes, the team's round-robin memory and how many other
//     conversations wait in it (inbound.QueueData).
//   - applyQueue, in the step's transaction: when the decision depended
//     on the team (an offer, the `max` check), the team's lock is taken
//     and what was read is checked again; a change since (another
//     replica's step) is store.ErrConflict and the step runs again from
//     its reads, so two replicas never both fill a queue's last place or
//     offer by a stale round-robin memory. Then the conversation's ticket
//     is indexed from the state saved (queue_tickets, queue_offers), the
//     memory and the finisher's counters are kept, and the statistics
//     counted (inbound.QueueCounts).
//   - Act runs a person's action (the agent API) and dispatchTeam offers
//     a team's waiting conversations when a member becomes available:
//     each is a step of its conversation, in its keyedFIFO turn, like a
//     message.
//
// The queue's limits (wait, reservation, transfer, inactivity) are the
// conversation's deadline (queue.Next), so the timers that fire menus'
// timeouts fire them too: once, on whichever replica claims them, and
// after a restart or SIGKILL from the store.

// errNoConversation: a person's action on a conversation that is over.
var errNoConversation = &badRequest{http.StatusNotFound, "the conversation is over or was never queued"}

// queueTeams are the teams whose queues the step may touch.
func (in *stepInput) queueTeams() []string {
	var teams []string
	if in.Route != nil && in.Route.Program != nil {
		teams = inbound.QueueTeams(in.Route.Program)
	}
	if in.ConvProgram != nil {
		for _, t := range inbound.QueueTeams(in.ConvProgram) {
			if !slices.Contains(teams, t) {
				teams = append(teams, t)
			}
		}
	}
	if a := in.Agent; a != nil && a.Kind == inbound.AgentTransfer {
		if t, ok := strings.CutPrefix(a.To, "team:"); ok && !slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	return teams
}

// readQueues reads Input.Queues for the teams the step may touch, in one
// read transaction; nothing when it touches none. A step run again after
// its team's decision conflicted reads them in its turns (see below).
func (s *Server) readQueues(ctx context.Context, in *stepInput) error {
	teams := in.queueTeams()
	if len(teams) == 0 {
		return nil
	}
	if in.queueTurns {
		if err := s.takeQueueTurns(ctx, in, teams); err != nil {
			return err
		}
	}
	in.Queues = make(map[string]*inbound.QueueData, len(teams))
	err := s.readStoreTx(ctx, func(tx store.Tx) error {
		qt, ok := tx.(store.QueueTx)
		if !ok {
			return fmt.Errorf("store %T keeps no queues", tx)
		}
		for _, team := range teams {
			d, err := queueData(ctx, qt, in, team)
			if err != nil {
				return err
			}
			in.Queues[team] = d
		}
		return nil
	})
	if err != nil {
		in.endQueueTurns()
	}
	return err
}

// Turns at a team (Server.teamTurns), within one process. A step whose
// plan decided from a team's queue (decidedByTeam) commits in its turns
// at the step's teams (takeCommitTurns), so the check at commit compares
// with what no other step of this process moves meanwhile; a step whose
// check found the team changed runs again in its turns from its read of
// the queues to its commit (event.queueTurns), so its second read is the
// one it commits by. Without them a burst of texts into one round-robin
// queue made every step but one per commit find the memory moved, and
// most of a burst of 30 were answered 503 after MaxStepAttempts. Steps
// run (applets, http) outside any turn unless run again. Other
// replicas' steps are still caught by applyQueue's check. Turns are
// taken after the conversation's (keyedFIFO), in the teams' order, so
// two steps never wait for each other.

// decidedByTeams reports whether any of the plan's queue events decided
// from its team's queue.
func decidedByTeams(p *plan) bool {
	for q := p.Queue; q != nil; q = q.Previous {
		if q.Team != "" && decidedByTeam(q) {
			return true
		}
	}
	return false
}

// takeCommitTurns takes the step's turns at its teams for its commit
// when its plan decided from one and it holds none yet.
func (s *Server) takeCommitTurns(ctx context.Context, in *stepInput, p *plan) error {
	if in.endTurns != nil || !decidedByTeams(p) {
		return nil
	}
	return s.takeQueueTurns(ctx, in, in.queueTeams())
}

// takeQueueTurns waits for the step's turns at teams (sorted), giving
// up when ctx ends; endQueueTurns ends them.
func (s *Server) takeQueueTurns(ctx context.Context, in *stepInput, teams []string) error {
	sorted := slices.Sorted(slices.Values(teams))
	for i, team := range sorted {
		if err := s.teamTurns.LockContext(ctx, team); err != nil {
			for _, t := range sorted[:i] {
				s.teamTurns.Unlock(t)
			}
			return err
		}
	}
	in.endTurns = func() {
		for _, t := range sorted {
			s.teamTurns.Unlock(t)
		}
	}
	return nil
}

func (in *stepInput) endQueueTurns() {
	if in.endTurns != nil {
		in.endTurns()
		in.endTurns = nil
	}
}

// queueData is one team's inbound.QueueData as tx has it.
func queueData(ctx context.Context, qt store.QueueTx, in *stepInput, team string) (*inbound.QueueData, error) {
	members := inbound.QueueMembers(in.Directory, team)
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.Name
	}
	st, err := qt.QueueTeam(ctx, team, names, in.Msg.From, in.Msg.To)
	if err != nil {
		return nil, err
	}
	for i := range members {
		c := st.Members[members[i].Name]
		members[i].Handled, members[i].LastDone = c.Handled, c.LastDone
	}
	return &inbound.QueueData{Members: members, Memory: st.Memory, Waiting: st.Waiting}, nil
}

// decidedByTeam reports whether the plan's event chose from the team's
// data (an offer, or the `max` check): then the data must still hold
// at commit.
func decidedByTeam(q *inbound.QueuePlan) bool {
	switch q.Event {
	case inbound.QueueEntered, inbound.QueueFull, inbound.QueueReoffered, inbound.QueueOffered:
		return true
	case inbound.QueueTransferred:
		return len(q.Offer) > 0
	}
	return false
}

// teamChanged reports whether what a decision read of its team (read)
// differs from the team now, in what the decision depended on: the
// waiting count for the `max` check (entering, or finding it full), the
// round-robin memory for an offer chosen from it (only rrmemory's set
// one). A change in anything else (another conversation entering while
// this one is offered again) leaves the decision as it was.
func teamChanged(q *inbound.QueuePlan, read, now *inbound.QueueData) bool {
	// Only what the decision depended on: with a `max`, whether there is
	// room (entered: still; full: still none); without, nothing.
	switch q.Event {
	case inbound.QueueEntered:
		if q.Max > 0 && now.Waiting >= q.Max {
			return true
		}
	case inbound.QueueFull:
		if q.Max > 0 && now.Waiting < q.Max {
			return true
		}
	}
	return q.Memory != "" && now.Memory != read.Memory
}

// applyQueue writes what the step did to the queues (see above).
func (s *Server) applyQueue(ctx context.Context, tx store.Tx, in *stepInput, p *plan) error {
	var (
		before         *queue.Ticket
		beforeSettings queue.Settings
	)
	if in.Conv != nil {
		before, beforeSettings = inbound.TicketOf(in.ConvProgram, in.Conv.State)
	}
	if p.Queue == nil && before == nil {
		return nil
	}
	qt, ok := tx.(store.QueueTx)
	if !ok {
		return fmt.Errorf("store %T keeps no queues", tx)
	}
	for q := p.Queue; q != nil; q = q.Previous {
		if q.Team == "" || !decidedByTeam(q) {
			continue
		}
		if err := qt.LockQueue(ctx, q.Team); err != nil {
			return err
		}
		read := in.Queues[q.Team]
		now, err := queueData(ctx, qt, in, q.Team)
		if err != nil {
			return err
		}
		if read == nil || teamChanged(q, read, now) {
			return fmt.Errorf("queue %s changed since the step read it: %w", q.Team, store.ErrConflict)
		}
	}
	// The ticket as the state saved has it (the index follows the state).
	after, prog := (*queue.Ticket)(nil), in.ConvProgram
	if in.Conv == nil && in.Route != nil {
		prog = in.Route.Program
	}
	if p.Save != nil {
		var saved *inbound.Saved // the stage's: its ticket is known without decoding the state again
		if p.stage != nil {
			saved = p.stage.Save
		}
		after, _ = saved.TicketOf(prog, p.Save.State)
	}
	// A step that neither saved nor ended the conversation (a refused
	// action, HELP, a dispatch that found nobody) left its state, and so
	// its place, as it was.
	kept := p.Save == nil && !p.End
	m := in.Msg
	switch {
	case kept:
	case after != nil:
		t := &store.QueueTicket{Contact: m.From, Number: m.To, Started: conversationStart(in), Team: after.Team, Status: after.Status,
			Assignee: after.Assignee, Offered: slices.Sorted(slices.Values(after.Offered)), Since: after.Since, Updated: in.Now, Flow: p.Flow}
		var was []string // the offers stored now: the ticket read's (none when there was none)
		if before != nil {
			was = slices.Sorted(slices.Values(before.Offered))
		}
		t.OffersKept = slices.Equal(t.Offered, was)
		if err := qt.SaveQueueTicket(ctx, t); err != nil {
			return err
		}
	case before != nil:
		if err := qt.DeleteQueueTicket(ctx, m.From, m.To); err != nil {
			return err
		}
	}
	for q := p.Queue; q != nil; q = q.Previous {
		if q.Memory != "" {
			if err := qt.SetQueueMemory(ctx, q.Team, q.Memory); err != nil {
				return err
			}
		}
		if q.Event == inbound.QueueFinished && before != nil && before.Assignee != "" {
			if err := qt.QueueMemberDone(ctx, before.Assignee, in.Now); err != nil {
				return err
			}
		}
	}
	counts := map[string]map[string]int{}
	for _, c := range inbound.QueueCounts(p.Queue, before, beforeSettings.ServiceLevel, in.Now) {
		if counts[c.Team] == nil {
			counts[c.Team] = map[string]int{}
		}
		counts[c.Team][c.Name] += c.Delta
	}
	for _, team := range slices.Sorted(mapsKeys(counts)) {
		if err := qt.AddQueueStats(ctx, team, counts[team]); err != nil {
			return err
		}
	}
	return nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ConversationID names a conversation for the agent API
// (inbound.ConversationID: webhook forwards carry the same).
func ConversationID(contact, number string, started time.Time) string {
	return inbound.ConversationID(contact, number, started)
}

// parseConversationID is inbound.ParseConversationID, a bad id a 404.
func parseConversationID(id string) (contact, number string, started time.Time, err error) {
	contact, number, started, err = inbound.ParseConversationID(id)
	if err != nil {
		return "", "", time.Time{}, &badRequest{http.StatusNotFound, fmt.Sprintf("no conversation %q", id)}
	}
	return contact, number, started, nil
}

// errNotYours is the agent API's answer to an action on a conversation
// offered to or held by someone else.
var errNotYours = &badRequest{http.StatusForbidden, "the conversation is not yours"}

// Act runs a person's action on the queued conversation id, as one step
// of it, and returns what it did to the queue. A refused action is a
// *badRequest: 403 when the conversation is not the person's, 409 when
// its state forbids it (already taken, not offered), 422 when the contact
// opted out; 404 when there is no such conversation.
func (s *Server) Act(ctx context.Context, id string, a inbound.AgentEvent) (*inbound.QueuePlan, error) {
	_, t, err := s.queuedTicket(ctx, id)
	if err != nil {
		return nil, err
	}
	contact, number := t.Contact, t.Number
	key := contact + "\x00" + number
	if err := s.order.LockContext(ctx, key); err != nil {
		return nil, err
	}
	// The turn ends before the dispatch below, which takes other
	// conversations' turns: two finishes dispatching at once would
	// otherwise each wait for the other's conversation.
	res, err := func() (processed, error) {
		defer s.order.Unlock(key)
		return s.processEvent(ctx, Inbound{SID: agentSID(a, s.cfg.Now()), From: contact, To: number}, event{agent: &a, started: t.Started}, jsonFields)
	}()
	if err != nil {
		return nil, err
	}
	q := res.queue
	if q == nil {
		return nil, errNoConversation
	}
	switch {
	case errors.Is(q.Err, queue.ErrNotYours):
		return q, errNotYours
	case errors.Is(q.Err, queue.ErrState):
		return q, &badRequest{http.StatusConflict, fmt.Sprintf("cannot %s the conversation now", a.Kind)}
	case errors.Is(q.Err, inbound.ErrNobodyAvailable):
		return q, &badRequest{http.StatusConflict, q.Err.Error()}
	case errors.Is(q.Err, inbound.ErrOptedOut):
		return q, &badRequest{http.StatusUnprocessableEntity, "the contact has opted out"}
	case q.Err != nil:
		return q, &badRequest{http.StatusBadRequest, q.Err.Error()}
	}
	if a.Kind == inbound.AgentFinish || (a.Kind == inbound.AgentTransfer && len(q.Offer) == 0) {
		// The person is free again, or a transfer found nobody: others may wait.
		s.dispatchAfter(ctx, q.Team)
	}
	return q, nil
}

// agentSID names a person's action in the step (its trace, the ids the
// strategies seed from): unique enough, never stored as a message.
func agentSID(a inbound.AgentEvent, now time.Time) string {
	return "AG" + strconv.FormatInt(now.UnixNano(), 36) + "-" + a.Kind + "-" + a.User
}

// queuedTicket reads the ticket of the conversation id names: 404 when
// it is over (or was never queued), or when the contact and number have
// another conversation now.
func (s *Server) queuedTicket(ctx context.Context, id string) (store.QueueReader, *store.QueueTicket, error) {
	contact, number, started, err := parseConversationID(id)
	if err != nil {
		return nil, nil, err
	}
	qr, ok := s.store.(store.QueueReader)
	if !ok {
		return nil, nil, fmt.Errorf("store %T keeps no queues", s.store)
	}
	t, err := qr.QueueTicket(ctx, contact, number)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Started.Sub(started).Abs() >= time.Microsecond) {
		return nil, nil, &badRequest{http.StatusNotFound, fmt.Sprintf("conversation %s is over or was never queued", id)}
	}
	if err != nil {
		return nil, nil, err
	}
	return qr, t, nil
}

// dispatchTeam offers team's waiting conversations, first come first
// served, to the members available now (a member became available, or
// one finished). Each is a step of its conversation; one that fails is
// logged and the others go on.
func (s *Server) dispatchTeam(ctx context.Context, team string) {
	qr, ok := s.store.(store.QueueReader)
	if !ok {
		return
	}
	tickets, err := qr.TeamTickets(ctx, team, true, 1000)
	if err != nil {
		s.log.Error("dispatch: reading the queue", "team", team, "error", clipErr(err))
		return
	}
	for _, t := range tickets {
		if t.Status != queue.Waiting {
			continue
		}
		key := t.Contact + "\x00" + t.Number
		if err := s.order.LockContext(ctx, key); err != nil {
			return
		}
		res, err := s.processEvent(ctx, Inbound{SID: "DI" + strconv.FormatInt(s.cfg.Now().UnixNano(), 36), From: t.Contact, To: t.Number}, event{dispatch: true}, jsonFields)
		s.order.Unlock(key)
		if err != nil && !errors.Is(err, errNoConversation) {
			s.log.Error("dispatch failed", "team", team, "error", clipErr(err))
			continue
		}
		if res.queue != nil && res.queue.Event == inbound.QueueUnchanged {
			return // nobody available: the later ones would find nobody either
		}
	}
}

// dispatchAfter is dispatchTeam for every team of user's or the team named.
func (s *Server) dispatchAfter(ctx context.Context, team string) {
	if team != "" {
		s.dispatchTeam(ctx, team)
	}
}

// DispatchUser offers the waiting conversations of every team user is a
// member of (user became available).
func (s *Server) DispatchUser(ctx context.Context, user string) {
	d := s.directory().CheckFile()
	if d == nil {
		return
	}
	for _, t := range d.Teams {
		if slices.Contains(t.Members, user) {
			s.dispatchTeam(ctx, t.Name)
		}
	}
}

// finishInboxHold ends the hold an inbox item's delivery left on its
// conversation, when the item is marked done: the same step as its
// holder finishing it through the agent API. Nothing when the
// conversation is not held by the item's holder (a later conversation,
// a queue's, already finished).
func (s *Server) finishInboxHold(ctx context.Context, item *store.InboxItem) error {
	qr, ok := s.store.(store.QueueReader)
	if !ok {
		return nil
	}
	t, err := qr.QueueTicket(ctx, item.Contact, item.Number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.Team != "" || !slices.Contains(inbound.InboxHolder(item.TargetKind, item.TargetName, item.Assignee), t.Assignee) {
		return nil
	}
	_, err = s.Act(ctx, ConversationID(t.Contact, t.Number, t.Started), inbound.AgentEvent{Kind: inbound.AgentFinish, User: t.Assignee})
	var br *badRequest
	if errors.As(err, &br) && br.status == http.StatusNotFound {
		return nil // finished meanwhile
	}
	return err
}

// passOffersOf passes on what is offered to user, who went away: each
// such conversation is a dispatch step (inbound's dispatchStep moves an
// offer held by an absent member on, as its reservation running out
// would).
func (s *Server) passOffersOf(ctx context.Context, user string) {
	qr, ok := s.store.(store.QueueReader)
	if !ok {
		return
	}
	tickets, err := qr.UserTickets(ctx, user)
	if err != nil {
		s.log.Error("passing offers on: reading the tickets", "user", user, "error", clipErr(err))
		return
	}
	for _, t := range tickets {
		if t.Status != queue.Offered {
			continue
		}
		key := t.Contact + "\x00" + t.Number
		if err := s.order.LockContext(ctx, key); err != nil {
			return
		}
		_, err := s.processEvent(ctx, Inbound{SID: "DI" + strconv.FormatInt(s.cfg.Now().UnixNano(), 36), From: t.Contact, To: t.Number}, event{dispatch: true}, jsonFields)
		s.order.Unlock(key)
		if err != nil && !errors.Is(err, errNoConversation) {
			s.log.Error("passing an offer on failed", "user", user, "error", clipErr(err))
		}
	}
}

// DispatchWaiting offers every team's waiting conversations to its
// members available now, oldest first: what `flowc serve` does at start,
// so that a conversation left waiting by a dispatch a restart or a
// SIGKILL cut short (or by a directory changed while the server was
// down) is offered without waiting for its next limit.
func (s *Server) DispatchWaiting(ctx context.Context) {
	d := s.directory().CheckFile()
	if d == nil {
		return
	}
	for _, t := range d.Teams {
		s.dispatchTeam(ctx, t.Name)
	}
}
