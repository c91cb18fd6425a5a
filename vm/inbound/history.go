package inbound

import (
	"time"

	"github.com/flowc-dev/flowc/runtime"
)

// Interactions are what one recorded step adds to the contact's history
// (runtime.History), newest last: the contact's text (a message, not a
// timer), then each reply sent to the contact (in the webhook's answer,
// or for a timer by SMS), as texts of the business number with no user.
// The answers to STOP, START and HELP are left out: they are compliance
// texts the contact asked for, not the conversation. The server records
// these in the step's transaction with their SIDs, and the simulator in
// memory, so that `flowc test` and the server see the same history.
func Interactions(timer bool, outcome string, replies int, number string, at time.Time) []runtime.Interaction {
	var out []runtime.Interaction
	if !timer {
		out = append(out, runtime.Interaction{Kind: runtime.InteractionSMS, Direction: runtime.DirectionInbound, Number: number, At: at})
	}
	switch outcome {
	case OutcomeOptOut, OutcomeOptIn, OutcomeHelp:
		return out
	}
	for range replies {
		out = append(out, runtime.Interaction{Kind: runtime.InteractionSMS, Direction: runtime.DirectionOutbound, Number: number, At: at})
	}
	return out
}
