package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
	"github.com/flowc-dev/flowc/server/store/sqlstore"
)

func openWith(t *testing.T, params map[string]string) *Store {
	t.Helper()
	u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	for k, v := range params {
		u = pgtest.WithParam(t, u, k, v)
	}
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestLockTimeoutBoundsAConversationLockWait: a transaction waiting for
// a conversation's advisory lock, held by a stuck transaction, fails
// after lock_timeout (here from the URL, 200ms) even with a context that
// never ends, with PostgreSQL's lock_not_available (55P03), and the
// holder is unaffected.
func TestLockTimeoutBoundsAConversationLockWait(t *testing.T) {
	s := openWith(t, map[string]string{"lock_timeout": "200ms"})
	ctx := context.Background()
	locked, release, held := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		held <- s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.LockConversation(ctx, "+1555", "+1999"); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	start := time.Now()
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.LockConversation(ctx, "+1555", "+1999") })
	took := time.Since(start)
	close(release)
	if err == nil || pgCode(err) != "55P03" {
		t.Fatalf("waiting for a held conversation lock: %v (code %q), want lock_timeout's 55P03", err, pgCode(err))
	}
	if took > 3*time.Second { // 200ms, with a wide margin for a loaded machine
		t.Fatalf("the wait took %v with lock_timeout 200ms", took)
	}
	if err := <-held; err != nil {
		t.Fatalf("the holder: %v", err)
	}
	// The timeout is the transaction's alone: the next one waits again
	// (for nothing now) and succeeds.
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.LockConversation(ctx, "+1555", "+1999") }); err != nil {
		t.Fatal(err)
	}
}

// TestStatementTimeoutBoundsAStatement: a statement of a transaction
// that runs past statement_timeout is cancelled by the server (57014);
// the default applies when the URL sets none.
func TestStatementTimeoutBoundsAStatement(t *testing.T) {
	s := openWith(t, map[string]string{"statement_timeout": "200"}) // milliseconds, as PostgreSQL writes it
	ctx := context.Background()
	start := time.Now()
	err := s.InTx(ctx, func(st store.Tx) error {
		_, err := st.(*sqlstore.Tx).SQL().ExecContext(ctx, "SELECT pg_sleep(5)")
		return err
	})
	if pgCode(err) != "57014" || time.Since(start) > 3*time.Second {
		t.Fatalf("pg_sleep(5) with statement_timeout 200ms: %v after %v", err, time.Since(start))
	}
	def := openWith(t, nil)
	var lock, stmt string
	err = def.InTx(ctx, func(st store.Tx) error {
		return st.(*sqlstore.Tx).SQL().QueryRowContext(ctx, "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')").Scan(&lock, &stmt)
	})
	if err != nil || lock != "5s" || stmt != "10s" {
		t.Fatalf("defaults: lock_timeout %q, statement_timeout %q, %v; want 5s and 10s", lock, stmt, err)
	}
}

// TestBadTimeoutInTheURL names the parameter.
func TestBadTimeoutInTheURL(t *testing.T) {
	u := pgtest.WithParam(t, pgtest.URL(t), "lock_timeout", "soon")
	_, err := Open(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "lock_timeout") {
		t.Fatalf("got %v, want an error naming lock_timeout", err)
	}
}

// TestUnroutedNumbersUsesItsIndex: the unrouted numbers' query can read
// the partial index of no-flow messages (migration 00008). The tables
// are tiny, so sequential scans are disabled to ask whether the index
// applies at all (its collation and predicate must match the query's).
func TestUnroutedNumbersUsesItsIndex(t *testing.T) {
	s := openWith(t, nil)
	ctx := context.Background()
	var plan []string
	err := s.InTx(ctx, func(st store.Tx) error {
		tx := st.(*sqlstore.Tx).SQL()
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "EXPLAIN "+strings.Replace(strings.Replace(
			sqlstore.UnroutedNumbersQuery(dialect), "?", "$1", 1), "?", "$2", 1), "", 10)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan = append(plan, line)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if joined := strings.Join(plan, "\n"); !strings.Contains(joined, "messages_no_flow") {
		t.Errorf("plan of the unrouted numbers:\n%s\nwant a scan of messages_no_flow", joined)
	}
}
