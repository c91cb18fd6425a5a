// Package sqlite is the embedded store: one SQLite database file, through
// the pure-Go driver modernc.org/sqlite (no cgo), its schema migrated by
// goose from SQL files embedded in the binary.
//
// # Transactions and locking
//
// SQLite allows one writer at a time, and every InTx transaction may
// write, so transactions are serialised rather than left to contend:
//
//   - the *sql.DB holds a single connection (SetMaxOpenConns(1)), so
//     concurrent InTx calls in this process queue in database/sql for it
//     and never meet inside SQLite; reads outside transactions are not
//     needed, so nothing else competes for the connection;
//   - every transaction starts with BEGIN IMMEDIATE (the driver's
//     _txlock=immediate), taking the write lock at the start: a
//     transaction never has to upgrade a read lock to a write lock, which
//     is what makes SQLite answer SQLITE_BUSY at once (no busy handler)
//     when another process wrote in between;
//   - busy_timeout (2 s) makes a connection wait for another process's
//     write lock (a second process opening the same file, a backup tool)
//     instead of failing, and InTx retries a transaction that still ends
//     in SQLITE_BUSY or SQLITE_LOCKED a bounded number of times, while
//     its context lasts;
//   - a transaction waiting for the connection (another InTx of this
//     process holds it) gives up when its context is done: the server's
//     webhook deadline bounds every wait in this process.
//
// Conversation's row lock is therefore implicit: the whole database is
// locked for writing by the transaction. Because of the single connection,
// fn must not call InTx or Ping on the same Store (it would wait for
// itself).
//
// # Durability
//
// The journal is WAL with synchronous=NORMAL: a committed transaction is
// in the WAL file (written, not necessarily fsynced) when Commit returns,
// so it survives the process being killed (SIGKILL, a panic, OOM), which
// is what the server promises. Losing power or the OS can roll back the
// last transactions (never corrupting the database); synchronous=FULL
// would fsync the WAL at every commit to survive that too.
//
// # Values
//
// Times are stored as INTEGER unix nanoseconds, so they round-trip exactly
// (to the nanosecond, returned in UTC); the zero time is stored as NULL.
// Times outside the years 1678–2262 cannot be stored and are refused.
// Media and Numbers are JSON arrays; Trace, State and Encoded are BLOBs
// stored byte for byte (an empty slice is read back as nil).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/flowc-dev/flowc/server/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	// busyTimeout is how long one statement waits for another process's
	// lock before failing with SQLITE_BUSY. Short, because the driver's
	// busy wait does not end with the context: a webhook must answer
	// within Twilio's 15 s even when its deadline (10 s) falls inside one.
	busyTimeout = 2 * time.Second
	// maxAttempts bounds how many times InTx runs fn when the transaction
	// fails with SQLITE_BUSY or SQLITE_LOCKED.
	maxAttempts = 8
)

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	db    *sql.DB
	stmts sync.Map // query text → *sql.Stmt

	wantMu sync.Mutex
	want   map[string]bool // queries to prepare once the connection is free
}

// maxPrepared bounds the statement cache (queries with IN lists vary).
const maxPrepared = 256

// prepareWanted prepares the queries transactions asked for; it runs
// between transactions, when the single connection is free.
func (s *Store) prepareWanted(ctx context.Context) {
	s.wantMu.Lock()
	want := s.want
	s.want = map[string]bool{}
	s.wantMu.Unlock()
	for q := range want {
		if _, ok := s.stmts.Load(q); ok {
			continue
		}
		if p, err := s.db.PrepareContext(ctx, q); err == nil {
			if _, loaded := s.stmts.LoadOrStore(q, p); loaded {
				p.Close()
			}
		}
	}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if need be) the database file at path, applies
// the embedded migrations the file lacks, and returns the store.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite store: empty database path")
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, want: map[string]bool{}}
	if err := s.check(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store: migrate %s: %w", path, err)
	}
	return s, nil
}

// dsn is the driver's data source name for path: a file: URI (so that a
// path with '?' or '#' in it stays a path) with the connection settings.
func dsn(path string) string {
	// In a file: URI only '%', '?' and '#' are special in the path.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if strings.HasPrefix(esc, "/") {
		esc = "//" + esc // file:///abs/path: an empty authority
	}
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q["_pragma"] = []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"journal_mode(WAL)",
		"synchronous(NORMAL)",
		"foreign_keys(1)",
	}
	return "file:" + esc + "?" + q.Encode()
}

// check verifies the connection settings took: a driver that silently
// ignored one would void the guarantees documented above.
func (s *Store) check(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, not wal", mode)
	}
	var fk int
	if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	if fk != 1 {
		return errors.New("foreign keys are off")
	}
	return nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// InTx runs fn in one BEGIN IMMEDIATE transaction and commits it if fn
// returns nil; otherwise it rolls back and returns fn's error as is. When
// the transaction fails because the database is busy (another process
// holds the lock past busy_timeout), fn is run again in a new transaction,
// at most maxAttempts times in all, with a growing, jittered pause.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		if s.pendingPrepares() {
			s.prepareWanted(ctx)
		}
		if err == nil || !isBusy(err) || attempt >= maxAttempts || ctx.Err() != nil {
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

func (s *Store) inTx(ctx context.Context, fn func(tx store.Tx) error) (err error) {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			sqlTx.Rollback() // fn panicked
		}
	}()
	if err := fn(&tx{tx: sqlTx, s: s}); err != nil {
		done = true
		sqlTx.Rollback()
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: commit: %w", err)
	}
	return nil
}

func (s *Store) pendingPrepares() bool {
	s.wantMu.Lock()
	defer s.wantMu.Unlock()
	return len(s.want) > 0
}

// isBusy reports whether err is SQLite's "database is locked" (by another
// connection: SQLITE_BUSY) or "table is locked" (SQLITE_LOCKED).
func isBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// Ping checks the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite store: ping: %w", err)
	}
	return nil
}

// DBStats reports the connection pool (one connection), for the server's
// metrics.
func (s *Store) DBStats() sql.DBStats { return s.db.Stats() }

// Close closes the database. Transactions in progress should have ended.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}
