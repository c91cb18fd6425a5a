package sqlstore

import (
	"context"
	"database/sql"

	"github.com/flowc-dev/flowc/server/store"
)

// Pipelines (store.PipelineTx): on a dialect with Pipeline, a step's
// writes are queued and sent together at the next read or at Flush, one
// round trip for what were one each. On PostgreSQL over loopback a round
// trip (the client's write and read, the backend's wake-up, on the same
// cores) cost more than most of the statements a step runs.

// Queued is one statement of a pipeline.
type Queued struct {
	SQL  string // as the database takes it (rebound)
	Args []any
	// Scan, when set, holds the destinations of the statement's one row
	// (an INSERT … RETURNING id); else the statement is executed and its
	// count of rows affected checked.
	Scan []any
	// Check turns the statement's outcome (rows affected, or 1 for a
	// row scanned; its error) into the write's error, nil when it did
	// what it should. A non-nil one fails the pipeline there.
	Check func(n int64, err error) error
	// After, when set, runs once every queued statement has been sent
	// and checked (statements it runs answer at once): a write whose
	// outcome needs more statements (AdvanceRevisionRoutedThen's route
	// check).
	After func(ctx context.Context) error
	Step  int // store.StepError's
}

// pipeline is what a Tx has queued.
type pipeline struct {
	step     int
	queued   []Queued
	err      error // a failure, returned by every later Flush and read
	flushing bool  // running the After functions: statements answer at once
}

var (
	_ store.PipelineTx       = (*Tx)(nil)
	_ store.RoutedRevisionTx = (*Tx)(nil)
)

// PipelineStep queues the writes that follow as step's (store.PipelineTx);
// a no-op where the dialect has no pipelines or the transaction has no
// connection of its own.
func (t *Tx) PipelineStep(step int) {
	if t.db.d.Pipeline == nil || t.conn == nil {
		return
	}
	if t.pipe == nil {
		t.pipe = &pipeline{}
	}
	t.pipe.step = step
}

// pipelining: writes are queued now.
func (t *Tx) pipelining() bool { return t.pipe != nil && !t.pipe.flushing }

// Flush sends the queued statements in one round trip (store.PipelineTx).
func (t *Tx) Flush(ctx context.Context) error {
	p := t.pipe
	if p == nil || p.flushing {
		return nil
	}
	if p.err != nil {
		return p.err
	}
	qs := p.queued
	p.queued = nil
	if len(qs) == 0 {
		return nil
	}
	failed, err := -1, error(nil)
	if rawErr := t.conn.Raw(func(dc any) error {
		failed, err = t.db.d.Pipeline(ctx, dc, qs)
		return nil
	}); rawErr != nil {
		failed, err = 0, rawErr
	}
	if err != nil {
		if failed < 0 || failed >= len(qs) {
			failed = 0
		}
		p.err = &store.StepError{Step: qs[failed].Step, Err: err}
		return p.err
	}
	p.flushing = true
	defer func() { p.flushing = false }()
	for _, q := range qs {
		if q.After == nil {
			continue
		}
		if err := q.After(ctx); err != nil {
			p.err = &store.StepError{Step: q.Step, Err: err}
			return p.err
		}
	}
	return nil
}

// flushFirst sends what is queued before a statement that answers at
// once; its error is the pipeline's.
func (t *Tx) flushFirst(ctx context.Context) error {
	if t.pipe == nil || t.pipe.flushing {
		return nil
	}
	return t.Flush(ctx)
}

// write runs q (query as written, rebound here): queued when
// pipelining, else at once, with the same checks.
func (t *Tx) write(ctx context.Context, q Queued) error {
	q.SQL = t.db.rebind(q.SQL)
	if t.pipelining() {
		q.Step = t.pipe.step
		t.pipe.queued = append(t.pipe.queued, q)
		return nil
	}
	var n int64
	var err error
	if q.Scan != nil {
		err = t.queryRowBound(ctx, q.SQL, q.Args...).Scan(q.Scan...)
		if err == nil {
			n = 1
		}
	} else {
		n, err = affected(t.execBound(ctx, q.SQL, q.Args...))
	}
	if q.Check != nil {
		err = q.Check(n, err)
	}
	if err == nil && q.After != nil {
		err = q.After(ctx)
	}
	return err
}

// wrapped is a Check that only wraps a failure with wrap.
func wrapped(wrap func(error) error) func(int64, error) error {
	return func(_ int64, err error) error {
		if err != nil {
			return wrap(err)
		}
		return nil
	}
}

// row is a query's one row, or the error of the pipeline sent before
// it.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dst ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dst...)
}
