package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Calls (store.CallsTx; migration 00017).

var _ store.CallsTx = (*Tx)(nil)

// CallNumbers lists the numbers routed to call flows, sorted bytewise.
func (t *Tx) CallNumbers(ctx context.Context) ([]store.NumberRoute, error) {
	rows, err := t.query(ctx, `SELECT number, flow, version FROM call_numbers ORDER BY number`+t.db.d.Bytewise)
	out, err := collect(rows, err, func(r *sql.Rows) (store.NumberRoute, error) {
		var n store.NumberRoute
		return n, r.Scan(&n.Number, &n.Flow, &n.Version)
	})
	if err != nil {
		return nil, t.errorf("call numbers: %w", err)
	}
	return out, nil
}

// Call reads a call (no lock: SaveCall is a compare-and-swap on its step).
func (t *Tx) Call(ctx context.Context, sid string) (*store.Call, error) {
	var c store.Call
	err := t.queryRow(ctx, `SELECT sid, contact, number, flow, version, state, step, started, updated, ended, answered_by
		FROM calls WHERE sid = ?`, sid).
		Scan(&c.SID, &c.Contact, &c.Number, &c.Flow, &c.Version, &c.State, &c.Step,
			scanTime(&c.Started), scanTime(&c.Updated), scanTime(&c.Ended), &c.AnsweredBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, t.errorf("call %s: %w", sid, err)
	}
	c.State = blob(c.State)
	return &c, nil
}

// SaveCall inserts a new call (Step 1) or moves a stored one from
// Step-1 to Step, as one compare-and-swap.
func (t *Tx) SaveCall(ctx context.Context, c *store.Call) error {
	ts, err := t.times(c.Started, c.Updated, c.Ended)
	if err != nil {
		return err
	}
	var n int64
	if c.Step == 1 {
		n, err = affected(t.exec(ctx, `INSERT INTO calls (sid, contact, number, flow, version, state, step, started, updated, ended, answered_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sid) DO NOTHING`,
			c.SID, c.Contact, c.Number, c.Flow, c.Version, blob(c.State), c.Step, ts[0], ts[1], ts[2], c.AnsweredBy))
	} else {
		n, err = affected(t.exec(ctx, `UPDATE calls SET state = ?, step = ?, updated = ?, ended = ?, answered_by = ?
			WHERE sid = ? AND step = ?`, blob(c.State), c.Step, ts[1], ts[2], c.AnsweredBy, c.SID, c.Step-1))
	}
	if err != nil {
		return t.errorf("save call %s: %w", c.SID, err)
	}
	if n == 0 {
		return t.errorf("call %s is past step %d: %w", c.SID, c.Step-1, store.ErrConflict)
	}
	return nil
}

// SetCallAnswered records who answered step's ring, once.
func (t *Tx) SetCallAnswered(ctx context.Context, sid string, step int, user string) (bool, error) {
	n, err := affected(t.exec(ctx, `UPDATE calls SET answered_by = ? WHERE sid = ? AND step = ? AND answered_by = '' AND ended IS NULL`, user, sid, step))
	if err != nil {
		return false, t.errorf("call %s answered: %w", sid, err)
	}
	return n == 1, nil
}

// MarkCallEnded records the end of a call still waiting at step.
func (t *Tx) MarkCallEnded(ctx context.Context, sid string, step int, at time.Time) (bool, error) {
	a, err := t.time(at)
	if err != nil {
		return false, err
	}
	n, err := affected(t.exec(ctx, `UPDATE calls SET ended = ?, updated = ? WHERE sid = ? AND step = ? AND ended IS NULL`, a, a, sid, step))
	if err != nil {
		return false, t.errorf("call %s ended: %w", sid, err)
	}
	return n == 1, nil
}

// AddCallStep stores one answered step.
func (t *Tx) AddCallStep(ctx context.Context, s *store.CallStep) error {
	at, err := t.time(s.At)
	if err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `INSERT INTO call_steps (sid, step, at, event, outcome, twiml, trace) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid, step) DO NOTHING`, s.SID, s.Step, at, s.Event, s.Outcome, s.TwiML, blob(s.Trace)))
	if err != nil {
		return t.errorf("call %s step %d: %w", s.SID, s.Step, err)
	}
	if n == 0 {
		return t.errorf("call %s has a step %d: %w", s.SID, s.Step, store.ErrConflict)
	}
	return nil
}

const callStepColumns = `sid, step, at, event, outcome, twiml, trace`

func scanCallStep(r interface{ Scan(...any) error }) (store.CallStep, error) {
	var s store.CallStep
	err := r.Scan(&s.SID, &s.Step, scanTime(&s.At), &s.Event, &s.Outcome, &s.TwiML, &s.Trace)
	s.Trace = blob(s.Trace)
	return s, err
}

// CallStep reads one step.
func (t *Tx) CallStep(ctx context.Context, sid string, step int) (*store.CallStep, error) {
	s, err := scanCallStep(t.queryRow(ctx, `SELECT `+callStepColumns+` FROM call_steps WHERE sid = ? AND step = ?`, sid, step))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, t.errorf("call %s step %d: %w", sid, step, err)
	}
	return &s, nil
}

// CallSteps reads a call's steps in order.
func (t *Tx) CallSteps(ctx context.Context, sid string) ([]store.CallStep, error) {
	rows, err := t.query(ctx, `SELECT `+callStepColumns+` FROM call_steps WHERE sid = ? ORDER BY step`, sid)
	out, err := collect(rows, err, func(r *sql.Rows) (store.CallStep, error) { return scanCallStep(r) })
	if err != nil {
		return nil, t.errorf("steps of call %s: %w", sid, err)
	}
	if out == nil {
		out = []store.CallStep{}
	}
	return out, nil
}

// PruneCalls deletes a batch of the oldest calls before before, their
// steps first (chosen by the same subquery, on calls_updated).
func (t *Tx) PruneCalls(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, t.errorf("prune calls: a batch of %d", limit)
	}
	b, err := t.time(before)
	if err != nil || b == nil {
		return 0, err
	}
	const batch = `SELECT sid FROM calls WHERE updated < ? ORDER BY updated LIMIT ?`
	if _, err := t.exec(ctx, `DELETE FROM call_steps WHERE sid IN (`+batch+`)`, b, limit); err != nil {
		return 0, t.errorf("prune calls: steps: %w", err)
	}
	n, err := affected(t.exec(ctx, `DELETE FROM calls WHERE sid IN (`+batch+`)`, b, limit))
	if err != nil {
		return 0, t.errorf("prune calls: %w", err)
	}
	return int(n), nil
}
