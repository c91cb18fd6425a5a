package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// Calls (the Voice issue). Twilio asks the voice webhook what to do with
// an incoming call, and then asks again at every step the call waits at:
// a gather's digits, a dial's end, a recording. Each request is one step
// of the call flow, run through the same inbound stage as `flowc run
// --call` and `flowc test` (inbound.Input.Call), and answered with the
// TwiML of the step's actions (voicetwiml.go).
//
// Every callback URL this server writes into its TwiML names the step
// whose answer asked for it (?step=N&on=gather|dial|record): Twilio's
// request for it is step N+1. A call is kept in the store (calls) with
// the number of steps answered, and every answer under (CallSid, step)
// (call_steps): a request for a step answered already is answered with
// the stored TwiML and changes nothing (a retried callback, or one that
// two replicas received), and two requests racing for one step are
// ordered by SaveCall's compare-and-swap: the second runs again, finds
// the step answered and answers as the first did. The step's effects (a
// text back, a voicemail in an inbox or by e-mail, tags, the contact's
// history) commit in the transaction that stores the step, so a retry
// never repeats them.
//
// The call's status callback (VoiceStatusPath: the caller hung up, or
// the call ended) is the event EventHangup at the call's current step; a
// rung leg's answer (VoiceLegPath) records who answered, which the
// dial's own callback then reports to the flow; a recording's status
// callback (VoiceRecordingPath) is the voicemail's step as the <Record>
// action is, so a voicemail is delivered whichever of the two comes (a
// caller who hangs up at a voicemail leaves the call waiting for it).

// The voice endpoints, to configure in Twilio (docs/voice.md).
const (
	VoicePath          = "/webhooks/twilio/voice"
	VoiceStatusPath    = "/webhooks/twilio/voice/status"
	VoiceLegPath       = "/webhooks/twilio/voice/leg"
	VoiceRecordingPath = "/webhooks/twilio/voice/recording"
)

// Bounds on a call's requests.
const (
	// MaxCallSteps bounds the steps of one call: a flow that loops
	// through gathers forever ends there.
	MaxCallSteps = 1000
	// MaxDigits bounds a gather's Digits.
	MaxDigits = 64
	// MaxRecordingSeconds bounds RecordingDuration (Twilio's own limit on
	// <Record maxLength> is 4 hours).
	MaxRecordingSeconds = 4 * 3600
)

// callRequest is one of Twilio's voice requests, checked.
type callRequest struct {
	SID, From, To string
	// Step is the step whose answer asked for this request (0: the call
	// itself); On is which of its waits: "gather", "dial", "record".
	Step  int
	On    string
	Event vm.Event
	// Unringable: the dial had nobody to ring (voicetwiml.go's redirect).
	Unringable bool
	// fromStore: the request names no numbers (a recording's status
	// callback): the stored call's are its.
	fromStore bool
}

// describe is the event as a call's trace tells it.
func (c *callRequest) describe(answeredBy string) string {
	ev := c.Event
	switch ev.Kind {
	case vm.EventCall:
		return "call from " + c.From
	case vm.EventDigits:
		if ev.Message.Body == "" {
			return "gather: no digits (timeout)"
		}
		return "gather: pressed " + ev.Message.Body
	case vm.EventDial:
		if ev.Call.Status == "answered" && answeredBy != "" {
			return "dial: answered by " + answeredBy
		}
		return "dial: " + ev.Call.Status
	case vm.EventRecorded:
		return fmt.Sprintf("recorded %s %s", vm.FormatDuration(ev.Call.Length), ev.Call.Recording)
	case vm.EventHangup:
		return "hangup"
	}
	return "?"
}

// parseCallRequest reads a voice webhook request: the step from the URL
// this server wrote, the rest from Twilio's parameters, each field
// checked and named when at fault.
func parseCallRequest(q url.Values, form url.Values) (*callRequest, error) {
	c := &callRequest{SID: form.Get("CallSid"), From: form.Get("From"), To: form.Get("To")}
	if err := checkIDs(form, "CallSid", "From", "To"); err != nil {
		return nil, err
	}
	if s := q.Get("step"); s != "" || q.Get("on") != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxCallSteps {
			return nil, badField("step", "is not a whole number from 1 to %d (the URL's step names the answer that asked for this callback)", MaxCallSteps)
		}
		c.Step, c.On = n, q.Get("on")
	}
	switch c.On {
	case "":
		if c.Step != 0 {
			return nil, badField("on", "is missing: a callback's URL names its step and which of its waits it ends (gather, dial, record)")
		}
		c.Event.Kind = vm.EventCall
	case "gather":
		d := form.Get("Digits")
		if len(d) > MaxDigits || strings.Trim(d, "0123456789*#") != "" {
			return nil, badField("Digits", "is not at most %d of 0-9, * and #", MaxDigits)
		}
		c.Event = vm.Event{Kind: vm.EventDigits, Message: vm.Message{Body: d}}
	case "dial":
		if q.Get("unringable") == "1" {
			c.Unringable = true
			c.Event = vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "failed"}}
			break
		}
		st := form.Get("DialCallStatus")
		switch st {
		case "completed", "answered":
			c.Event = vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "answered"}}
		case "no-answer", "busy", "failed":
			c.Event = vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: st}}
		case "canceled": // the caller hung up while it rang
			c.Event.Kind = vm.EventHangup
		case "":
			return nil, badField("DialCallStatus", "is missing (a <Dial> action callback carries it)")
		default:
			return nil, badField("DialCallStatus", "%q is not one of completed, answered, no-answer, busy, failed, canceled", clip(st))
		}
	case "record":
		u := form.Get("RecordingUrl")
		if p := inbound.MediaURLProblem(u); p != "" {
			return nil, badField("RecordingUrl", "%s", p)
		}
		secs, err := strconv.Atoi(form.Get("RecordingDuration"))
		if err != nil || secs < 0 || secs > MaxRecordingSeconds {
			return nil, badField("RecordingDuration", "is not a whole number of seconds from 0 to %d", MaxRecordingSeconds)
		}
		c.Event = vm.Event{Kind: vm.EventRecorded, Call: vm.CallEvent{Recording: u, Length: time.Duration(secs) * time.Second}}
	default:
		return nil, badField("on", "%q is not one of gather, dial, record", clip(c.On))
	}
	return c, nil
}

// checkIDs checks that each named parameter is there, bounded and
// storable.
func checkIDs(form url.Values, names ...string) error {
	for _, n := range names {
		v := form.Get(n)
		switch {
		case v == "":
			return badField(n, "is missing")
		case len(v) > MaxIDBytes:
			return badField(n, "is longer than %d bytes", MaxIDBytes)
		}
		if err := storableText(n, v); err != nil {
			return err
		}
	}
	return nil
}

// badField is a 400 naming the parameter at fault.
func badField(field, format string, args ...any) error {
	return &badRequest{http.StatusBadRequest, field + " " + fmt.Sprintf(format, args...)}
}

func (s *Server) handleVoice(w http.ResponseWriter, r *http.Request) {
	form, ok := s.twilioRequest(w, r)
	if !ok {
		return
	}
	req, err := parseCallRequest(r.URL.Query(), form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	noteMessage(r.Context(), req.SID, "", "", "")
	twiml, err := s.Call(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(twiml))
}

// handleVoiceStatus takes a call's status callback: a call that is over
// (completed, busy, no-answer, failed, canceled) ends wherever it waits.
func (s *Server) handleVoiceStatus(w http.ResponseWriter, r *http.Request) {
	form, ok := s.twilioRequest(w, r)
	if !ok {
		return
	}
	if err := checkIDs(form, "CallSid", "From", "To", "CallStatus"); err != nil {
		s.fail(w, r, err)
		return
	}
	noteMessage(r.Context(), form.Get("CallSid"), "", "", "")
	switch st := form.Get("CallStatus"); st {
	case "completed", "busy", "no-answer", "failed", "canceled":
		req := &callRequest{SID: form.Get("CallSid"), From: form.Get("From"), To: form.Get("To"), Event: vm.Event{Kind: vm.EventHangup}, Step: -1}
		if _, err := s.Call(r.Context(), req); err != nil {
			s.fail(w, r, err)
			return
		}
	case "queued", "initiated", "ringing", "in-progress":
	default:
		s.fail(w, r, badField("CallStatus", "%q is not a call status", clip(st)))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleVoiceLeg takes a rung leg's status callback (voicetwiml.go puts
// it on each <Number>, <Client> and <Sip>): its answer records who
// answered the call's ring, which the dial's action callback then tells
// the flow.
func (s *Server) handleVoiceLeg(w http.ResponseWriter, r *http.Request) {
	form, ok := s.twilioRequest(w, r)
	if !ok {
		return
	}
	if err := checkIDs(form, "ParentCallSid", "CallStatus"); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	step, err := strconv.Atoi(q.Get("step"))
	if err != nil || step < 1 || step > MaxCallSteps {
		s.fail(w, r, badField("step", "is not a whole number from 1 to %d", MaxCallSteps))
		return
	}
	member := q.Get("member")
	if member == "" || len(member) > MaxIDBytes || storableText("member", member) != nil {
		s.fail(w, r, badField("member", "is not a directory user's name"))
		return
	}
	if form.Get("CallStatus") == "in-progress" {
		if err := s.legAnswered(r.Context(), form.Get("ParentCallSid"), step, member); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// legAnswered records that member answered the ring of the call's step,
// when the call is at that step and rings member.
func (s *Server) legAnswered(ctx context.Context, sid string, step int, member string) error {
	return s.store.InTx(ctx, func(tx store.Tx) error {
		ct, err := callsTx(tx)
		if err != nil {
			return err
		}
		c, err := ct.Call(ctx, sid)
		if errors.Is(err, store.ErrNotFound) {
			return nil // not one of ours, or pruned: nothing to record
		}
		if err != nil {
			return err
		}
		var st vm.State
		if c.Step != step || c.State == nil || json.Unmarshal(c.State, &st) != nil || st.Ring == nil || !ringsMember(st.Ring, member) {
			return nil // a step past, or somebody the call does not ring
		}
		_, err = ct.SetCallAnswered(ctx, sid, step, member)
		return err
	})
}

func ringsMember(r *vm.RingState, member string) bool {
	for i, m := range r.Members {
		if m == member && i < r.Next {
			return true
		}
	}
	return false
}

// handleVoiceRecording takes a recording's status callback: a completed
// recording is the voicemail step's event, as the <Record> action's
// request is (whichever comes first answers the step); a failed or
// absent recording is logged.
func (s *Server) handleVoiceRecording(w http.ResponseWriter, r *http.Request) {
	form, ok := s.twilioRequest(w, r)
	if !ok {
		return
	}
	if err := checkIDs(form, "CallSid", "RecordingSid", "RecordingStatus"); err != nil {
		s.fail(w, r, err)
		return
	}
	switch st := form.Get("RecordingStatus"); st {
	case "completed":
		// The same step as the <Record> action's, whichever comes first:
		// the other finds it answered. So a voicemail is delivered even
		// when the action's request failed or came after a hangup.
		q := r.URL.Query()
		q.Set("on", "record")
		form.Set("From", "-")
		form.Set("To", "-")
		req, err := parseCallRequest(q, form)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		req.fromStore = true
		if _, err := s.Call(r.Context(), req); err != nil {
			s.fail(w, r, err)
			return
		}
	case "in-progress":
		s.log.Info("recording", "request_id", middleware.GetReqID(r.Context()), "call_sid", form.Get("CallSid"), "recording_sid", form.Get("RecordingSid"), "status", st)
	default:
		s.log.Warn("recording failed", "request_id", middleware.GetReqID(r.Context()), "call_sid", form.Get("CallSid"), "recording_sid", form.Get("RecordingSid"), "status", clip(st))
	}
	w.WriteHeader(http.StatusNoContent)
}

func callsTx(tx store.Tx) (store.CallsTx, error) {
	ct, ok := tx.(store.CallsTx)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no calls", tx)
	}
	return ct, nil
}

// CallExecution is a call step by step (GET /v1/admin/calls/{sid},
// `flowc trace CALLSID`): what the provider said at each step, what the
// flow did (its trace, with file:line:col) and answered, and what it
// sent.
type CallExecution struct {
	SID     string          `json:"sid"`
	From    string          `json:"from"`
	To      string          `json:"to"`
	Flow    string          `json:"flow"`
	Version string          `json:"version"`
	Started time.Time       `json:"started"`
	Ended   *time.Time      `json:"ended"`
	Steps   []CallStepTrace `json:"steps"`
}

// CallStepTrace is one step of a CallExecution.
type CallStepTrace struct {
	Step       int             `json:"step"`
	At         time.Time       `json:"at"`
	Event      string          `json:"event"`
	Outcome    string          `json:"outcome"`
	TwiML      string          `json:"twiml"`
	Trace      json.RawMessage `json:"trace"`
	Deliveries []Delivery      `json:"deliveries"`
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request) {
	out, err := s.callExecution(r.Context(), pathParam(r, "sid"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// callExecution is call sid step by step (GET /v1/admin/calls/{sid}, the
// console's traces).
func (s *Server) callExecution(ctx context.Context, sid string) (CallExecution, error) {
	var out CallExecution
	err := s.readStoreTx(ctx, func(tx store.Tx) error {
		ct, err := callsTx(tx)
		if err != nil {
			return err
		}
		c, err := ct.Call(ctx, sid)
		if err != nil {
			return err
		}
		steps, err := ct.CallSteps(ctx, sid)
		if err != nil {
			return err
		}
		sids := make([]string, len(steps))
		for i, st := range steps {
			sids[i] = callStepSID(sid, st.Step)
		}
		deliveries, err := s.deliveriesOfMany(ctx, tx, sids)
		if err != nil {
			return err
		}
		out = CallExecution{SID: c.SID, From: c.Contact, To: c.Number, Flow: c.Flow, Version: c.Version, Started: c.Started,
			Steps: make([]CallStepTrace, len(steps))}
		if !c.Ended.IsZero() {
			out.Ended = &c.Ended
		}
		for i, st := range steps {
			trace := json.RawMessage(st.Trace)
			if len(trace) == 0 {
				trace = json.RawMessage("null")
			}
			out.Steps[i] = CallStepTrace{Step: st.Step, At: st.At, Event: st.Event, Outcome: st.Outcome, TwiML: st.TwiML, Trace: trace,
				Deliveries: nonNilSlice(deliveries[sids[i]])}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("no call %s: %w", sid, err)
		}
		return CallExecution{}, err
	}
	return out, nil
}
