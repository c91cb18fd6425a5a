package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
)

// The agent API's queue routes (under /v1/agent, each request already
// authenticated as one user by a per-user token): the person's offered
// and open conversations, one conversation's thread, and the actions on
// it. Each action is a step of the conversation (Server.Act), decided by
// vm/inbound as `flowc test` decides a .flowtest's `agent` line; a
// conversation that is not the person's is 403 for every route.

// MaxConversationNotes bounds one conversation's notes (each at most
// MaxOutboundBodyRunes characters), so that a thread stays readable in
// one answer.
const MaxConversationNotes = 200

// AgentConversation is a queued conversation as the agent API shows it.
type AgentConversation struct {
	ID       string    `json:"id"`
	Contact  string    `json:"contact"`
	Number   string    `json:"number"`
	Flow     string    `json:"flow"`
	Team     string    `json:"team"`
	Status   string    `json:"status"` // waiting, offered, open, transferring
	Assignee string    `json:"assignee,omitempty"`
	Offered  []string  `json:"offered"`
	Since    time.Time `json:"since"` // entered the queue
	Updated  time.Time `json:"updated"`
	// Position is its place in its team's line (1: next), while it
	// waits or is offered; 0 once someone has it.
	Position int `json:"position,omitempty"`
}

// AgentThread is one conversation with its messages and notes.
type AgentThread struct {
	AgentConversation
	Messages        []store.InboxMessage     `json:"messages"`         // the contact's texts since it started, oldest first
	MessagesOmitted int                      `json:"messages_omitted"` // older ones left out
	Notes           []store.ConversationNote `json:"notes"`
	// Replies are the texts sent to the contact through the outbox since
	// it started (the agents' replies, the flow's later texts), oldest
	// first; the flow's answers in a webhook's TwiML are not among them.
	Replies []AgentReply `json:"replies"`
}

// AgentReply is a text sent to the contact in a conversation.
type AgentReply struct {
	Text   string    `json:"text"`
	User   string    `json:"user,omitempty"` // the agent who sent it ("": the flow)
	At     time.Time `json:"at"`
	Status string    `json:"status"` // the outbox's: pending, sent, dropped
}

// maxThreadReplies bounds the interactions a thread reads for its
// replies.
const maxThreadReplies = 100

// threadReplies reads the texts sent to t's contact since it started:
// the contact's outbound interactions (their index range) and the outbox
// items of the steps that sent them (the outbox's message index).
func threadReplies(ctx context.Context, tx store.Tx, t *store.QueueTicket) ([]AgentReply, error) {
	ht, err := historyTx(tx)
	if err != nil {
		return nil, err
	}
	h, err := ht.ContactHistory(ctx, t.Contact, maxThreadReplies)
	if err != nil {
		return nil, err
	}
	users := map[string]string{} // cause → who sent
	var causes []string
	for _, in := range h.Recent {
		if in.Kind != runtime.InteractionSMS || in.Direction != runtime.DirectionOutbound || in.Number != t.Number || in.At.Before(t.Started) || in.CauseSID == "" {
			continue
		}
		if _, ok := users[in.CauseSID]; !ok {
			causes = append(causes, in.CauseSID)
		}
		if in.User != "" {
			users[in.CauseSID] = in.User
		} else if _, ok := users[in.CauseSID]; !ok {
			users[in.CauseSID] = ""
		}
	}
	if len(causes) == 0 {
		return []AgentReply{}, nil
	}
	otx, ok := tx.(store.OutboxTx)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no outbox", tx)
	}
	byCause, err := otx.OutboxByMessages(ctx, causes)
	if err != nil {
		return nil, err
	}
	out := []AgentReply{}
	var ids []int64
	for _, cause := range causes {
		for _, it := range byCause[cause] {
			if it.Kind == "sms" && it.To == t.Contact && !slices.Contains(ids, it.ID) {
				ids = append(ids, it.ID)
				out = append(out, AgentReply{Text: it.Body, User: users[cause], At: it.Created.UTC(), Status: it.Status})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b AgentReply) int { return a.At.Compare(b.At) })
	return out, nil
}

// AgentAction is an action's body: reply's and note's text, transfer's
// target (user:NAME or team:NAME).
type AgentAction struct {
	Text string `json:"text,omitempty"`
	To   string `json:"to,omitempty"`
}

// AgentActionResult is what an action did.
type AgentActionResult struct {
	Event        string             `json:"event"`                  // vm/inbound's Queue* event: accepted, replied, transferred, finished
	Conversation *AgentConversation `json:"conversation,omitempty"` // nil once it left the queue
	Offered      []string           `json:"offered,omitempty"`      // a transfer's: who it is offered to now
}

// queueAgentRoutes adds the queue routes to the agent router; user is
// the authenticated user of a request.
func (s *Server) queueAgentRoutes(r chi.Router, user func(*http.Request) string) {
	r.Get("/conversations", func(w http.ResponseWriter, r *http.Request) { s.myConversations(w, r, user(r)) })
	r.Get("/conversations/{id}", func(w http.ResponseWriter, r *http.Request) { s.agentThread(w, r, user(r)) })
	for _, kind := range []string{inbound.AgentAccept, inbound.AgentReply, inbound.AgentTransfer, inbound.AgentFinish} {
		r.Post("/conversations/{id}/"+kind, func(w http.ResponseWriter, r *http.Request) { s.agentAct(w, r, user(r), kind) })
	}
	r.Post("/conversations/{id}/notes", func(w http.ResponseWriter, r *http.Request) { s.agentNote(w, r, user(r)) })
}

func (s *Server) queueReader() (store.QueueReader, error) {
	qr, ok := s.store.(store.QueueReader)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no queues", s.store)
	}
	return qr, nil
}

// agentView is t as the agent API shows it, with its position in line.
// lines caches the teams' lines it read, for a listing of many (nil:
// none kept).
func (s *Server) agentView(ctx context.Context, qr store.QueueReader, t store.QueueTicket, lines map[string][]store.QueueTicket) (AgentConversation, error) {
	c := AgentConversation{ID: ConversationID(t.Contact, t.Number, t.Started), Contact: t.Contact, Number: t.Number, Flow: t.Flow,
		Team: t.Team, Status: t.Status, Assignee: t.Assignee, Offered: nonNilStrings(t.Offered), Since: t.Since.UTC(), Updated: t.Updated.UTC()}
	if t.Team != "" && (t.Status == queue.Waiting || t.Status == queue.Offered) {
		line, ok := lines[t.Team]
		if !ok {
			var err error
			if line, err = qr.TeamTickets(ctx, t.Team, true, 0); err != nil {
				return c, err
			}
			if lines != nil {
				lines[t.Team] = line
			}
		}
		c.Position = slices.IndexFunc(line, func(o store.QueueTicket) bool { return o.Contact == t.Contact && o.Number == t.Number }) + 1
	}
	return c, nil
}

func nonNilStrings(a []string) []string {
	if a == nil {
		return []string{}
	}
	return a
}

// mine reports whether user may see and act on t (inbound.MayAct: it is
// offered to them, theirs, or a handoff and they are a platform).
func (s *Server) mine(t *store.QueueTicket, user string) bool {
	return inbound.MayAct(s.directory().CheckFile(), t.Assignee, t.Offered, user)
}

func (s *Server) myConversations(w http.ResponseWriter, r *http.Request, user string) {
	out, err := s.agentConversations(r.Context(), user)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		User          string              `json:"user"`
		Conversations []AgentConversation `json:"conversations"`
	}{user, out})
}

// agentConversations is user's offered and open conversations and those
// their teams' inboxes hold, oldest first (GET /v1/agent/conversations,
// the console's workspace).
func (s *Server) agentConversations(ctx context.Context, user string) ([]AgentConversation, error) {
	qr, err := s.queueReader()
	if err != nil {
		return nil, err
	}
	ts, err := qr.UserTickets(ctx, user)
	if err != nil {
		return nil, err
	}
	// And the conversations the inboxes of their teams hold (vm/inbound's holds).
	for _, team := range s.me(user).Teams {
		held, err := qr.UserTickets(ctx, "team:"+team)
		if err != nil {
			return nil, err
		}
		ts = append(ts, held...)
	}
	slices.SortStableFunc(ts, func(a, b store.QueueTicket) int { return a.Since.Compare(b.Since) })
	out := []AgentConversation{}
	lines := map[string][]store.QueueTicket{} // each team's line read once
	for _, t := range ts {
		c, err := s.agentView(ctx, qr, t, lines)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ticketFor reads the conversation id names and checks it is user's:
// 404 when over (or never queued), 403 when not theirs.
func (s *Server) ticketFor(ctx context.Context, id, user string) (store.QueueReader, *store.QueueTicket, error) {
	qr, t, err := s.queuedTicket(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !s.mine(t, user) {
		return nil, nil, errNotYours
	}
	return qr, t, nil
}

func (s *Server) agentThread(w http.ResponseWriter, r *http.Request, user string) {
	th, err := s.agentThreadOf(r.Context(), chi.URLParam(r, "id"), user)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, th)
}

// agentThreadOf is conversation id with its messages and notes, for
// user: 404 when over, 403 when not theirs.
func (s *Server) agentThreadOf(ctx context.Context, id, user string) (*AgentThread, error) {
	qr, t, err := s.ticketFor(ctx, id, user)
	if err != nil {
		return nil, err
	}
	c, err := s.agentView(ctx, qr, *t, nil)
	if err != nil {
		return nil, err
	}
	th := &AgentThread{AgentConversation: c}
	err = s.readStoreTx(ctx, func(tx store.Tx) error {
		var err error
		th.Messages, th.MessagesOmitted, err = tx.ContactMessages(ctx, t.Contact, t.Number, t.Started, MaxInboxMessages)
		if err != nil {
			return err
		}
		th.MessagesOmitted = max(th.MessagesOmitted-len(th.Messages), 0)
		th.Replies, err = threadReplies(ctx, tx, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	if th.Notes, err = qr.ConversationNotes(ctx, t.Contact, t.Number, t.Started); err != nil {
		return nil, err
	}
	th.Messages = boundInboxMessages(th.Messages, MaxInboxMessageBytes)
	if th.Messages == nil {
		th.Messages = []store.InboxMessage{}
	}
	if th.Notes == nil {
		th.Notes = []store.ConversationNote{}
	}
	return th, nil
}

// checkAgentText checks a reply's or a note's text.
func checkAgentText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return &badRequest{http.StatusBadRequest, "text is empty"}
	case !utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0:
		return &badRequest{http.StatusBadRequest, "text is not valid UTF-8, or holds a NUL character"}
	case utf8.RuneCountInString(text) > MaxOutboundBodyRunes:
		return &badRequest{http.StatusBadRequest, fmt.Sprintf("text: %d characters, at most %d", utf8.RuneCountInString(text), MaxOutboundBodyRunes)}
	}
	return nil
}

func (s *Server) agentAct(w http.ResponseWriter, r *http.Request, user, kind string) {
	var body AgentAction
	if r.ContentLength != 0 && !readAPIJSON(w, r, &body) {
		return
	}
	res, err := s.agentDo(r.Context(), user, kind, chi.URLParam(r, "id"), body)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// agentDo is user's action kind (vm/inbound's Agent*) on conversation
// id: the checks of its body, then Server.Act.
func (s *Server) agentDo(ctx context.Context, user, kind, id string, body AgentAction) (AgentActionResult, error) {
	_, t, err := s.ticketFor(ctx, id, user)
	if err != nil {
		return AgentActionResult{}, err
	}
	a := inbound.AgentEvent{Kind: kind, User: user}
	switch kind {
	case inbound.AgentReply:
		if err := checkAgentText(body.Text); err != nil {
			return AgentActionResult{}, err
		}
		if err := s.refuseBlacklisted(ctx, t.Contact); err != nil {
			return AgentActionResult{}, err
		}
		a.Text = body.Text
	case inbound.AgentTransfer:
		if err := s.checkTransferTarget(body.To); err != nil {
			return AgentActionResult{}, err
		}
		a.To = body.To
	}
	q, err := s.Act(ctx, id, a)
	if err != nil {
		return AgentActionResult{}, err
	}
	res := AgentActionResult{Event: q.Event, Offered: q.Offer}
	if q.Ticket != nil {
		qr, _ := s.queueReader()
		if nt, err := qr.QueueTicket(ctx, t.Contact, t.Number); err == nil {
			c, err := s.agentView(ctx, qr, *nt, nil)
			if err == nil {
				res.Conversation = &c
			}
		}
	}
	return res, nil
}

// refuseBlacklisted refuses a reply to a contact on the outbound
// blacklist (Config.OutboundBlacklist), as POST /v1/outbound does; the
// opt-out is the step's (the inbound stage refuses it).
func (s *Server) refuseBlacklisted(ctx context.Context, contact string) error {
	var listed bool
	err := s.readStoreTx(ctx, func(tx store.Tx) error {
		ht, err := historyTx(tx)
		if err != nil {
			return err
		}
		listed, err = ht.InList(ctx, s.cfg.OutboundBlacklist, contact)
		return err
	})
	if err != nil {
		return err
	}
	if listed {
		return &badRequest{http.StatusUnprocessableEntity, fmt.Sprintf("%s is on the outbound blacklist (list %q)", contact, s.cfg.OutboundBlacklist)}
	}
	return nil
}

// checkTransferTarget checks a transfer's target names a directory user
// or team.
func (s *Server) checkTransferTarget(to string) error {
	d := s.directory().CheckFile()
	if kind, name, ok := strings.Cut(to, ":"); ok && d != nil {
		switch kind {
		case "user":
			if _, ok := d.User(name); ok {
				return nil
			}
		case "team":
			if _, ok := d.Team(name); ok {
				return nil
			}
		}
	}
	return &badRequest{http.StatusBadRequest, fmt.Sprintf("to %q is not user:NAME or team:NAME of the directory", to)}
}

func (s *Server) agentNote(w http.ResponseWriter, r *http.Request, user string) {
	var body AgentAction
	if !readAPIJSON(w, r, &body) {
		return
	}
	n, err := s.addAgentNote(r.Context(), chi.URLParam(r, "id"), user, body.Text)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

// addAgentNote adds user's note to conversation id.
func (s *Server) addAgentNote(ctx context.Context, id, user, text string) (*store.ConversationNote, error) {
	if err := checkAgentText(text); err != nil {
		return nil, err
	}
	qr, t, err := s.ticketFor(ctx, id, user)
	if err != nil {
		return nil, err
	}
	if notes, err := qr.ConversationNotes(ctx, t.Contact, t.Number, t.Started); err != nil {
		return nil, err
	} else if len(notes) >= MaxConversationNotes {
		return nil, &badRequest{http.StatusUnprocessableEntity, fmt.Sprintf("the conversation has %d notes, the most it keeps", len(notes))}
	}
	n := &store.ConversationNote{Contact: t.Contact, Number: t.Number, Started: t.Started, User: user, Body: text, Created: s.cfg.Now()}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		qt, ok := tx.(store.QueueTx)
		if !ok {
			return fmt.Errorf("store %T keeps no queues", tx)
		}
		c := *n // a retried transaction inserts anew
		if err := qt.AddConversationNote(ctx, &c); err != nil {
			return err
		}
		n.ID = c.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}
