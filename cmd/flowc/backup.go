package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

func init() {
	register(command{name: "backup", summary: "copy the server's SQLite database, consistently, while it serves", run: runBackup})
}

// runBackup copies the SQLite database with VACUUM INTO: one read
// transaction, so the copy is the database as of one commit, taken while
// `flowc serve` keeps writing (in WAL mode a reader does not block the
// writer, nor the writer the reader). The copy is written under a
// temporary name in OUT's directory, checked with PRAGMA integrity_check
// and only then renamed to OUT, so a file named OUT is always a whole,
// sound backup. The database is opened as it is: nothing is migrated or
// created.
func runBackup(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("backup", "flowc backup [--db flowc.db] OUT", stderr)
	dbPath := fs.String("db", "flowc.db", "the server's SQLite database file (it may be serving)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	if os.Getenv("DATABASE_URL") != "" {
		// Not an error: --db names the file. But say what is copied.
		fmt.Fprintln(stderr, "flowc backup: DATABASE_URL is set, but this copies the SQLite file --db; back PostgreSQL up with pg_dump (docs/operations.md)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	messages, err := backupSQLite(ctx, *dbPath, paths[0])
	if err != nil {
		fmt.Fprintln(stderr, "flowc backup:", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "flowc backup: %s -> %s (%d messages, integrity_check ok)\n", *dbPath, paths[0], messages)
	return exitOK
}

// backupSQLite copies the database at src to the new file out and
// reports how many messages the copy holds.
func backupSQLite(ctx context.Context, src, out string) (messages int64, err error) {
	if fi, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("--db %s: %w", src, err)
	} else if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("--db %s is not a file", src)
	}
	if _, err := os.Lstat(out); err == nil {
		return 0, fmt.Errorf("%s exists: a backup goes to a new file", out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	// VACUUM INTO writes into a file that does not exist or is empty: an
	// empty temporary file beside out, renamed when it is checked.
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return 0, err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmpName)
		}
	}()

	db, err := sql.Open("sqlite", sqliteURI(src, "rw"))
	if err != nil {
		return 0, fmt.Errorf("--db %s: %w", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmpName); err != nil {
		return 0, fmt.Errorf("--db %s: VACUUM INTO: %w", src, err)
	}
	if messages, err = checkBackup(ctx, tmpName); err != nil {
		return 0, fmt.Errorf("the copy of %s: %w", src, err)
	}
	if err := syncFile(tmpName); err != nil {
		return 0, err
	}
	if err := os.Rename(tmpName, out); err != nil {
		return 0, err
	}
	return messages, nil
}

// checkBackup runs PRAGMA integrity_check on the copy and counts its
// messages (which also proves it is a flowc database).
func checkBackup(ctx context.Context, path string) (int64, error) {
	db, err := sql.Open("sqlite", sqliteURI(path, "ro"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return 0, err
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("integrity_check: %s", strings.Join(problems, "; "))
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM messages").Scan(&n); err != nil {
		return 0, fmt.Errorf("not a flowc database: %w", err)
	}
	return n, nil
}

// sqliteURI is a file: URI for path (so '?' and '#' in it stay part of
// the path), opened in mode (rw: never created; ro), waiting up to 5s for
// the server's write lock where one is needed.
func sqliteURI(path, mode string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if strings.HasPrefix(esc, "/") {
		esc = "//" + esc
	}
	q := url.Values{"mode": {mode}, "_pragma": {"busy_timeout(5000)"}}
	return "file:" + esc + "?" + q.Encode()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
