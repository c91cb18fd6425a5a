package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// Inbound is one inbound message, whichever endpoint it came through.
type Inbound struct {
	SID   string   `json:"sid"`
	From  string   `json:"from"`
	To    string   `json:"to"`
	Body  string   `json:"body"`
	Media []string `json:"media,omitempty"`
}

// Answer is what the server decided, stored with the message so that a
// retry is answered identically.
type Answer struct {
	Outcome string   `json:"outcome"`
	Flow    string   `json:"flow,omitempty"`
	Replies []string `json:"replies"`
}

// badRequest is an input error naming the field at fault.
type badRequest struct {
	status int
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func (s *Server) handleTwilio(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("request body over %d bytes", MaxRequestBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "malformed form body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !s.cfg.DevMode() {
		sig := r.Header.Get("X-Twilio-Signature")
		if sig == "" || !validTwilioSignature(s.cfg.TwilioAuthToken, s.publicURL(r), r.PostForm, sig) {
			s.log.Warn("bad twilio signature", "request_id", middleware.GetReqID(r.Context()), "present", sig != "")
			http.Error(w, "invalid X-Twilio-Signature", http.StatusForbidden)
			return
		}
	}
	in := Inbound{SID: r.PostForm.Get("MessageSid"), From: r.PostForm.Get("From"), To: r.PostForm.Get("To"), Body: r.PostForm.Get("Body")}
	if in.SID == "" {
		in.SID = r.PostForm.Get("SmsSid") // older parameter name
	}
	n, _ := strconv.Atoi(r.PostForm.Get("NumMedia"))
	for i := 0; i < n && i < 10; i++ {
		if u := r.PostForm.Get(fmt.Sprintf("MediaUrl%d", i)); u != "" {
			in.Media = append(in.Media, u)
		}
	}
	ans, err := s.Handle(r.Context(), in, twilioFields)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(TwiML(ans.Replies)))
}

var twilioFields = fieldNames{sid: "MessageSid", from: "From", to: "To", body: "Body"}
var jsonFields = fieldNames{sid: "sid", from: "from", to: "to", body: "body"}

type fieldNames struct{ sid, from, to, body string }

func (s *Server) handleJSON(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.DevMode() {
		if s.cfg.APIToken == "" {
			http.Error(w, "POST /v1/messages is disabled: set FLOWC_API_TOKEN", http.StatusForbidden)
			return
		}
		if !tokenMatches(r.Header.Get("Authorization"), s.cfg.APIToken) {
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	var in Inbound
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("request body over %d bytes", MaxRequestBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "malformed JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	ans, err := s.Handle(r.Context(), in, jsonFields)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		http.Error(w, br.msg, br.status)
		return
	}
	// The store is down or failing: 503 so the provider retries later.
	s.log.Error("inbound failed", "request_id", middleware.GetReqID(r.Context()), "error", err.Error())
	http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
}

func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/") + r.URL.RequestURI()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func validate(in Inbound, f fieldNames) error {
	switch {
	case in.SID == "":
		return &badRequest{http.StatusBadRequest, "missing " + f.sid}
	case in.From == "":
		return &badRequest{http.StatusBadRequest, "missing " + f.from}
	case in.To == "":
		return &badRequest{http.StatusBadRequest, "missing " + f.to}
	case len(in.SID) > 64:
		return &badRequest{http.StatusBadRequest, f.sid + " is longer than 64 characters"}
	case len(in.From) > 64 || len(in.To) > 64:
		return &badRequest{http.StatusBadRequest, "phone numbers are at most 64 characters (" + f.from + ", " + f.to + ")"}
	case !utf8.ValidString(in.Body) || !utf8.ValidString(in.From) || !utf8.ValidString(in.To) || !utf8.ValidString(in.SID):
		return &badRequest{http.StatusBadRequest, f.body + " (or another field) is not valid UTF-8"}
	case strings.ContainsRune(in.Body, 0) || strings.ContainsRune(in.From, 0) || strings.ContainsRune(in.To, 0) || strings.ContainsRune(in.SID, 0):
		return &badRequest{http.StatusBadRequest, f.body + " (or another field) contains a NUL character"}
	case utf8.RuneCountInString(in.Body) > MaxBodyRunes:
		return &badRequest{http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is longer than %d characters", f.body, MaxBodyRunes)}
	}
	return nil
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

// Handle processes one inbound message exactly once and returns the
// answer. Errors are *badRequest for bad input, anything else for a
// store failure (answered 503 so the provider retries).
func (s *Server) Handle(ctx context.Context, in Inbound, f fieldNames) (*Answer, error) {
	if err := validate(in, f); err != nil {
		return nil, err
	}
	key := in.From + "\x00" + in.To
	s.order.Lock(key)
	defer s.order.Unlock(key)

	var ans *Answer
	retry := false
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		retry = false
		if err := tx.LockConversation(ctx, in.From, in.To); err != nil {
			return err
		}
		prev, err := tx.MessageBySID(ctx, in.SID)
		if err == nil {
			var a Answer
			if err := json.Unmarshal([]byte(prev.Response), &a); err != nil {
				return fmt.Errorf("stored answer of %s: %w", in.SID, err)
			}
			ans, retry = &a, true
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		a, trace, version, err := s.decide(ctx, tx, in)
		if err != nil {
			return err
		}
		resp, _ := json.Marshal(a)
		ans = a
		return tx.InsertMessage(ctx, &store.Message{SID: in.SID, From: in.From, To: in.To, Body: in.Body, Media: in.Media,
			Flow: a.Flow, Version: version, Outcome: a.Outcome, Response: string(resp), Trace: trace, Received: s.cfg.Now()})
	})
	if err != nil {
		return nil, err
	}
	outcome := ans.Outcome
	if retry {
		outcome = "retry"
	}
	s.metrics.messages.WithLabelValues(ans.Flow, outcome).Inc()
	return ans, nil
}

// decide runs inside the transaction: the opt-out stage, then the flow.
func (s *Server) decide(ctx context.Context, tx store.Tx, in Inbound) (*Answer, []byte, string, error) {
	now := s.cfg.Now()
	flow, version, err := tx.Route(ctx, in.To)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Warn("no flow serves this number", "outcome", "no-flow")
		return &Answer{Outcome: "no-flow", Replies: []string{}}, nil, "", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	out, err := tx.OptedOut(ctx, in.From, in.To)
	if err != nil {
		return nil, nil, "", err
	}
	word := strings.ToUpper(strings.TrimSpace(in.Body))
	single := word != "" && !strings.ContainsAny(word, " \t\n")
	switch {
	case single && stopWords[word]:
		if err := tx.SetOptOut(ctx, in.From, in.To, true, now); err != nil {
			return nil, nil, "", err
		}
		if err := tx.DeleteConversation(ctx, in.From, in.To); err != nil {
			return nil, nil, "", err
		}
		replies := []string{}
		if !out { // confirm once
			replies = []string{OptOutConfirmation}
		}
		return &Answer{Outcome: "opt-out", Flow: flow, Replies: replies}, nil, version, nil
	case single && startWords[word]:
		if err := tx.SetOptOut(ctx, in.From, in.To, false, now); err != nil {
			return nil, nil, "", err
		}
		if out {
			return &Answer{Outcome: "opt-in", Flow: flow, Replies: []string{OptInConfirmation}}, nil, version, nil
		}
		// Not opted out: START is an ordinary message for the flow.
	case single && helpWords[word] && !out:
		p, err := s.program(ctx, tx, version)
		if err != nil {
			return nil, nil, "", err
		}
		help := p.Help
		if help == "" {
			help = DefaultHelp
		}
		return &Answer{Outcome: "help", Flow: flow, Replies: []string{help}}, nil, version, nil
	case out:
		// Stored (nothing accepted is lost) but neither routed nor answered.
		return &Answer{Outcome: "opted-out", Flow: flow, Replies: []string{}}, nil, version, nil
	}
	return s.runFlow(ctx, tx, in, flow, version)
}

func (s *Server) runFlow(ctx context.Context, tx store.Tx, in Inbound, flow, version string) (*Answer, []byte, string, error) {
	now := s.cfg.Now()
	var st *vm.State
	conv, err := tx.Conversation(ctx, in.From, in.To)
	switch {
	case err == nil:
		// Resume on the version the conversation started with.
		version, flow = conv.Version, conv.Flow
		st = &vm.State{}
		if err := json.Unmarshal(conv.State, st); err != nil {
			return nil, nil, "", fmt.Errorf("conversation state: %w", err)
		}
	case errors.Is(err, store.ErrNotFound):
	default:
		return nil, nil, "", err
	}
	p, err := s.program(ctx, tx, version)
	if err != nil {
		return nil, nil, "", err
	}
	tags, err := tx.ContactTags(ctx, in.From)
	if err != nil {
		return nil, nil, "", err
	}
	env := &runEnv{s: s, now: now, contact: s.directory().Contact(in.From, tags)}
	ev := vm.Event{Kind: vm.EventMessage, Message: vm.Message{ID: in.SID, From: in.From, To: in.To, Body: in.Body, Media: in.Media}}
	res, err := vm.Run(ctx, p, st, ev, env, vm.Options{Trace: true})
	if err != nil {
		// A broken program or state must not lose the message: store it
		// as an error and end the conversation.
		s.log.Error("flow failed", "flow", flow, "version", version, "error", err.Error())
		if derr := tx.DeleteConversation(ctx, in.From, in.To); derr != nil {
			return nil, nil, "", derr
		}
		return &Answer{Outcome: "error", Flow: flow, Replies: []string{}}, nil, version, nil
	}
	ans, err := s.apply(ctx, tx, p, in, flow, version, res)
	if err != nil {
		return nil, nil, "", err
	}
	trace, _ := json.Marshal(traceJSON(p, res))
	return ans, trace, version, nil
}

// apply writes a run's effects in the transaction and collects replies.
func (s *Server) apply(ctx context.Context, tx store.Tx, p *vm.Program, in Inbound, flow, version string, res *vm.Result) (*Answer, error) {
	now := s.cfg.Now()
	ans := &Answer{Outcome: "routed", Flow: flow, Replies: []string{}}
	if len(res.Errors) > 0 {
		ans.Outcome = "routed-with-errors"
	}
	for _, a := range res.Actions {
		switch a.Kind {
		case vm.ActReply:
			ans.Replies = append(ans.Replies, a.Text)
		case vm.ActDeliver:
			if err := s.deliver(ctx, tx, a.Target, in, flow, now); err != nil {
				return nil, err
			}
		case vm.ActForward:
			body, _ := json.Marshal(map[string]any{"flow": flow, "message_sid": in.SID, "from": in.From, "to": in.To, "body": in.Body, "media": in.Media})
			kind := a.Target.Kind
			if err := tx.Enqueue(ctx, &store.OutboxItem{Kind: kind, To: a.Target.Name, From: in.To, Body: string(body), MessageSID: in.SID, Created: now, NotBefore: now}); err != nil {
				return nil, err
			}
		case vm.ActTag:
			if err := tx.AddContactTag(ctx, in.From, a.Text); err != nil {
				return nil, err
			}
		}
	}
	if res.State == nil {
		return ans, tx.DeleteConversation(ctx, in.From, in.To)
	}
	state, err := json.Marshal(res.State)
	if err != nil {
		return nil, err
	}
	return ans, tx.SaveConversation(ctx, &store.Conversation{Contact: in.From, Number: in.To, Flow: flow, Version: version,
		State: state, Deadline: res.State.Deadline, Updated: now})
}

// deliver stores inbox items for a target, choosing the member of a team
// by its strategy.
func (s *Server) deliver(ctx context.Context, tx store.Tx, t vm.Target, in Inbound, flow string, now time.Time) error {
	item := &store.InboxItem{TargetKind: t.Kind, TargetName: t.Name, MessageSID: in.SID, Contact: in.From, Number: in.To, Body: in.Body, Flow: flow, Created: now}
	if t.Kind == "user" {
		item.Assignee = t.Name
		return tx.AddInboxItem(ctx, item)
	}
	members := s.directory().Members(t.Name)
	if len(members) > 0 {
		switch t.Strategy {
		case "round-robin":
			i, err := tx.NextRoundRobin(ctx, t.Name, len(members))
			if err != nil {
				return err
			}
			item.Assignee = members[i]
		case "least-busy":
			counts, err := tx.OpenItemCounts(ctx, members)
			if err != nil {
				return err
			}
			best := members[0]
			for _, m := range members[1:] {
				if counts[m] < counts[best] {
					best = m
				}
			}
			item.Assignee = best
		case "random":
			// Deterministic per message, so a retried transaction picks the same member.
			h := fnv.New32a()
			h.Write([]byte(in.SID))
			item.Assignee = members[int(h.Sum32()%uint32(len(members)))]
		}
	}
	return tx.AddInboxItem(ctx, item)
}

type runEnv struct {
	s       *Server
	now     time.Time
	contact runtime.Contact
}

func (e *runEnv) Now() time.Time { return e.now }

func (e *runEnv) Contact(context.Context, string) (runtime.Contact, error) { return e.contact, nil }

func (e *runEnv) RunApplet(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	if e.s.cfg.Applets == nil {
		return nil, fmt.Errorf("JavaScript applets are not enabled on this server")
	}
	return e.s.cfg.Applets(ctx, a, in)
}

type traceStep struct {
	Loc  string `json:"loc"`
	Op   string `json:"op"`
	Note string `json:"note,omitempty"`
}

func traceJSON(p *vm.Program, res *vm.Result) map[string]any {
	steps := make([]traceStep, 0, len(res.Trace))
	for _, t := range res.Trace {
		steps = append(steps, traceStep{Loc: fmt.Sprintf("%s:%d:%d", p.File, t.Loc.Line, t.Loc.Col), Op: strings.ToLower(t.Op.String()), Note: t.Note})
	}
	acts := make([]string, 0, len(res.Actions))
	for _, a := range res.Actions {
		acts = append(acts, a.String())
	}
	return map[string]any{"flow": p.Name, "version": p.Version, "steps": steps, "actions": acts, "errors": res.Errors}
}
