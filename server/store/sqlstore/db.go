package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Dialect is what differs between the databases (see the package doc).
type Dialect struct {
	// Name starts every error: "sqlite store", "postgres store".
	Name string
	// Numbered: placeholders are $1, $2, … (queries are written with ?).
	Numbered bool
	// Time encodes a time argument; the zero time must be nil (NULL).
	Time func(time.Time) (any, error)
	// Strings encodes a list argument; ScanStrings scans one (NULL: nil).
	Strings     func([]string) (any, error)
	ScanStrings func(*[]string) sql.Scanner
	// PlanEach leads the arguments of the reads whose best plan changes
	// as the tables grow: those that take many steps' keys as arrays
	// (ReadStepsBatch, PrefetchContactMessages) and the timers' claim
	// (DueConversationsExcept). It is the driver's option to plan such a
	// read at every run, for its arguments and the tables as they are
	// then. (PostgreSQL keeps a prepared statement's generic plan until
	// the tables are analyzed again; one made while they were small
	// hashed or scanned whole tables.)
	PlanEach []any
	// Bytewise follows an ORDER BY expression to sort it bytewise
	// whatever the database's collation (` COLLATE "C"`), or is "".
	Bytewise string
	// ForUpdate ends a SELECT that locks the rows it reads (" FOR
	// UPDATE"); SkipLocked(table) one that locks the rows of table it
	// can and skips the others. "" where writers are exclusive anyway.
	ForUpdate  string
	SkipLocked func(table string) string
	// Lock takes a transaction-scoped advisory lock, waiting for it;
	// TryLocks tries to take each of keys without waiting and says which
	// it took. Both nil where every write transaction is exclusive.
	Lock     func(ctx context.Context, tx *sql.Tx, key int64) error
	TryLocks func(ctx context.Context, tx *sql.Tx, keys []int64) ([]bool, error)
	// ProgramsOrder and MessagesOrder are the columns that stand for
	// insertion order in a tie (SQLite: rowid).
	ProgramsOrder, MessagesOrder string
	// LastInsertID: an inserted row's id is read with LastInsertId
	// (SQLite, where a profile showed INSERT … RETURNING opening a
	// statement journal); else with RETURNING id.
	LastInsertID bool
	// IsDuplicate: err is a primary key or unique violation.
	IsDuplicate func(error) bool
	// Transient: the transaction failed for a reason that may pass (the
	// database busy, a serialisation failure, a deadlock) and may simply
	// run again, after a pause. RetryAtOnce: the transaction failed
	// before anything was sent (a pooled connection found dead), worth
	// one immediate retry; nil when there is no such case.
	Transient   func(error) bool
	RetryAtOnce func(error) bool
	// TxOptions begin every InTx transaction, ReadTxOptions every
	// InReadTx one.
	TxOptions, ReadTxOptions *sql.TxOptions
	// ModifyingCTE: a WITH clause may hold an INSERT (PostgreSQL), so
	// two inserts can be one statement.
	ModifyingCTE bool
	// StringsAgg aggregates a text column's values into a list that
	// ScanStrings reads (json_group_array, array_agg).
	StringsAgg func(expr string) string
	// JSONRows is a subquery's rows, each the JSON array of cols, as
	// one JSON array (json_group_array, json_agg: "[]" or NULL when
	// none); JSONTime is a time column as a JSON number of unix
	// nanoseconds (step.go's folded reads).
	JSONRows func(cols, from string) string
	JSONTime func(col string) string
	// Pipeline sends qs (Queued, pipeline.go) in one round trip on
	// driverConn (the transaction's connection, as database/sql's
	// Conn.Raw gives it), in order, checking each answer with its Check,
	// and returns the index of the first that failed with its error (-1
	// and nil when none did). nil: no pipelines, every statement answers
	// at once. LockQuery is Lock's statement (argument: the key), for a
	// lock queued in a pipeline.
	Pipeline func(ctx context.Context, driverConn any, qs []Queued) (failed int, err error)
	// Arrays: unnest(CAST(? AS text[]), …) WITH ORDINALITY reads lists
	// given as Strings arguments as rows (PostgreSQL), so many steps'
	// states are one statement (ReadStepsBatch).
	Arrays    bool
	LockQuery string
	// PrepareStatements: keep the queries prepared on the write pool
	// (SQLite, where parsing SQL was a large part of a message's cost;
	// PostgreSQL's driver caches its statements by itself).
	PrepareStatements bool
}

// maxAttempts bounds how many times InTx runs fn when the transaction
// fails with a transient error.
const maxAttempts = 8

// maxPrepared bounds the statement cache (queries with IN lists vary).
const maxPrepared = 256

// DB is a store.Store on database/sql. It is safe for concurrent use.
type DB struct {
	d    Dialect
	w    *sql.DB // InTx
	r    *sql.DB // InReadTx (w when there is no pool of its own)
	ownR bool    // r is a pool of its own, closed with the DB

	rebound sync.Map // query as written → as the database takes it

	stmts  sync.Map // query text → *sql.Stmt (PrepareStatements)
	rstmts sync.Map // query text → *sql.Stmt on r (ReadStep)
	wantMu sync.Mutex
	want   map[string]bool // queries to prepare once the connection is free
}

var (
	_ store.Store      = (*DB)(nil)
	_ store.Reader     = (*DB)(nil)
	_ store.StepReader = (*DB)(nil)
)

// New is the store on write (every InTx transaction) and read (every
// InReadTx one; nil: write). Close closes both.
func New(d Dialect, write, read *sql.DB) *DB {
	db := &DB{d: d, w: write, r: read, ownR: read != nil, want: map[string]bool{}}
	if read == nil {
		db.r = write
	}
	return db
}

// Writer is the pool of InTx transactions.
func (db *DB) Writer() *sql.DB { return db.w }

func (db *DB) rebind(q string) string {
	if !db.d.Numbered {
		return q
	}
	if v, ok := db.rebound.Load(q); ok {
		return v.(string)
	}
	n := numbered(q)
	db.rebound.Store(q, n)
	return n
}

// InTx runs fn in one transaction and commits it if fn returns nil;
// otherwise it rolls back and returns fn's error as is. A transaction
// that fails with a transient error (Dialect.Transient) is run again (fn
// too), at most maxAttempts times in all, with a growing, jittered
// pause, while ctx lasts; one that failed before anything was sent
// (Dialect.RetryAtOnce) is run again once, at once.
func (db *DB) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.inTx(ctx, db.w, db.d.TxOptions, db.d.PrepareStatements, fn)
		if db.d.PrepareStatements && db.pendingPrepares() {
			db.prepareWanted(ctx)
		}
		switch {
		case err == nil:
			return nil
		case attempt == 1 && db.d.RetryAtOnce != nil && db.d.RetryAtOnce(err) && ctx.Err() == nil:
			continue
		case !db.d.Transient(err) || attempt >= maxAttempts || ctx.Err() != nil:
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

// InReadTx runs fn in one read-only transaction, on the read pool: for
// admin listings, which must not hold the writers' connection (SQLite)
// or take their locks. fn must only read; it is not retried.
func (db *DB) InReadTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return db.inTx(ctx, db.r, db.d.ReadTxOptions, false, fn)
}

func (db *DB) inTx(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, prepared bool, fn func(tx store.Tx) error) error {
	var conn *sql.Conn // its own, for pipelines (Conn.Raw)
	begin := pool.BeginTx
	if db.d.Pipeline != nil && pool == db.w {
		var err error
		if conn, err = pool.Conn(ctx); err != nil {
			return fmt.Errorf("%s: begin: %w", db.d.Name, err)
		}
		defer conn.Close()
		begin = conn.BeginTx
	}
	sqlTx, err := begin(ctx, opts)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", db.d.Name, err)
	}
	done := false
	defer func() {
		if !done {
			sqlTx.Rollback() // fn panicked
		}
	}()
	tx := &Tx{tx: sqlTx, db: db, prepared: prepared, conn: conn}
	err = fn(tx)
	if err == nil {
		err = tx.Flush(ctx) // what fn queued and did not send (pipeline.go)
	}
	if err != nil {
		done = true
		sqlTx.Rollback()
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", db.d.Name, err)
	}
	return nil
}

// prepareWanted prepares the queries transactions asked for; it runs
// between transactions, when SQLite's single connection is free.
func (db *DB) prepareWanted(ctx context.Context) {
	db.wantMu.Lock()
	want := db.want
	db.want = map[string]bool{}
	db.wantMu.Unlock()
	for q := range want {
		if _, ok := db.stmts.Load(q); ok {
			continue
		}
		if p, err := db.w.PrepareContext(ctx, q); err == nil {
			if _, loaded := db.stmts.LoadOrStore(q, p); loaded {
				p.Close()
			}
		}
	}
}

func (db *DB) pendingPrepares() bool {
	db.wantMu.Lock()
	defer db.wantMu.Unlock()
	return len(db.want) > 0
}

// Ping checks the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.w.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%s: ping: %w", db.d.Name, err)
	}
	return nil
}

// DBStats reports the write pool, for the server's metrics.
func (db *DB) DBStats() sql.DBStats { return db.w.Stats() }

// Close closes the pools. Transactions in progress should have ended.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	db.rstmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	if db.ownR {
		db.r.Close()
	}
	return db.w.Close()
}
