package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"
)

func init() {
	register(command{name: "migrate", summary: "apply the server database's schema migrations, then exit", run: runMigrate})
}

// runMigrate opens the database as `flowc serve` would (PostgreSQL when
// DATABASE_URL is set, else the SQLite file --db), which applies the
// embedded migrations it lacks, and closes it. On PostgreSQL the
// migrations run under an advisory lock, so it is safe alongside
// replicas starting.
func runMigrate(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("migrate", "flowc migrate [--db flowc.db]", stderr)
	dbPath := fs.String("db", "flowc.db", "embedded SQLite database file (when DATABASE_URL is not set)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) != 0 {
		fs.Usage()
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	st, desc, err := openStore(ctx, *dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "flowc migrate: database:", err)
		return exitUsage
	}
	if err := st.Close(); err != nil {
		fmt.Fprintln(stderr, "flowc migrate: database:", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "flowc migrate: %s is up to date\n", desc)
	return exitOK
}
