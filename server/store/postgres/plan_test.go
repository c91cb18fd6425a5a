package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

// plans collects the plans auto_explain reports to the client.
type plans struct {
	mu   sync.Mutex
	list []string
}

func (p *plans) notice(_ *pgconn.PgConn, n *pgconn.Notice) {
	if strings.Contains(n.Message, "plan:") {
		p.mu.Lock()
		p.list = append(p.list, n.Message)
		p.mu.Unlock()
	}
}

func (p *plans) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.list
	p.list = nil
	return l
}

// TestBatchReadsPlannedForTheirTables: the reads that take the keys of
// many steps as arrays (the step states of a batch, the inbox messages
// of a group commit) and the timers' claim (the due conversations but
// those in flight) are planned for the tables as they are when they
// run, not as they were when the connection first ran them. With pgx's
// prepared statements PostgreSQL keeps a generic plan after five
// executions until the tables are analyzed again, and one made while
// conversation_revisions and messages were small hashed the whole of
// each (a seq scan, cheapest at a few hundred rows): as they grew every
// batch read all their rows. Firing 200,000 timers with autovacuum off,
// a batch read went from 4 ms to 44 ms and the run from 53 s to 1 min
// 44 s (docs/benchmarks.md, "Due timers").
func TestBatchReadsPlannedForTheirTables(t *testing.T) {
	ctx := context.Background()
	u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	// auto_explain, once on, sends each plan to the client as a notice.
	for k, v := range map[string]string{"session_preload_libraries": "auto_explain",
		"auto_explain.log_min_duration": "-1", "client_min_messages": "log"} {
		u = pgtest.WithParam(t, u, k, v)
	}
	p := &plans{}
	s, err := OpenWith(ctx, u, Options{MaxConns: 1, onNotice: p.notice})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const number = "+1555900"
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	contact := func(i int) string { return fmt.Sprintf("+1555%06d", i) }
	fill := func(from, to int) {
		err := s.InTx(ctx, func(tx store.Tx) error {
			for i := from; i < to; i++ {
				c := contact(i)
				if err := tx.AdvanceRevision(ctx, c, number, 0); err != nil {
					return err
				}
				if err := tx.SaveConversation(ctx, &store.Conversation{Contact: c, Number: number, Flow: "f", Version: "v",
					State: []byte("{}"), Deadline: t0, Updated: t0, Started: t0}); err != nil {
					return err
				}
				if err := tx.InsertMessage(ctx, &store.Message{SID: fmt.Sprintf("SM%d", i), From: c, To: number, Version: "v",
					Response: `{"outcome":"routed"}`, Received: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	keys := make([]store.StepKey, 40)
	msgKeys := make([]store.ContactMessagesKey, 40)
	for i := range keys {
		keys[i] = store.StepKey{Contact: contact(i * 7), Number: number, SID: fmt.Sprintf("SM%d", i*7+1)}
		msgKeys[i] = store.ContactMessagesKey{Contact: contact(i * 7), Number: number, Since: t0.Add(-time.Hour), Limit: 20}
	}
	except := []store.ConversationKey{{Contact: contact(1), Number: number}, {Contact: contact(2), Number: number}}
	read := func() {
		if _, err := s.ReadSteps(ctx, keys); err != nil {
			t.Fatal(err)
		}
		err := s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.(store.ContactMessagesPrefetcher).PrefetchContactMessages(ctx, msgKeys); err != nil {
				return err
			}
			_, err := tx.(store.DueExcepter).DueConversationsExcept(ctx, t0.Add(time.Minute), 512, except)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fill(0, 300)
	for range 8 { // past PostgreSQL's five custom plans
		read()
	}
	// Grown to 100,000 rows each, with no ANALYZE (autovacuum may be off,
	// or not yet run).
	for _, q := range []string{
		`INSERT INTO conversation_revisions (contact, number, revision)
			SELECT '+1555' || lpad(i::text, 6, '0'), $1, 1 FROM generate_series(300, 99999) AS i WHERE $2::timestamptz IS NOT NULL`,
		`INSERT INTO conversations (contact, number, flow, version, state, deadline, updated, started)
			SELECT '+1555' || lpad(i::text, 6, '0'), $1, 'f', 'v', '{}', $2, $2, $2 FROM generate_series(300, 99999) AS i`,
		`INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, received)
			SELECT 'SM' || i, '+1555' || lpad(i::text, 6, '0'), $1, '', '{}', 'f', 'v', 'routed', '{}', $2 FROM generate_series(300, 99999) AS i`,
	} {
		if _, err := s.Writer().ExecContext(ctx, q, number, t0); err != nil {
			t.Fatal(err)
		}
	}
	// The pool's one connection, which made the plans.
	if _, err := s.Writer().ExecContext(ctx, "SET auto_explain.log_min_duration = 0"); err != nil {
		t.Fatal(err)
	}
	read()
	plans := p.take()
	// Each of the three reads, by a phrase of its statement.
	var batch []string
	for _, phrase := range []string{"AS k(contact, number, sid, i)", "AS k(contact, number, since, lim, i)", "NOT IN (SELECT * FROM unnest"} {
		var found bool
		for _, plan := range plans {
			if strings.Contains(plan, phrase) {
				batch, found = append(batch, plan), true
			}
		}
		if !found {
			t.Fatalf("auto_explain reported no plan of the read with %q (is auto_explain installed?)", phrase)
		}
	}
	for _, plan := range batch {
		for _, table := range []string{"conversations", "conversation_revisions", "messages"} {
			if strings.Contains(plan, "Seq Scan on "+table+" ") {
				t.Errorf("a batch read scans all of %s at 100,000 rows, with a plan made at 300:\n%s", table, plan)
			}
		}
	}
}
