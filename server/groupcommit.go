package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Group commit: the steps of different conversations that are ready to
// commit at the same time (webhooks, timers) are applied in one write
// transaction, so that the cost of a commit (on SQLite writing the
// touched pages to the WAL, most of them shared by the batch: the
// messages, inbox and outbox tables' last pages and their indexes; on
// PostgreSQL BEGIN, COMMIT and its WAL flush) is paid once for the batch,
// not once per message.
//
// There is no timer and no window: a step that finds a committer free
// commits at once, alone; steps that arrive while every committer is busy
// wait in a queue, and the next free committer takes all of them (at most
// maxBatch) as one batch. So a lone message waits for nothing, and under
// load the batches grow by themselves to what arrived during one commit.
// (A committer only yields the processor, gatherYields times, to steps
// still reading or running, so that those about to be ready join.)
//
// Every guarantee of a step's own commit holds for each step of a batch:
//
//   - each step is applied by applyStep, as alone: its conversation's
//     lock, its revision check (and route check), its writes, its
//     message's INSERT, unique by SID;
//   - a step is answered only after the batch's transaction committed
//     (durable as any commit of the store);
//   - a step that fails (store.ErrConflict: the conversation changed, or
//     the SID was stored meanwhile; or any error of its own statements)
//     fails alone: the transaction is rolled back and the others are
//     committed again without it (their plans are data, applied anew),
//     while the failed one goes back to its caller (process), which runs
//     it again from its read, as after a commit of its own;
//   - on PostgreSQL the batch takes its conversations' locks in one
//     statement without waiting (store.ConversationTryLocker); a
//     conversation whose lock another transaction holds (another
//     replica's step, a stuck transaction) is committed apart, waiting
//     for its lock with its own deadline, so it stalls no other
//     conversation, and no batch waits for a conversation's lock (rows
//     that two transactions both update, such as a team's round-robin
//     counter, are waited for as by any transaction; a deadlock, which
//     PostgreSQL breaks, is transient and InTx runs the batch again);
//   - a step whose commit panics (a bug) gets the panic in its own
//     goroutine, as before commits were grouped, and the batch's other
//     steps run again (recovered): a committer's panic would otherwise
//     end the process.
//
// Within one process a conversation's steps never overlap (keyedFIFO), so
// a batch never holds two steps of one conversation.

// maxBatch bounds the steps of one group commit: the batch's transaction
// holds the write lock (SQLite) or its conversations' locks (PostgreSQL)
// while it applies them all.
const maxBatch = 64

// gatherYields bounds how many times a committer yields the processor,
// before taking a batch, to steps still reading or running (measured on
// BenchmarkInboundBaseline: 2 cut the CPU per message by 16-28% at 8 and
// 32 clients against none; 8 did no better).
const gatherYields = 2

// maxBatchRetries bounds how many times a batch is committed again after
// one of its steps failed; past it the remaining steps commit one by one.
const maxBatchRetries = 2

// commitReq is one step waiting for its commit.
type commitReq struct {
	ctx  context.Context
	snap *snapshot
	p    *plan

	batched bool // taken by a committer (under groupCommit.mu)
	apart   bool // committed by a goroutine of its own (commitAlone)

	res      processed
	err      error
	panicked any           // its commit panicked with this: the caller panics with it
	finished bool          // res and err are set (by whoever commits it)
	done     chan struct{} // closed when finished
}

// groupCommit is the queue of steps waiting for a committer, and how many
// committers run (at most max, each a goroutine that lives while the
// queue is not empty).
type groupCommit struct {
	mu     sync.Mutex
	queue  []*commitReq
	active int
	max    int
}

// committers is how many batches commit at once on st: one where the
// store has one write connection (SQLite: a second committer would only
// wait for it, with a smaller batch), else a quarter of the write pool
// (PostgreSQL's 16 connections: 4), which leaves connections to the
// reads, the timers' claims and the outbox.
func committers(st store.Store) int {
	if d, ok := st.(interface{ DBStats() sql.DBStats }); ok {
		if n := d.DBStats().MaxOpenConnections; n > 0 {
			return max(1, n/4)
		}
	}
	return 4
}

// groupCommit commits the step (snap, p) in the next batch, and returns
// what commitStep would have.
func (s *Server) groupCommit(ctx context.Context, snap *snapshot, p *plan) (processed, error) {
	r := &commitReq{ctx: ctx, snap: snap, p: p, done: make(chan struct{})}
	g := s.commits
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if g.active < g.max {
		g.active++
		go s.runCommits()
	}
	g.mu.Unlock()
	select {
	case <-r.done:
		return r.answer()
	case <-ctx.Done():
	}
	g.mu.Lock()
	if !r.batched { // still queued: nothing of it was written
		if i := slices.Index(g.queue, r); i >= 0 {
			g.queue = slices.Delete(g.queue, i, i+1)
		}
		g.mu.Unlock()
		return processed{}, fmt.Errorf("waiting to commit: %w", ctx.Err())
	}
	g.mu.Unlock()
	// In a batch being committed: its outcome is the step's (the
	// batch's own deadline is this step's or later, see batchContext).
	<-r.done
	return r.answer()
}

// answer is r's outcome, in the step's own goroutine: a panic of its
// commit is raised again here, where it was raised before commits were
// grouped (a webhook's is answered 500 by recoverPanics).
func (r *commitReq) answer() (processed, error) {
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.res, r.err
}

// runCommits is a committer: it commits batches from the queue until the
// queue is empty.
func (s *Server) runCommits() {
	g := s.commits
	for {
		g.mu.Lock()
		// Steps about to be ready (read, running) get a moment to join:
		// yielding the processor lets them run on to the queue, at the
		// cost of no timer (a lone step waits for nothing).
		for range gatherYields {
			if len(g.queue) >= maxBatch || s.stepping.Load() == 0 {
				break
			}
			g.mu.Unlock()
			runtime.Gosched()
			g.mu.Lock()
		}
		n := min(len(g.queue), maxBatch)
		if n == 0 {
			g.active--
			g.mu.Unlock()
			return
		}
		batch := make([]*commitReq, n)
		copy(batch, g.queue)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		for _, r := range batch {
			r.batched = true
		}
		g.mu.Unlock()
		s.commitBatch(batch)
	}
}

// batchContext is the context of a batch's transaction: not ended by any
// one step's (a webhook that gave up must not fail the others), with the
// latest deadline of the batch's steps (a step without one, a timer's:
// Config.WebhookDeadline from now).
func (s *Server) batchContext(batch []*commitReq) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, r := range batch {
		d, ok := r.ctx.Deadline()
		if !ok {
			d = time.Now().Add(s.cfg.WebhookDeadline)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), latest)
}

// finish answers r.
func finish(r *commitReq, res processed, err error) {
	r.res, r.err, r.finished = res, err, true
	close(r.done)
}

// errRunAgain answers the steps of a batch whose transaction was rolled
// back because another step of it panicked: nothing of theirs was
// committed, and ErrConflict makes process run them again from their
// reads.
var errRunAgain = fmt.Errorf("another step of the batch failed: %w", store.ErrConflict)

// recovered turns v, a panic a committer recovered from in a commit (a
// bug: the store rolled the transaction back), into the answers of
// batch's unanswered steps: the one being applied (cur) panics with it
// in its own goroutine, the others run again. Without it the panic would
// end the process, since a committer is nobody's request.
func (s *Server) recovered(v any, batch []*commitReq, cur *commitReq) {
	s.log.Error("commit panicked", "panic", clipErr(fmt.Errorf("%v", v)), "stack", string(debug.Stack()))
	for _, r := range batch {
		switch {
		case r.apart || r.finished:
		case r == cur:
			r.panicked = v
			close(r.done)
		default:
			finish(r, processed{}, errRunAgain)
		}
	}
}

// commitAlone commits r in a transaction of its own.
func (s *Server) commitAlone(ctx context.Context, r *commitReq) {
	defer func() {
		if v := recover(); v != nil {
			s.recovered(v, []*commitReq{r}, r)
		}
	}()
	res, err := s.commitStep(ctx, r.snap, r.p)
	finish(r, res, err)
}

// commitBatch commits batch, answering each of its steps.
func (s *Server) commitBatch(batch []*commitReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil { // gave up while queued
			finish(r, processed{}, fmt.Errorf("waiting to commit: %w", err))
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := s.batchContext(live)
	defer cancel()
	var cur *commitReq // the step being applied
	defer func() {
		if v := recover(); v != nil {
			s.recovered(v, batch, cur)
		}
	}()
	for round := 0; len(live) > 1 && round <= maxBatchRetries; round++ {
		var failed int
		live, failed = s.commitTogether(ctx, live, &cur)
		if failed < 0 {
			return
		}
	}
	for _, r := range live { // alone: one step, or what is left after maxBatchRetries failures
		cur = r
		res, err := s.commitStep(ctx, r.snap, r.p)
		finish(r, res, err)
	}
}

// commitTogether applies the steps of live in one transaction. When it
// committed, every step is answered and failed is -1. When one step's
// statements failed, that step is answered its error and the others are
// returned, unanswered, to be committed again; when the transaction
// failed for no step in particular (its BEGIN or COMMIT), all are
// answered that error (nothing was committed).
func (s *Server) commitTogether(ctx context.Context, live []*commitReq, cur **commitReq) (rest []*commitReq, failed int) {
	results := make([]processed, len(live))
	var apart []int // steps whose conversation's lock another transaction holds
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		failed, apart = -1, nil
		clear(results)
		held, err := tryLocks(ctx, tx, live)
		if err != nil {
			return err
		}
		if err := prefetchInboxMessages(ctx, tx, live, held); err != nil {
			return err
		}
		for i, r := range live {
			if !held[i] {
				apart = append(apart, i)
				continue
			}
			*cur = r
			pipelineStep(tx, i)
			if results[i], err = s.applyStep(ctx, tx, r.snap, r.p); err != nil {
				failed = stepOf(err, i)
				return err
			}
		}
		*cur = nil
		if err := flush(ctx, tx); err != nil {
			failed = stepOf(err, -1)
			return err
		}
		return nil
	})
	if err != nil && failed < 0 {
		for _, r := range live {
			finish(r, processed{}, err)
		}
		return nil, -1
	}
	if err != nil {
		finish(live[failed], processed{}, err)
		return slices.Delete(slices.Clone(live), failed, failed+1), failed
	}
	for _, i := range apart {
		r := live[i]
		r.apart = true
		go s.commitAlone(r.ctx, r) // waits for the lock with the step's own deadline
	}
	for i, r := range live {
		if !slices.Contains(apart, i) {
			finish(r, results[i], nil)
		}
	}
	return nil, -1
}

// tryLocks takes the locks of the batch's conversations without waiting
// where the store can (store.ConversationTryLocker); elsewhere each step's
// LockConversation waits for its own, as a step alone would.
func tryLocks(ctx context.Context, tx store.Tx, live []*commitReq) ([]bool, error) {
	tl, ok := tx.(store.ConversationTryLocker)
	if !ok {
		held := make([]bool, len(live))
		for i := range held {
			held[i] = true
		}
		return held, nil
	}
	keys := make([]store.ConversationKey, len(live))
	for i, r := range live {
		keys[i] = store.ConversationKey{Contact: r.snap.in.Msg.From, Number: r.snap.in.Msg.To}
	}
	return tl.TryLockConversations(ctx, keys)
}

// pipelineStep has tx queue the writes of the batch's step i where the
// store can (store.PipelineTx: on PostgreSQL one round trip for many
// statements, sent at the step's next read or at flush).
func pipelineStep(tx store.Tx, i int) {
	if p, ok := tx.(store.PipelineTx); ok {
		p.PipelineStep(i)
	}
}

// flush sends what tx queued (pipelineStep).
func flush(ctx context.Context, tx store.Tx) error {
	if p, ok := tx.(store.PipelineTx); ok {
		return p.Flush(ctx)
	}
	return nil
}

// stepOf is the step of a batch err belongs to: the one a queued write's
// failure names (store.StepError: it may be an earlier step's, sent with
// a later one's read), else cur (-1: none in particular).
func stepOf(err error, cur int) int {
	if se, ok := errors.AsType[*store.StepError](err); ok {
		return se.Step
	}
	return cur
}

// advanceRouted is applyStep's revision and route check for a message
// that starts a conversation: AdvanceRevisionRouted, and when the route
// table moved meanwhile, the number's own route (checkRoute). Where the
// store can (store.RoutedRevisionTx) it is queued with the step's other
// writes, the route checked once it is sent.
func advanceRouted(ctx context.Context, tx store.Tx, snap *snapshot) error {
	m := snap.in.Msg
	if rt, ok := tx.(store.RoutedRevisionTx); ok {
		return rt.AdvanceRevisionRoutedThen(ctx, m.From, m.To, snap.revision, snap.routes, func(ctx context.Context) error {
			return checkRoute(ctx, tx, snap)
		})
	}
	moved, err := tx.AdvanceRevisionRouted(ctx, m.From, m.To, snap.revision, snap.routes)
	if err != nil || !moved {
		return err
	}
	return checkRoute(ctx, tx, snap)
}

// prefetchInboxMessages reads, where the store can
// (store.ContactMessagesPrefetcher), the conversation messages every
// step of the batch whose lock it holds will copy onto its inbox items
// (inboxMessagesRead), in one statement: else each step's read would be
// a round trip in the middle of the batch's pipeline (a timer's timeout
// branch that delivers to an inbox, for one).
func prefetchInboxMessages(ctx context.Context, tx store.Tx, live []*commitReq, held []bool) error {
	pf, ok := tx.(store.ContactMessagesPrefetcher)
	if !ok {
		return nil
	}
	var keys []store.ContactMessagesKey
	for i, r := range live {
		if !held[i] || len(r.p.Deliver) == 0 {
			continue
		}
		if k, ok := inboxMessagesRead(&r.snap.in); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) < 2 {
		return nil
	}
	return pf.PrefetchContactMessages(ctx, keys)
}
