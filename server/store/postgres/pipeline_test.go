package postgres

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

// roundTrips counts the statements sent alone and the batches (pgx's
// QueryTracer and BatchTracer).
type roundTrips struct{ queries, batches atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.queries.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestQueueWritesPipelined: the queue writes of a group commit's steps
// (a held conversation's ticket is saved at every step that keeps it)
// are queued in the transaction's pipeline like its other writes: none
// is a round trip of its own, and Flush sends them all as one batch.
// Answered at once, each split the batch's pipeline, a round trip per
// step (measured: 26% of the server's CPU firing 200,000 timers whose
// branch delivers to a team inbox).
func TestQueueWritesPipelined(t *testing.T) {
	ctx := context.Background()
	u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	rt := &roundTrips{}
	s, err := OpenWith(ctx, u, Options{tracer: rt})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	const number = "+1555900"
	ticket := func(contact string, offered ...string) *store.QueueTicket {
		return &store.QueueTicket{Contact: contact, Number: number, Started: t0, Team: "sales", Status: "offered",
			Offered: offered, Since: t0, Updated: t0, Flow: "f"}
	}
	err = s.InTx(ctx, func(tx store.Tx) error { // a ticket the batch deletes
		return tx.(store.QueueTx).SaveQueueTicket(ctx, ticket("+1555102", "bob"))
	})
	if err != nil {
		t.Fatal(err)
	}
	var sentAlone, batches int64
	err = s.InTx(ctx, func(tx store.Tx) error {
		qt, p := tx.(store.QueueTx), tx.(store.PipelineTx)
		q0, b0 := rt.queries.Load(), rt.batches.Load()
		p.PipelineStep(0)
		if err := qt.SaveQueueTicket(ctx, ticket("+1555101", "alice", "bob")); err != nil {
			return err
		}
		if err := qt.SetQueueMemory(ctx, "sales", "alice"); err != nil {
			return err
		}
		if err := qt.AddQueueStats(ctx, "sales", map[string]int{"offered": 1, "waiting": 2}); err != nil {
			return err
		}
		p.PipelineStep(1)
		if err := qt.DeleteQueueTicket(ctx, "+1555102", number); err != nil {
			return err
		}
		if err := qt.QueueMemberDone(ctx, "bob", t0); err != nil {
			return err
		}
		sentAlone = rt.queries.Load() - q0
		if err := p.Flush(ctx); err != nil {
			return err
		}
		batches = rt.batches.Load() - b0
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sentAlone != 0 || batches != 1 {
		t.Errorf("queue writes of two steps: %d statements sent alone and %d batches, want 0 and 1", sentAlone, batches)
	}
	// What the pipeline wrote.
	err = s.InTx(ctx, func(tx store.Tx) error {
		team, err := tx.(store.QueueTx).QueueTeam(ctx, "sales", []string{"bob"}, "", "")
		if err != nil {
			return err
		}
		if team.Memory != "alice" || team.Waiting != 1 || team.Members["bob"].Handled != 1 || !team.Members["bob"].LastDone.Equal(t0) {
			t.Errorf("after the pipeline: %+v, want memory alice, one waiting (+1555101's ticket; +1555102's deleted), bob handled 1 at %s", team, t0)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var offers, stats int
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM queue_offers), (SELECT sum(n) FROM queue_stats WHERE team = 'sales')`).Scan(&offers, &stats); err != nil {
		t.Fatal(err)
	}
	if offers != 2 || stats != 3 {
		t.Errorf("after the pipeline: %d offers and stats summing to %d, want 2 (+1555101's; +1555102's deleted) and 3", offers, stats)
	}
}
