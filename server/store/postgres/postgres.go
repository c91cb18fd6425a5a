// Package postgres is the PostgreSQL store, for running several server
// replicas on one database: a pgx connection pool (pgxpool), its schema
// migrated by goose from SQL files embedded in the binary.
//
// # Transactions and locking
//
// Every InTx transaction runs at READ COMMITTED, with lock_timeout (5 s)
// and statement_timeout (10 s) set for it (beginQuery), and the writers that must
// not interleave are serialised by locks rather than by SERIALIZABLE
// snapshots:
//
//   - LockConversation takes a transaction-scoped advisory lock
//     (pg_advisory_xact_lock) on a 64-bit FNV-1a hash of (contact,
//     number). It excludes every other transaction of the conversation,
//     in this process or another replica, until the commit or rollback,
//     and it also covers rows that do not exist yet (the first message of
//     a conversation, the MessageSid about to be inserted), which a row
//     lock cannot. The server takes it first, so two deliveries of one
//     message never both find the MessageSid missing;
//   - Conversation takes the same advisory lock (a no-op when the
//     transaction already holds it) and then reads the row FOR UPDATE;
//   - statements that change shared counters are single atomic
//     statements (NextRoundRobin's upsert), and Activate takes an advisory
//     lock of its own (as do AssignNumber and UnassignNumber), so
//     concurrent deployments and routing changes from several replicas
//     are applied one after the other;
//   - ClaimOutbox locks the due pending outbox rows FOR UPDATE SKIP
//     LOCKED and sets their lease in the same statement, so replicas'
//     senders claim disjoint items without waiting for each other;
//   - AdvanceRevision is one compare-and-swap statement on the
//     conversation's revision row (a guarded UPDATE, or an INSERT … ON
//     CONFLICT DO NOTHING of revision 1), which READ COMMITTED makes
//     wait for a concurrent advance and then see it: of two steps read
//     at one revision, one commits and the other gets ErrConflict and
//     runs again. The server runs flows and applets between a read
//     transaction and this check, so no lock is held while they run;
//   - DueConversations claims due timers with FOR UPDATE SKIP LOCKED and
//     keeps only those whose conversation lock it can take at once
//     (pg_try_advisory_xact_lock), so replicas claim disjoint timers
//     without waiting for each other or for an inbound message in
//     progress, and lock order is always "conversation lock, then row".
//
// Why not SERIALIZABLE: the server's transactions all begin by locking the
// conversation, so for them SERIALIZABLE would add only aborts — every
// pair of concurrent transactions touching the round-robin counters or the
// same index pages could fail with 40001 and run again, costing latency
// under load for no added safety. InTx still retries a transaction that
// fails with a serialisation failure (40001) or a deadlock (40P01), a
// bounded number of times, because a deadlock is possible between
// transactions that lock the same conversations in different orders.
//
// # Availability
//
// When PostgreSQL is unreachable every InTx and Ping fails (the server
// answers 503 and /readyz 503); the pool reconnects by itself when it is
// back. A transaction whose connection was found dead before anything
// was sent (a pooled connection left over from before a restart) is run
// again once at once.
//
// # Values
//
// Times are timestamptz: they round-trip to the microsecond (truncated),
// returned in UTC; the zero time is stored as NULL. Media and Numbers are
// text[]; Trace, State and Encoded are bytea stored byte for byte (an
// empty slice is read back as nil). PostgreSQL's text cannot hold the NUL
// character, so a string containing U+0000 is refused with an error.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/flowc-dev/flowc/server/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	// maxAttempts bounds how many times InTx runs fn when the transaction
	// fails with a serialisation failure or a deadlock.
	maxAttempts = 8
	// connectTimeout is the default for dialling the server, when the URL
	// gives none: an unreachable host makes requests fail, not hang.
	connectTimeout = 5 * time.Second
	// DefaultLockTimeout bounds how long one statement of a transaction
	// waits for a lock (a conversation's advisory lock held by a stuck
	// replica, a row lock): the webhook must answer within Twilio's 15 s.
	DefaultLockTimeout = 5 * time.Second
	// DefaultStatementTimeout bounds one statement of a transaction.
	DefaultStatementTimeout = 10 * time.Second
)

// Store is the PostgreSQL store. It is safe for concurrent use, by any
// number of processes on one database.
type Store struct {
	pool *pgxpool.Pool
	// begin starts every InTx transaction: READ COMMITTED, with
	// lock_timeout and statement_timeout set for the transaction only
	// (SET LOCAL), in the same round trip.
	begin string
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string, as libpq and pgx accept them, including pgxpool's
// pool_* settings), applies the embedded migrations the schema lacks, and
// returns the store. The tables live in the connection's current schema
// (the first schema of search_path that exists), so one database can hold
// several independent stores.
//
// Replicas opening the store together migrate one at a time, under an
// advisory lock on the schema.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors may quote the URL, password included.
		return nil, errors.New("postgres store: cannot parse the database URL")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	begin, err := beginQuery(cfg.ConnConfig.RuntimeParams)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s := &Store{pool: pool, begin: begin}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: %s: %w", s.Describe(), err)
	}
	return s, nil
}

// beginQuery is the statement that begins a transaction. The timeouts
// are DefaultLockTimeout and DefaultStatementTimeout unless the URL sets
// lock_timeout or statement_timeout (as a Go duration, "2s", or
// PostgreSQL's milliseconds, "2000"; 0 disables). They are taken out of
// the connection's run-time parameters and applied per transaction with
// SET LOCAL, so the migrations (which run on the same pool, outside InTx)
// keep the server's defaults, and a timeout ends at the commit: an
// advisory lock taken by pg_advisory_xact_lock is a lock like any other
// for lock_timeout, and is released with its transaction.
func beginQuery(params map[string]string) (string, error) {
	timeout := func(name string, def time.Duration) (int64, error) {
		v, ok := params[name]
		delete(params, name)
		if !ok {
			return def.Milliseconds(), nil
		}
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
			return ms, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%s %q in the database URL: want a duration such as 5s, or milliseconds", name, v)
		}
		return d.Milliseconds(), nil
	}
	lockMS, err := timeout("lock_timeout", DefaultLockTimeout)
	if err != nil {
		return "", err
	}
	stmtMS, err := timeout("statement_timeout", DefaultStatementTimeout)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = %d; SET LOCAL statement_timeout = %d", lockMS, stmtMS), nil
}

// Describe names the database without the password, for logs: "postgres
// user@host:port/database", with the schema when search_path is set.
func (s *Store) Describe() string {
	c := s.pool.Config().ConnConfig
	d := fmt.Sprintf("postgres %s@%s/%s", c.User, hostPort(c.Host, c.Port), c.Database)
	if sp := c.RuntimeParams["search_path"]; sp != "" {
		d += " (search_path " + sp + ")"
	}
	return d
}

func hostPort(host string, port uint16) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "/") {
		host = "[" + host + "]" // IPv6
	}
	return host + ":" + strconv.Itoa(int(port))
}

// migrate applies the embedded migrations under goose's session-level
// advisory lock, whose ID is derived from the current schema: replicas
// migrating one schema take turns, other schemas are not held up.
func (s *Store) migrate(ctx context.Context) error {
	var schema *string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return errors.New("no schema of search_path exists: create it, or fix search_path")
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockKey("flowc migrations", *schema)),
		lock.WithLockTimeout(1, 600), // poll every second, for up to 10 minutes
	)
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(s.pool) // closing it leaves the pool open
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// lockKey is the advisory lock key of parts: a 64-bit FNV-1a hash of
// them, each followed by a NUL (no part can contain one: PostgreSQL text
// cannot), so ("a", "bc") and ("ab", "c") differ.
func lockKey(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(h.Sum64())
}

// conversationKey is the advisory lock key of a conversation.
func conversationKey(contact, number string) int64 {
	return lockKey("flowc conversation", contact, number)
}

// deploymentsKey is the advisory lock key Activate, AssignNumber and
// UnassignNumber take.
var deploymentsKey = lockKey("flowc deployments")

// InTx runs fn in one READ COMMITTED transaction and commits it if fn
// returns nil; otherwise it rolls back and returns fn's error as is. A
// transaction that fails with a serialisation failure or a deadlock is
// run again (fn too), at most maxAttempts times in all, with a growing,
// jittered pause; one whose connection turned out dead before anything
// was sent is run again once, at once.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		switch {
		case err == nil:
			return nil
		case attempt == 1 && pgconn.SafeToRetry(err) && ctx.Err() == nil:
			continue
		case !isConflict(err) || attempt >= maxAttempts:
			return err
		}
		pause := min(time.Duration(1<<attempt)*5*time.Millisecond, 500*time.Millisecond)
		pause = pause/2 + rand.N(pause/2+1)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (s *Store) inTx(ctx context.Context, fn func(tx store.Tx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: s.begin})
	if err != nil {
		return fmt.Errorf("postgres store: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			rollback(ctx, pgTx) // fn panicked
		}
	}()
	t := &tx{tx: pgTx, locked: map[int64]bool{}}
	if err := fn(t); err != nil {
		done = true
		rollback(ctx, pgTx)
		return err
	}
	done = true
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres store: commit: %w", err)
	}
	return nil
}

// rollback rolls back even when ctx is done (a cancelled context would
// make pgx close the connection instead).
func rollback(ctx context.Context, t pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	t.Rollback(ctx)
}

// isConflict reports whether err is a serialisation failure or a
// deadlock: the transaction was rolled back and may simply run again.
func isConflict(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres store: ping: %w", err)
	}
	return nil
}

// DBStats reports the connection pool in database/sql's terms, for the
// server's metrics: a wait is an acquire that found no idle connection.
func (s *Store) DBStats() sql.DBStats {
	st := s.pool.Stat()
	return sql.DBStats{
		MaxOpenConnections: int(st.MaxConns()),
		OpenConnections:    int(st.TotalConns()),
		InUse:              int(st.AcquiredConns()),
		Idle:               int(st.IdleConns()),
		WaitCount:          st.EmptyAcquireCount(),
		WaitDuration:       st.EmptyAcquireWaitTime(),
	}
}

// Close closes the pool's connections, waiting for those in use to be
// released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
