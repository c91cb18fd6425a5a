package server

import (
	"context"
	"time"

	"github.com/flowc-dev/flowc/server/console"
)

// Test hooks.

// JSONFields names fields as the JSON endpoint does.
var JSONFields = jsonFields

func SetQueuedHook(s *Server, f func(key string)) { s.order.queued = f }
func LockConversation(s *Server, key string)      { s.order.Lock(key) }
func UnlockConversation(s *Server, key string)    { s.order.Unlock(key) }

// RunWorkers runs the timer and delivery workers on the given ticks.
func RunWorkers(s *Server, ctx context.Context, timerTicks, deliveryTicks <-chan time.Time) {
	s.runWorkers(ctx, timerTicks, deliveryTicks)
}

// PerDestination is how many deliveries one destination may hold.
const PerDestination = perDestination

// TimerWorkers is how many timers one process fires at once.
const TimerWorkers = timerWorkers

// Pending is a step read and run, not committed yet (PrepareStep).
type Pending struct{ r *commitReq }

// PrepareStep reads and runs the step of message in, as Handle does, but
// does not commit it; CommitTogether commits prepared steps as one batch.
func PrepareStep(s *Server, ctx context.Context, in Inbound) (*Pending, error) {
	snap, err := s.readStep(ctx, in, false, jsonFields)
	if err != nil {
		return nil, err
	}
	snap.in.EventBudget = s.cfg.EventBudget
	p, err := step(ctx, &snap.in, s.cfg.Applets)
	if err != nil {
		return nil, err
	}
	return &Pending{&commitReq{ctx: ctx, snap: snap, p: p, done: make(chan struct{})}}, nil
}

// CommitTogether commits the prepared steps in one batch of the group
// commit (commitBatch), in the order given.
func CommitTogether(s *Server, steps ...*Pending) {
	batch := make([]*commitReq, len(steps))
	for i, p := range steps {
		batch[i] = p.r
	}
	s.commitBatch(batch)
}

// Wait waits for the step's commit and returns its answer.
func (p *Pending) Wait() (*Answer, error) {
	<-p.r.done
	return p.r.res.answer, p.r.err
}

// Done is closed when the step's commit ended.
func (p *Pending) Done() <-chan struct{} { return p.r.done }

// MaxBatch bounds the steps of one group commit.
const MaxBatch = maxBatch

// Panicked is what the step's commit panicked with (nil: it did not).
func (p *Pending) Panicked() any { <-p.r.done; return p.r.panicked }

// ConsoleAuthenticate is the console backend's Authenticate.
func ConsoleAuthenticate(s *Server, ctx context.Context, token string, admin bool) (console.Principal, string, error) {
	return consoleBackend{s}.Authenticate(ctx, token, admin)
}

// AdminProofs is how many admin session proofs s has computed and kept.
func AdminProofs(s *Server) int {
	s.adminProofs.mu.Lock()
	defer s.adminProofs.mu.Unlock()
	return len(s.adminProofs.proofs)
}
