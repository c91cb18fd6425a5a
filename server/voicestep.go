package server

import (
	"context"
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
		case c.State == nil || c.Step >= MaxCallSteps:
			cr.over = true
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
	}
	in, err := s.callInput(ctx, req, cr)
	if err != nil {
		return "", err
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
	st := &store.CallStep{SID: req.SID, Step: c.Step, At: in.Now, Event: req.describe(c.AnsweredBy), Outcome: ip.Outcome, TwiML: twiml, Trace: p.Trace}
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
	if req.Event.Kind == vm.EventDial && req.Event.Call.Status == "answered" && cr.call != nil {
		snap.in.Call.Call.Member = cr.call.AnsweredBy // the leg's report (handleVoiceLeg)
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
	if ip.Save != nil && !callEnds(ip) {
		c.State = ip.Save.State
	}
	if c.State == nil {
		c.Ended = in.Now
	}
	if req.Event.Kind == vm.EventDial && req.Event.Call.Status != "answered" {
		c.AnsweredBy = "" // the next ring's answer is its own
	}
	return c
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
