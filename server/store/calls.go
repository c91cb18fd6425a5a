package store

import (
	"context"
	"time"
)

// Call is one call answered by a call flow (migration 00017's calls):
// its suspended state between two of the provider's callbacks, and the
// number of callbacks answered so far.
type Call struct {
	SID     string // the provider's CallSid
	Contact string // the caller
	Number  string // the business number called
	Flow    string
	Version string
	State   []byte // the flow's vm.State as JSON; nil once the call is over
	// Step is the number of the provider's requests answered (the call
	// itself is step 1): the callback of step N's answer is step N+1.
	Step                    int
	Started, Updated, Ended time.Time // Ended zero: live
	AnsweredBy              string    // the user who answered a ring, "" when none has
}

// CallStep is one answered request of a call: what the provider said
// (Event, as the trace tells it) and the TwiML answered, kept so that a
// retried callback is answered identically and the call can be traced.
type CallStep struct {
	SID     string
	Step    int
	At      time.Time
	Event   string
	Outcome string
	TwiML   string
	Trace   []byte // the step's execution record (server/trace.go's JSON), nil when none ran
}

// CallsTx keeps calls and their steps. A store's Tx implements it.
type CallsTx interface {
	// Call reads the call (ErrNotFound when there is none); it locks
	// nothing, so it may be read in a read-only transaction: SaveCall's
	// compare-and-swap on the step is what orders two requests.
	Call(ctx context.Context, sid string) (*Call, error)
	// SaveCall stores c: a new call when c.Step is 1 (ErrConflict,
	// wrapped, when the call is stored already), else the call whose
	// Step is c.Step-1 (ErrConflict when it is not: another request
	// answered that step first). The transaction must then be rolled
	// back.
	SaveCall(ctx context.Context, c *Call) error
	// SetCallAnswered records who answered the ring of step (the
	// provider's report of a rung leg's answer): only while the call is
	// at that step and nobody answered yet; ok false when it changed
	// nothing (a retried report, or a step past).
	SetCallAnswered(ctx context.Context, sid string, step int, user string) (ok bool, err error)
	// MarkCallEnded records that the call ended at at (the caller hung
	// up) while it is at step, keeping its state for the one event still
	// to come (a voicemail's recording); ok false when it changed nothing
	// (a step past, or ended already).
	MarkCallEnded(ctx context.Context, sid string, step int, at time.Time) (ok bool, err error)
	// AddCallStep stores one answered step (ErrConflict when the call has
	// that step already).
	AddCallStep(ctx context.Context, s *CallStep) error
	// CallStep reads one step (ErrNotFound when none).
	CallStep(ctx context.Context, sid string, step int) (*CallStep, error)
	// CallSteps reads a call's steps in order (none: an empty list).
	CallSteps(ctx context.Context, sid string) ([]CallStep, error)
	// PruneCalls deletes at most limit (> 0) calls last changed before
	// before, oldest first, with their steps (retention, as messages'),
	// and says how many calls it deleted.
	PruneCalls(ctx context.Context, before time.Time, limit int) (int, error)
}
