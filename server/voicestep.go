package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// A call's step (voice.go has the design): read the call and what the
// flow may read, run the event through the inbound stage with no
// transaction open, then store the step and its effects in one
// transaction whose first write is the call's compare-and-swap.

// callStepSID names a call's step where a message's SID goes: the inbox
// items, texts and e-mails a step makes, and its interactions.
func callStepSID(sid string, step int) string { return sid + "/" + strconv.Itoa(step) }

// hangupTwiML answers a callback of a call that is over.
const hangupTwiML = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Hangup/></Response>`

// Call runs one voice request and returns its TwiML: the stored one for
// a step answered before. A request whose Step is -1 (a status callback)
// is the event at whatever step the call is. Errors are *badRequest for
// requests that name no step of the call, anything else a store failure
// (answered 503: nothing was stored).
func (s *Server) Call(ctx context.Context, req *callRequest) (string, error) {
	for attempt := 1; attempt <= MaxStepAttempts; attempt++ {
		twiml, err := s.callAttempt(ctx, req)
		if !errors.Is(err, store.ErrConflict) {
			return twiml, err
		}
		s.metrics.conflicts.Inc()
	}
	return "", &errConversationBusy{MaxStepAttempts}
}

// callRead is what a call's step read.
type callRead struct {
	call   *store.Call // nil: a new call
	routes int64
	replay *store.CallStep // the step was answered before: answer that
	over   bool            // the call is over, or not this server's: nothing to run
	limit  bool            // the call reached MaxCallSteps: this step ends it
}

func (s *Server) readCall(ctx context.Context, req *callRequest) (*callRead, error) {
	var cr callRead
	err := s.readStoreTx(ctx, func(tx store.Tx) error {
		cr = callRead{}
		ct, err := callsTx(tx)
		if err != nil {
			return err
		}
		if cr.routes, err = tx.RoutesVersion(ctx); err != nil {
			return err
		}
		c, err := ct.Call(ctx, req.SID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if req.Step != 0 {
				cr.over = true // a callback of a call never stored (no flow answered it) or pruned
			}
			return nil
		case err != nil:
			return err
		}
		cr.call = c
		if req.fromStore { // a recording's status callback names no numbers
			req.From, req.To = c.Contact, c.Number
		}
		if c.Contact != req.From || c.Number != req.To {
			return &badRequest{http.StatusConflict, fmt.Sprintf("CallSid %s is a call from %s to %s, not from %s to %s", req.SID, c.Contact, c.Number, req.From, req.To)}
		}
		answered := req.Step + 1 // the step this request is
		if req.Step < 0 {
			answered = c.Step + 1
		}
		switch {
		case answered <= c.Step:
			cr.replay, err = ct.CallStep(ctx, req.SID, answered)
			if errors.Is(err, store.ErrNotFound) {
				cr.over, err = true, nil // pruned
			}
			return err
		case answered > c.Step+1:
			return &badRequest{http.StatusConflict, fmt.Sprintf("step=%d: call %s has answered %d steps, so its next callback is step=%d", req.Step, req.SID, c.Step, c.Step)}
		case c.State == nil:
			cr.over = true
		case !c.Ended.IsZero() && req.Event.Kind != vm.EventRecorded:
			// The caller hung up at a voicemail (callEvent): only its
			// recording is still to come.
			cr.over = true
		case c.Step >= MaxCallSteps:
			cr.limit = true
		}
		return nil
	})
	return &cr, err
}

func (s *Server) callAttempt(ctx context.Context, req *callRequest) (string, error) {
	cr, err := s.readCall(ctx, req)
	switch {
	case err != nil:
		return "", err
	case cr.replay != nil:
		return cr.replay.TwiML, nil
	case cr.over:
		return hangupTwiML, nil
	case cr.limit:
		return s.endCall(ctx, req, cr, "the call reached its limit of steps")
	}
	in, err := s.callInput(ctx, req, cr)
	if err != nil {
		return "", err
	}
	ev, wait := callEvent(req, cr, in.ConvProgram)
	switch {
	case wait:
		return s.awaitRecording(ctx, req, cr)
	case ev != nil:
		in.Call = ev
	}
	if cr.call == nil && in.Route == nil {
		s.log.Warn("no call flow serves this number", "outcome", inbound.OutcomeNoFlow)
		s.metrics.messages.WithLabelValues("", "call-no-flow").Inc()
		return rejectTwiML, nil // nothing stored: a retry is answered the same
	}
	ii := inboundInput(in)
	ip, err := inbound.Step(ctx, ii, inbound.AppletRunner(s.cfg.Applets))
	if err != nil {
		return "", err
	}
	in.Msg.Body, in.Msg.Media = ii.Msg.Body, ii.Msg.Media // a voicemail's (inbound's callStep)
	p := planOf(in, ip)
	for _, t := range ip.Texts {
		p.Outbox = append(p.Outbox, store.OutboxItem{Kind: "sms", To: in.Msg.From, From: in.Msg.To, Body: t, Contact: in.Msg.From,
			MessageSID: in.Msg.SID, Created: in.Now, NotBefore: in.Now})
	}
	c := nextCall(req, cr, in, ip)
	twiml := s.renderCall(ip.Call, c, in.Directory, callEnds(ip))
	st := &store.CallStep{SID: req.SID, Step: c.Step, At: in.Now, Event: describeEvent(req, in.Call), Outcome: ip.Outcome, TwiML: twiml, Trace: p.Trace}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		ct, err := callsTx(tx)
		if err != nil {
			return err
		}
		if err := ct.SaveCall(ctx, c); err != nil { // first: a step answered meanwhile is ErrConflict, before any effect
			return err
		}
		if err := ct.AddCallStep(ctx, st); err != nil {
			return err
		}
		if err := s.applyOutputs(ctx, tx, in, p); err != nil {
			return err
		}
		return s.recordInteractions(ctx, tx, in, p)
	})
	if err != nil {
		return "", err
	}
	if p.FlowErr != nil {
		s.log.Error("call flow failed", "flow", p.Flow, "version", p.Version, "error", clipErr(p.FlowErr))
	}
	s.metrics.messages.WithLabelValues(p.Flow, "call").Inc()
	noteMessage(ctx, "", p.Flow, p.Version, ip.Outcome)
	return twiml, nil
}

// callInput reads what the step's flow may read, as a message's step
// does (readEvent): the contact's tags, lists, history and edits, the
// directory, and the route of a new call.
func (s *Server) callInput(ctx context.Context, req *callRequest, cr *callRead) (*stepInput, error) {
	step := 1
	if cr.call != nil {
		step = cr.call.Step + 1
	}
	in := stepInput{Msg: Inbound{SID: callStepSID(req.SID, step), From: req.From, To: req.To}, Now: s.cfg.Now(),
		EventBudget: s.cfg.EventBudget, HandoffIdle: s.cfg.HandoffIdle, Call: &req.Event}
	if cr.call == nil {
		rt, err := s.routeTableAt(ctx, cr.routes)
		if err != nil {
			return nil, err
		}
		if flow, version, ok := rt.callRoute(req.To); ok {
			p, err := s.programRead(ctx, version)
			if err != nil {
				return nil, err
			}
			in.Route = &routed{Flow: flow, Version: version, Program: p}
		}
	} else {
		p, err := s.programRead(ctx, cr.call.Version)
		if err != nil {
			return nil, err
		}
		in.Conv = &store.Conversation{Contact: req.From, Number: req.To, Flow: cr.call.Flow, Version: cr.call.Version,
			State: cr.call.State, Started: cr.call.Started, Updated: cr.call.Updated}
		in.ConvProgram = p
	}
	reads := in.reads()
	st, err := s.stepState(ctx, req.From, req.To, "", reads)
	if err != nil {
		return nil, err
	}
	if err := s.syncDirectory(ctx, st.DirectoryVersion); err != nil {
		return nil, err
	}
	snap := &snapshot{in: in}
	if err := s.readHistory(ctx, snap, st, reads.History); err != nil {
		return nil, err
	}
	snap.in.Directory = s.directory().CheckFile()
	if err := s.readEdits(ctx, &snap.in, reads.Edits, st.Edits); err != nil {
		return nil, err
	}
	return &snap.in, nil
}

// nextCall is the call as the step leaves it.
func nextCall(req *callRequest, cr *callRead, in *stepInput, ip *inbound.Plan) *store.Call {
	c := &store.Call{SID: req.SID, Contact: req.From, Number: req.To, Step: 1, Started: in.Now, Updated: in.Now}
	if cr.call != nil {
		prev := *cr.call
		c = &prev
		c.Step++
		c.Updated = in.Now
	} else {
		c.Flow, c.Version = ip.Flow, ip.Version
	}
	c.State = nil
	// The caller is gone when the call ended already (a hangup at a
	// voicemail, whose recording this is) or hung up (a hangup turned
	// into the answer it followed, callEvent): whatever the flow does
	// next is not heard, and the call is over.
	gone := !c.Ended.IsZero() || req.Event.Kind == vm.EventHangup
	if ip.Save != nil && !callEnds(ip) && !gone {
		c.State = ip.Save.State
	}
	if c.State == nil && c.Ended.IsZero() {
		c.Ended = in.Now
	}
	c.AnsweredBy = "" // who answered a ring is its dial's: the next ring's is its own
	return c
}

// callEvent is the event a request is for the flow, when it is not the
// request's own: a hangup while a ring rings that somebody answered is
// that answer (the status callback came before the dial's action, whose
// request then finds the step answered), and a dial answered is by the
// member the leg reported, or (ringing in order) the one rung. wait: the
// caller hung up at a voicemail, whose recording is still to come: the
// call waits for it (awaitRecording).
func callEvent(req *callRequest, cr *callRead, p *vm.Program) (ev *vm.Event, wait bool) {
	c := cr.call
	if c == nil || p == nil {
		return nil, false
	}
	var st vm.State
	if json.Unmarshal(c.State, &st) != nil || st.PC < 0 || st.PC >= len(p.Code) {
		return nil, false
	}
	op := p.Code[st.PC]
	switch {
	case req.Event.Kind == vm.EventHangup && op == vm.OpVoicemail:
		return nil, true
	case req.Event.Kind == vm.EventHangup && op == vm.OpRing && c.AnsweredBy != "":
		return &vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "answered", Member: c.AnsweredBy}}, false
	case req.Event.Kind == vm.EventDial && req.Event.Call.Status == "answered":
		ev := req.Event
		ev.Call.Member = c.AnsweredBy
		if r := st.Ring; ev.Call.Member == "" && r != nil && int(p.Args[st.PC]) < len(p.Rings) && p.Rings[p.Args[st.PC]].InOrder && r.Next >= 1 && r.Next <= len(r.Members) {
			ev.Call.Member = r.Members[r.Next-1]
		}
		return &ev, false
	}
	return nil, false
}

// describeEvent is the step's event as the trace tells it: the
// request's, and what the flow took it for when that differs.
func describeEvent(req *callRequest, ev *vm.Event) string {
	d := req.describe("")
	if ev == nil || ev == &req.Event {
		return d
	}
	taken := &callRequest{From: req.From, Event: *ev}
	if req.Event.Kind == vm.EventDial && ev.Kind == vm.EventDial {
		return taken.describe(ev.Call.Member)
	}
	return d + ", taken as " + taken.describe(ev.Call.Member)
}

// awaitRecording records the hangup of a call waiting at a voicemail:
// the call is over for everything but the recording, which Twilio sends
// after (the <Record> action, or its status callback) for the step the
// call is at, which then delivers it. No step is taken now.
func (s *Server) awaitRecording(ctx context.Context, req *callRequest, cr *callRead) (string, error) {
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		ct, err := callsTx(tx)
		if err != nil {
			return err
		}
		_, err = ct.MarkCallEnded(ctx, req.SID, cr.call.Step, s.cfg.Now())
		return err
	})
	return hangupTwiML, err
}

// endCall ends a call without running its flow (MaxCallSteps).
func (s *Server) endCall(ctx context.Context, req *callRequest, cr *callRead, why string) (string, error) {
	now := s.cfg.Now()
	c := *cr.call
	c.Step++
	c.State, c.Updated, c.Ended = nil, now, now
	st := &store.CallStep{SID: req.SID, Step: c.Step, At: now, Event: req.describe("") + ": " + why, Outcome: inbound.OutcomeCall, TwiML: hangupTwiML}
	s.log.Warn("call ended", "call_sid", req.SID, "reason", why)
	return hangupTwiML, s.saveCallStep(ctx, &c, st)
}

// saveCallStep stores a step that ran no flow.
func (s *Server) saveCallStep(ctx context.Context, c *store.Call, st *store.CallStep) error {
	return s.store.InTx(ctx, func(tx store.Tx) error {
		ct, err := callsTx(tx)
		if err != nil {
			return err
		}
		if err := ct.SaveCall(ctx, c); err != nil {
			return err
		}
		return ct.AddCallStep(ctx, st)
	})
}

// callEnds reports whether the step leaves the call over: the flow ended
// or hung up.
func callEnds(ip *inbound.Plan) bool {
	if ip.Save == nil || ip.End {
		return true
	}
	for _, a := range ip.Call {
		if a.Kind == vm.ActHangup {
			return true
		}
	}
	return false
}
