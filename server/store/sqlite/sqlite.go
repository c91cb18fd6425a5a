// Package sqlite is the embedded store: one SQLite database file, through
// the pure-Go driver modernc.org/sqlite (no cgo), its schema migrated by
// goose from SQL files embedded in the binary. What transactions read and
// write is the shared server/store/sqlstore; this package opens the file
// and is SQLite's sqlstore.Dialect.
//
// # Transactions and locking
//
// SQLite allows one writer at a time, and every InTx transaction may
// write, so transactions are serialised rather than left to contend:
//
//   - the writers' *sql.DB holds a single connection (SetMaxOpenConns(1)),
//     so concurrent InTx calls in this process queue in database/sql for
//     it and never meet inside SQLite;
//   - admin listings (InReadTx) and a step's read (ReadStep) run on a
//     pool of their own of read-only connections (query_only, deferred
//     transactions): in WAL mode a reader sees the last commit before it
//     began and neither waits for the writer nor holds it up, so a long
//     listing never delays a webhook, and a webhook's read does not
//     queue for the writers' connection;
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
// Checkpoints run on a connection of their own, off the writers' path
// (checkpoint.go).
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
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	// busyTimeout is how long one statement waits for another process's
	// lock before failing with SQLITE_BUSY. Short, because the driver's
	// busy wait does not end with the context: a webhook must answer
	// within Twilio's 15 s even when its deadline (10 s) falls inside one.
	busyTimeout = 2 * time.Second
	// readConns is how many admin reads run at once.
	readConns = 4
)

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	*sqlstore.DB
	db   *sql.DB // the writers' single connection
	ckpt *checkpointer
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.Reader     = (*Store)(nil)
	_ store.StepReader = (*Store)(nil)
)

// dialect is SQLite's: times as INTEGER unix nanoseconds, lists as JSON
// arrays, no locks (every write transaction is exclusive).
var dialect = sqlstore.Dialect{
	Name:        "sqlite store",
	Time:        encTime,
	Strings:     encStrings,
	ScanStrings: func(a *[]string) sql.Scanner { return sqlstore.JSONStrings{Dst: a} },
	// BINARY, SQLite's default collation, is bytewise.
	Bytewise:          "",
	ProgramsOrder:     "rowid",
	MessagesOrder:     "rowid",
	LastInsertID:      true,
	IsDuplicate:       isDuplicate,
	Transient:         isBusy,
	PrepareStatements: true,
	StringsAgg:        func(e string) string { return "json_group_array(" + e + ")" },
	// No JSONRows: folding the history and the edits into the step's
	// read (ReadStepWith) measured 5% slower here than reading them
	// apart (docs/benchmarks.md): SQLite is in the process, so a
	// statement saves no round trip, and building and decoding the JSON
	// costs more than the two statements it replaces.
}

// Open opens (creating it if need be) the database file at path, applies
// the embedded migrations the file lacks, and returns the store.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite store: empty database path")
	}
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := check(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store: migrate %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite store: open %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	ckpt, err := startCheckpointer(path)
	if err != nil {
		db.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite store: open %s for checkpoints: %w", path, err)
	}
	return &Store{DB: sqlstore.New(dialect, db, read), db: db, ckpt: ckpt}, nil
}

// Close stops the checkpointer and closes the connections; the last one
// closed checkpoints what is left and removes the WAL file.
func (s *Store) Close() error {
	err := s.ckpt.stop()
	return errors.Join(err, s.DB.Close())
}

// dsn is the driver's data source name for path: a file: URI (so that a
// path with '?' or '#' in it stays a path) with the connection settings,
// for the writers or for the read-only pool.
func dsn(path string, readOnly bool) string {
	// In a file: URI only '%', '?' and '#' are special in the path.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if strings.HasPrefix(esc, "/") {
		esc = "//" + esc // file:///abs/path: an empty authority
	}
	q := url.Values{}
	q["_pragma"] = []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"foreign_keys(1)",
	}
	if readOnly {
		// Deferred: a reader takes no write lock; query_only: nothing it
		// runs can write. The journal mode is the file's (WAL, set by the
		// writers).
		q.Set("_txlock", "deferred")
		q["_pragma"] = append(q["_pragma"], "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
		// No checkpoint inside a commit while checkpoint.go's keep up
		// (walSafetyPages), and the WAL cut back after one (walSizeLimit).
		q["_pragma"] = append(q["_pragma"], "journal_mode(WAL)", "synchronous(NORMAL)",
			fmt.Sprintf("wal_autocheckpoint(%d)", walSafetyPages), fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	}
	return "file:" + esc + "?" + q.Encode()
}

// check verifies the connection settings took: a driver that silently
// ignored one would void the guarantees documented above.
func check(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, not wal", mode)
	}
	var fk int
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
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

// isDuplicate reports whether err is a primary key or unique violation.
func isDuplicate(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// Times: INTEGER unix nanoseconds, NULL for the zero time.

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func encTime(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("sqlite store: time %s is outside the storable range (%s to %s)",
			t.Format(time.RFC3339Nano), minTime.UTC().Format(time.RFC3339), maxTime.UTC().Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

func encStrings(a []string) (any, error) {
	b, err := json.Marshal(a)
	return string(b), err
}
