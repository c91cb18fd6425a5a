package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"

	"github.com/flowc-dev/flowc/vm"
)

// OutcomeCall is a call's step: the call flow ran on a call's event.
const OutcomeCall = "call"

// callStep runs a call's event through its call flow. There is no
// opt-out stage (STOP is a text's), and nothing is recorded as a text:
// a call's history is the server's to keep from its callbacks.
func callStep(ctx context.Context, in *Input, applets AppletRunner) (*Plan, error) {
	ev := *in.Call
	if ev.Kind == vm.EventRecorded && ev.Call.Recording != "" {
		// What the steps after the voicemail deliver (inbox, e-mail) is
		// the recording: it is the event's message.
		in.Msg.Body, in.Msg.Media = VoicemailBody(ev.Call.Recording, ev.Call.Length), []string{ev.Call.Recording}
	}
	if ev.Kind == vm.EventHangup {
		in.Msg.Body = MissedCallBody(in.Msg.From) // what a missed call's inbox item says (vm.Run)
	}
	if ev.Message.From == "" {
		ev.Message.From = in.Msg.From
	}
	if ev.Message.To == "" {
		ev.Message.To = in.Msg.To
	}
	var st *vm.State
	var flow, version string
	var prog *vm.Program
	switch {
	case ev.Kind == vm.EventCall:
		if in.Route == nil {
			return &Plan{Outcome: OutcomeNoFlow, Replies: []string{}}, nil
		}
		flow, version, prog = in.Route.Flow, in.Route.Version, in.Route.Program
	case in.Conv == nil:
		return &Plan{Outcome: OutcomeCall, Replies: []string{}}, nil // a callback for a call that is over
	default:
		flow, version, prog = in.Conv.Flow, in.Conv.Version, in.Conv.Program
		st = &vm.State{}
		if err := json.Unmarshal(in.Conv.State, st); err != nil {
			return nil, fmt.Errorf("conversation state: %w", err)
		}
	}
	p := &Plan{Outcome: OutcomeCall, Flow: flow, Version: version, Replies: []string{}, Program: prog}
	res, err := vm.Run(ctx, prog, st, ev, env(in, applets), options(in))
	if err != nil {
		p.Outcome, p.End, p.FlowErr = OutcomeError, true, err
		return p, nil
	}
	collect(p, in, res)
	return p, nil
}

// callInteractions is what a call's step adds to the contact's history:
// the call itself when it comes in (no user), and the call again with
// the user who answered a ring, which contact.last_called_by reads. A
// text back to the caller is an outbound text (the server records it
// when the outbox sends it, as every queued text).
func callInteractions(in *Input, p *Plan) []runtime.Interaction {
	ev := in.Call
	switch {
	case ev.Kind == vm.EventCall && p.Outcome != OutcomeNoFlow:
		return []runtime.Interaction{{Kind: runtime.InteractionCall, Direction: runtime.DirectionInbound, Number: in.Msg.To, At: in.Now}}
	case ev.Kind == vm.EventDial && ev.Call.Status == "answered" && ev.Call.Member != "" && !strings.Contains(ev.Call.Member, ":"):
		u := ev.Call.Member
		return []runtime.Interaction{{Kind: runtime.InteractionCall, Direction: runtime.DirectionInbound, Number: in.Msg.To, User: &u, At: in.Now}}
	}
	return nil
}

// VoicemailBody is what an inbox item or an e-mail of a voicemail says:
// its length and where to listen to it (the recording's URL is also the
// message's media).
func VoicemailBody(url string, length time.Duration) string {
	return fmt.Sprintf("Voicemail (%s): %s", vm.FormatDuration(length.Round(time.Second)), url)
}

// MissedCallBody is what the inbox item of a call the caller hung up
// on while it rang says.
func MissedCallBody(caller string) string {
	return "Missed call from " + caller + " (hung up while it rang)"
}

// collectCall puts a call's action in the plan: what the caller hears
// and who is rung in Call, texts in Texts. It reports whether a was one.
func collectCall(p *Plan, a vm.Action, caller string) bool {
	switch a.Kind {
	case vm.ActSay, vm.ActPlay, vm.ActGather, vm.ActDial, vm.ActRecord, vm.ActRecorded, vm.ActHangup:
	case vm.ActForward:
		if a.Target.Kind != "number" {
			return false
		}
	case vm.ActText:
		if !directory.E164(caller) {
			// An anonymous caller, or a Twilio Client or SIP one: no
			// number to text back.
			p.FlowErr = errors.Join(p.FlowErr, fmt.Errorf("text not sent: the caller %q has no phone number to text", caller))
			return true
		}
		p.Texts = append(p.Texts, Storable(a.Text))
		return true
	default:
		return false
	}
	p.Call = append(p.Call, a)
	return true
}

// TeamMembers implements vm.Ringer: a team's available members, in the
// directory's order; without a directory, the team is rung as one.
func (e *runEnv) TeamMembers(team string) []string {
	if e.dir == nil {
		return []string{"team:" + team}
	}
	return e.dir.Members(team)
}
