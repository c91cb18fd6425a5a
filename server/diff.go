package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// A behaviour diff before anything goes live (`flowc deploy --diff`):
// the stored messages that started a conversation of the flow in the
// last days are replayed through the active version and the new one by
// the pure step (step.go), with the message's received time as the
// clock, the contact's current directory entry and tags, and the
// server's applet runner; each plan is data, so nothing is persisted.
// Only first messages are replayed: a later message's routing depends
// on the conversation's state, which the new version would have built
// differently.

// Bounds of a diff.
const (
	DefaultDiffDays = 7
	MaxDiffDays     = 90
	// MaxDiffMessages bounds the messages one diff replays (the latest
	// ones; the answer says when older ones were left out).
	MaxDiffMessages = 5000
)

// DiffRequest is a flow to compare with the active version.
type DiffRequest struct {
	File    string            `json:"file"`
	Source  string            `json:"source"`
	Applets map[string]string `json:"applets,omitempty"`
	Days    int               `json:"days,omitempty"` // default DefaultDiffDays
}

// DiffResponse lists the replayed messages the new version would route
// differently.
type DiffResponse struct {
	Flow          string                `json:"flow"`
	Version       string                `json:"version"`        // the new version
	ActiveVersion string                `json:"active_version"` // what it is compared with
	Since         time.Time             `json:"since"`
	Replayed      int                   `json:"replayed"`
	Truncated     bool                  `json:"truncated"` // more than MaxDiffMessages: the oldest were left out
	Changed       []DiffChange          `json:"changed"`
	Warnings      []diag.JSONDiagnostic `json:"warnings"`
}

// DiffChange is one message routed differently.
type DiffChange struct {
	SID      string    `json:"sid"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Body     string    `json:"body"`
	Received time.Time `json:"received"`
	Active   Routing   `json:"active"`
	New      Routing   `json:"new"`
}

// Routing is what one version did with a message.
type Routing struct {
	Outcome    string   `json:"outcome"`
	Replies    []string `json:"replies"`
	Deliveries []string `json:"deliveries"` // inbox targets: team:sales, team:sales by round-robin
	Forwards   []string `json:"forwards"`   // email:ADDR, webhook:URL
	Tags       []string `json:"tags"`
}

func (a Routing) equal(b Routing) bool {
	return a.Outcome == b.Outcome && slices.Equal(a.Replies, b.Replies) && slices.Equal(a.Deliveries, b.Deliveries) &&
		slices.Equal(a.Forwards, b.Forwards) && slices.Equal(a.Tags, b.Tags)
}

func routingOf(p *plan) Routing {
	r := Routing{Outcome: p.Answer.Outcome, Replies: nonNil(p.Answer.Replies), Deliveries: []string{}, Forwards: []string{}, Tags: nonNil(p.Tags)}
	for _, t := range p.Deliver {
		d := t.String()
		if t.Strategy != "" {
			d += " by " + t.Strategy
		}
		r.Deliveries = append(r.Deliveries, d)
	}
	for _, o := range p.Outbox {
		r.Forwards = append(r.Forwards, o.Kind+":"+o.To)
	}
	return r
}

// startedConversation: the message ran the flow from its top (no
// conversation was in progress), so it is one a diff replays.
func startedConversation(in *stepInput, p *plan) bool {
	if in.Timer || in.Conv != nil || in.Route == nil {
		return false
	}
	switch p.Answer.Outcome {
	case "routed", "routed-with-errors", "error":
		return true
	}
	return false
}

func (s *Server) diffFlow(w http.ResponseWriter, r *http.Request) {
	var req DiffRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Days == 0 {
		req.Days = DefaultDiffDays
	}
	if req.Days < 1 || req.Days > MaxDiffDays {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf(`"days" must be 1 to %d`, MaxDiffDays)})
		return
	}
	p, warnings := s.compileRequest(w, r, &DeployRequest{File: req.File, Source: req.Source, Applets: req.Applets})
	if p == nil {
		return
	}
	out, err := s.diff(r.Context(), p, req.Days)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out.Warnings = warnings
	writeJSON(w, http.StatusOK, out)
}

// diff replays the flow's conversation starts of the last days through
// its active version and p.
func (s *Server) diff(ctx context.Context, p *vm.Program, days int) (*DiffResponse, error) {
	now := s.cfg.Now()
	out := &DiffResponse{Flow: p.Name, Version: p.Version, Since: now.Add(-time.Duration(days) * 24 * time.Hour), Changed: []DiffChange{}}
	var (
		active *vm.Program
		msgs   []store.Message
		tags   = map[string][]string{}
	)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if out.ActiveVersion, err = activeVersion(ctx, tx, p.Name); err != nil {
			return err
		}
		if out.ActiveVersion == "" {
			return fmt.Errorf("flow %q has no active version to compare with: %w", p.Name, store.ErrNotFound)
		}
		if active, err = s.program(ctx, tx, out.ActiveVersion); err != nil {
			return err
		}
		dt, err := deployTx(tx)
		if err != nil {
			return err
		}
		if msgs, err = dt.ConversationStarts(ctx, p.Name, out.Since, MaxDiffMessages+1); err != nil {
			return err
		}
		for _, m := range msgs {
			if _, ok := tags[m.From]; !ok {
				if tags[m.From], err = tx.ContactTags(ctx, m.From); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(msgs) > MaxDiffMessages {
		msgs, out.Truncated = msgs[len(msgs)-MaxDiffMessages:], true
	}
	dir := s.directory()
	for _, m := range msgs {
		in := stepInput{Msg: Inbound{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Media: m.Media}, Now: m.Received,
			Contact: dir.Contact(m.From, tags[m.From])}
		var routings [2]Routing
		for i, prog := range []*vm.Program{active, p} {
			in.Route = &routed{Flow: p.Name, Version: prog.Version, Program: prog}
			pl, err := step(ctx, &in, s.cfg.Applets)
			if err != nil {
				return nil, err
			}
			routings[i] = routingOf(pl)
		}
		out.Replayed++
		if !routings[0].equal(routings[1]) {
			out.Changed = append(out.Changed, DiffChange{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Received: m.Received,
				Active: routings[0], New: routings[1]})
		}
	}
	return out, nil
}
