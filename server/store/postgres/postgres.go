// Package postgres is the PostgreSQL store, for running several server
// replicas on one database: a pgx connection pool (pgxpool) used through
// pgx's database/sql adapter, its schema migrated by goose from SQL files
// embedded in the binary. What transactions read and write is the shared
// server/store/sqlstore; this package connects, migrates, and is
// PostgreSQL's sqlstore.Dialect.
//
// # Transactions and locking
//
// Every InTx transaction runs at READ COMMITTED, on connections whose
// lock_timeout (5 s) and statement_timeout (10 s) are set when they
// connect (timeouts), and the writers that must not interleave are
// serialised by locks rather than by SERIALIZABLE snapshots:
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
//     LOCKED and then sets the lease of those it chose, so replicas'
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
// Pipelines: a transaction's writes that answer only an error, a count
// or an id are queued and sent as one pgx batch on the transaction's
// connection (store.PipelineTx, sqlstore's pipeline.go) where the server
// asks for it (its group commits), and several steps' reads are one
// statement (ReadSteps, store.StepBatchReader): on the same machine a
// round trip cost the client and the backend more than most statements.
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
// # Pool
//
// The pool holds at most DefaultMaxConns connections (16: the default of
// pgxpool, max(4, NumCPU), was measured to be the bottleneck of a
// loaded server), or what MaxConns or the URL's pool_max_conns sets.
// Admin listings run in READ ONLY transactions on the same pool; a
// step's read (ReadStep) is one statement on it, outside any transaction.
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
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	// connectTimeout is the default for dialling the server, when the URL
	// gives none: an unreachable host makes requests fail, not hang.
	connectTimeout = 5 * time.Second
	// DefaultLockTimeout bounds how long one statement of a transaction
	// waits for a lock (a conversation's advisory lock held by a stuck
	// replica, a row lock): the webhook must answer within Twilio's 15 s.
	DefaultLockTimeout = 5 * time.Second
	// DefaultStatementTimeout bounds one statement of a transaction.
	DefaultStatementTimeout = 10 * time.Second
	// DefaultMaxConns is the pool's size unless the URL or MaxConns sets
	// another.
	DefaultMaxConns = 16
)

// Store is the PostgreSQL store. It is safe for concurrent use, by any
// number of processes on one database.
type Store struct {
	*sqlstore.DB
	pool *pgxpool.Pool
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.Reader     = (*Store)(nil)
	_ store.StepReader = (*Store)(nil)

	_ store.StepBatchReader = (*Store)(nil)
)

// types scans text[] columns through database/sql.
var types = pgtype.NewMap()

// dialect is PostgreSQL's: $n placeholders, timestamptz, text[], the "C"
// collation for bytewise order, advisory locks and SKIP LOCKED.
var dialect = sqlstore.Dialect{
	Name:     "postgres store",
	Numbered: true,
	// Planned at every run: the statement's description is cached, its
	// plan is not (TestBatchReadsPlannedForTheirTables).
	PlanEach: []any{pgx.QueryExecModeCacheDescribe},
	Time: func(t time.Time) (any, error) {
		if t.IsZero() {
			return nil, nil
		}
		return t, nil
	},
	Strings: func(a []string) (any, error) {
		if a == nil {
			a = []string{} // the text[] columns are NOT NULL
		}
		return a, nil
	},
	ScanStrings: func(a *[]string) sql.Scanner { return types.SQLScanner(a) },
	StringsAgg:  func(e string) string { return "array_agg(" + e + ")" },
	JSONRows: func(cols, from string) string {
		return "(SELECT json_agg(json_build_array(" + cols + ")) FROM (" + from + ") AS j)"
	},
	JSONTime:     func(col string) string { return "(extract(epoch FROM " + col + ") * 1000000)::bigint * 1000" }, // microseconds, exactly
	ModifyingCTE: true,
	Bytewise:     ` COLLATE "C"`,
	ForUpdate:    ` FOR UPDATE`,
	SkipLocked:   func(table string) string { return ` FOR UPDATE OF ` + table + ` SKIP LOCKED` },
	Lock: func(ctx context.Context, tx *sql.Tx, key int64) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
		return err
	},
	TryLocks:      tryLocks,
	Pipeline:      pipeline,
	Arrays:        true,
	LockQuery:     `SELECT pg_advisory_xact_lock($1)`,
	ProgramsOrder: "seq",
	// messages has no sequence: a tie in received time is broken by SID.
	MessagesOrder: "sid",
	IsDuplicate: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505"
	},
	Transient: isConflict,
	RetryAtOnce: func(err error) bool {
		return errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err)
	},
	TxOptions:     &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	ReadTxOptions: &sql.TxOptions{Isolation: sql.LevelReadCommitted, ReadOnly: true},
}

// pipeline sends qs as one pgx batch on the transaction's connection
// (sqlstore.Dialect.Pipeline): one round trip, the statements run in
// order in the transaction; after one fails PostgreSQL skips the rest
// (the transaction is aborted), and the first failure is returned.
func pipeline(ctx context.Context, driverConn any, qs []sqlstore.Queued) (int, error) {
	c, ok := driverConn.(*stdlib.Conn)
	if !ok {
		return 0, fmt.Errorf("a pipeline on a %T connection", driverConn)
	}
	b := &pgx.Batch{}
	for _, q := range qs {
		b.Queue(q.SQL, q.Args...)
	}
	br := c.Conn().SendBatch(ctx, b)
	for i, q := range qs {
		var n int64
		var err error
		if q.Scan != nil {
			if err = br.QueryRow().Scan(q.Scan...); err == nil {
				n = 1
			}
		} else {
			var tag pgconn.CommandTag
			tag, err = br.Exec()
			n = tag.RowsAffected()
		}
		if q.Check != nil {
			err = q.Check(n, err)
		}
		if err != nil {
			br.Close()
			return i, err
		}
	}
	return -1, br.Close()
}

// tryLocks tries each key's advisory lock without waiting, in one round
// trip, in the order of keys.
func tryLocks(ctx context.Context, tx *sql.Tx, keys []int64) ([]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT pg_try_advisory_xact_lock(k)
		FROM unnest($1::bigint[]) WITH ORDINALITY AS u(k, i) ORDER BY i`, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bool
	for rows.Next() {
		var ok bool
		if err := rows.Scan(&ok); err != nil {
			return nil, err
		}
		out = append(out, ok)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) != len(keys) {
		return nil, fmt.Errorf("%d lock results for %d keys", len(out), len(keys))
	}
	return out, nil
}

// Options are Open's settings beyond the URL.
type Options struct {
	// MaxConns is the pool's size: 0 keeps the URL's pool_max_conns, or
	// DefaultMaxConns when the URL sets none.
	MaxConns int

	tracer   pgx.QueryTracer      // the connections' (tests count round trips)
	onNotice pgconn.NoticeHandler // the connections' (tests read auto_explain's plans)
}

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
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with opts.
func OpenWith(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors may quote the URL, password included.
		return nil, errors.New("postgres store: cannot parse the database URL")
	}
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("postgres store: a pool of %d connections", opts.MaxConns)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = int32(opts.MaxConns)
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	if opts.tracer != nil {
		cfg.ConnConfig.Tracer = opts.tracer
	}
	if opts.onNotice != nil {
		cfg.ConnConfig.OnNotice = opts.onNotice
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	// The migrations run on connections of their own, with the server's
	// own timeouts (an index on a large table may take a while); the
	// pool's connections get the transactions' timeouts.
	migrateConfig := cfg.ConnConfig.Copy()
	if err := timeouts(cfg.ConnConfig.RuntimeParams); err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	delete(migrateConfig.RuntimeParams, "lock_timeout")
	delete(migrateConfig.RuntimeParams, "statement_timeout")
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s := &Store{DB: sqlstore.New(dialect, stdlib.OpenDBFromPool(pool), nil), pool: pool}
	if err := s.migrate(ctx, migrateConfig); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres store: %s: %w", s.Describe(), err)
	}
	return s, nil
}

// timeouts sets the connections' lock_timeout and statement_timeout:
// DefaultLockTimeout and DefaultStatementTimeout unless the URL sets them
// (as a Go duration, "2s", or PostgreSQL's milliseconds, "2000"; 0
// disables). An advisory lock taken by pg_advisory_xact_lock is a lock
// like any other for lock_timeout.
func timeouts(params map[string]string) error {
	set := func(name string, def time.Duration) error {
		v, ok := params[name]
		ms := def.Milliseconds()
		if ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				ms = n
			} else if d, err := time.ParseDuration(v); err == nil && d >= 0 {
				ms = d.Milliseconds()
			} else {
				return fmt.Errorf("%s %q in the database URL: want a duration such as 5s, or milliseconds", name, v)
			}
		}
		params[name] = strconv.FormatInt(ms, 10)
		return nil
	}
	if err := set("lock_timeout", DefaultLockTimeout); err != nil {
		return err
	}
	return set("statement_timeout", DefaultStatementTimeout)
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
func (s *Store) migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	db.SetMaxOpenConns(1) // goose's session lock and its migrations on one connection
	var schema *string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
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
		lock.WithLockID(sqlstore.LockKey("flowc migrations", *schema)),
		lock.WithLockTimeout(1, 600), // poll every second, for up to 10 minutes
	)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// isConflict reports whether err is a serialisation failure or a
// deadlock: the transaction was rolled back and may simply run again.
func isConflict(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
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

// ReadSteps reads the StepState of each of keys in one statement
// (store.StepBatchReader).
func (s *Store) ReadSteps(ctx context.Context, keys []store.StepKey) ([]*store.StepState, error) {
	return s.ReadStepsBatch(ctx, keys)
}

// Close closes the pool's connections, waiting for those in use to be
// released.
func (s *Store) Close() error {
	s.DB.Close()
	s.pool.Close()
	return nil
}
