package server

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/flowc-dev/flowc/server/store"
)

// Group reads: the steps' reads (store.StepState) that wait at the same
// time are read in one statement where the store can
// (store.StepBatchReader: PostgreSQL), as the group commit commits them
// in one transaction (groupcommit.go). A read that finds a reader free
// reads at once (the caller reads, with what else is queued); the reads
// that arrive while every reader is busy are the next batch. Each batch
// is one statement that starts after every read of it was asked for, so
// each step still sees every commit made before it asked (the previous
// step of its conversation among them).

// maxReadBatch bounds the steps of one group read.
const maxReadBatch = 64

// readReq is one step's read.
type readReq struct {
	ctx   context.Context
	key   store.StepKey
	taken bool // by a reader (under groupRead.mu)
	st    *store.StepState
	err   error
	done  chan struct{}
}

// groupRead is the queue of reads waiting for a reader, and how many
// readers run (at most max).
type groupRead struct {
	mu     sync.Mutex
	queue  []*readReq
	active int
	max    int
}

// take removes up to maxReadBatch reads from the queue's front (g.mu
// held).
func (g *groupRead) take() []*readReq {
	n := min(len(g.queue), maxReadBatch)
	batch := slices.Clone(g.queue[:n])
	g.queue = append(g.queue[:0], g.queue[n:]...)
	for _, r := range batch {
		r.taken = true
	}
	return batch
}

// groupReadStep is r.ReadSteps of the step key, in the next batch.
func (s *Server) groupReadStep(ctx context.Context, r store.StepBatchReader, key store.StepKey) (*store.StepState, error) {
	req := &readReq{ctx: ctx, key: key, done: make(chan struct{})}
	g := s.reads
	g.mu.Lock()
	g.queue = append(g.queue, req)
	if g.active < g.max {
		g.active++
		batch := g.take()
		g.mu.Unlock()
		s.readBatch(r, batch) // in this goroutine: a lone read waits for nothing
		g.mu.Lock()
		g.active--
		if len(g.queue) > 0 && g.active < g.max {
			g.active++
			go s.runReads(r)
		}
	}
	g.mu.Unlock()
	select {
	case <-req.done:
		return req.st, req.err
	case <-ctx.Done():
	}
	g.mu.Lock()
	if !req.taken {
		if i := slices.Index(g.queue, req); i >= 0 {
			g.queue = slices.Delete(g.queue, i, i+1)
		}
		g.mu.Unlock()
		return nil, fmt.Errorf("waiting to read: %w", ctx.Err())
	}
	g.mu.Unlock()
	<-req.done
	return req.st, req.err
}

// runReads is a reader: it reads batches until the queue is empty.
func (s *Server) runReads(r store.StepBatchReader) {
	g := s.reads
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.active--
			g.mu.Unlock()
			return
		}
		batch := g.take()
		g.mu.Unlock()
		s.readBatch(r, batch)
	}
}

// readBatch reads batch in one statement, answering each read; the
// statement's context is not ended by any one step's (one that gave up
// is answered and forgotten), and lasts until the latest deadline.
func (s *Server) readBatch(r store.StepBatchReader, batch []*readReq) {
	live := batch[:0:0]
	for _, q := range batch {
		if err := q.ctx.Err(); err != nil {
			q.err = fmt.Errorf("waiting to read: %w", err)
			close(q.done)
			continue
		}
		live = append(live, q)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := s.readContext(live)
	defer cancel()
	keys := make([]store.StepKey, len(live))
	for i, q := range live {
		keys[i] = q.key
	}
	sts, err := r.ReadSteps(ctx, keys)
	for i, q := range live {
		if err != nil {
			q.err = err
		} else {
			q.st = sts[i]
		}
		close(q.done)
	}
}

// readContext is batchContext's for reads.
func (s *Server) readContext(live []*readReq) (context.Context, context.CancelFunc) {
	reqs := make([]*commitReq, len(live))
	for i, q := range live {
		reqs[i] = &commitReq{ctx: q.ctx}
	}
	return s.batchContext(reqs)
}
