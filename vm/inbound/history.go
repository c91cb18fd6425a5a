package inbound

import (
	"github.com/flowc-dev/flowc/runtime"
)

// Interactions are what one recorded step adds to the contact's history
// (runtime.History), newest last: the contact's text (a message: not a
// timer, nor a person's action), then each reply sent to the contact (in
// the webhook's answer, or by SMS), as texts of the business number: with
// no user when the flow sent them, with the person's name when an agent
// replied (Input.Agent; the flow's `on done` runs without one). The
// answers to STOP, START and HELP are left out: they are compliance texts
// the contact asked for, not the conversation. The server records these
// in the step's transaction with their SIDs, and the simulator in memory,
// so that `flowc test` and the server see the same history.
func Interactions(in *Input, p *Plan) []runtime.Interaction {
	if in.Call != nil {
		return callInteractions(in, p) // voice.go
	}
	if !p.Record {
		return nil
	}
	var out []runtime.Interaction
	if !in.Timer && in.Agent == nil && !in.Dispatch {
		out = append(out, runtime.Interaction{Kind: runtime.InteractionSMS, Direction: runtime.DirectionInbound, Number: in.Msg.To, At: in.Now})
	}
	switch p.Outcome {
	case OutcomeOptOut, OutcomeOptIn, OutcomeHelp:
		return out
	}
	var user *string
	if in.Agent != nil && p.Result == nil {
		u := in.Agent.User
		user = &u
	}
	for range p.Replies {
		out = append(out, runtime.Interaction{Kind: runtime.InteractionSMS, Direction: runtime.DirectionOutbound, Number: in.Msg.To, User: user, At: in.Now})
	}
	return out
}
