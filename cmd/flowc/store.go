package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// maxDBConns bounds FLOWC_DB_MAX_CONNS: more than PostgreSQL's default
// max_connections is a typo, not a setting.
const maxDBConns = 1000

// openStore opens the server's database, applying the migrations it
// lacks: PostgreSQL when DATABASE_URL is set, else the embedded SQLite
// file at dbPath. It returns a description for the start-up line, which
// never shows a password.
func openStore(ctx context.Context, dbPath string) (store.Store, string, error) {
	if url := os.Getenv("DATABASE_URL"); url != "" {
		conns, err := parseDBMaxConns(os.Getenv("FLOWC_DB_MAX_CONNS"))
		if err != nil {
			return nil, "", err
		}
		st, err := postgres.OpenWith(ctx, url, postgres.Options{MaxConns: conns})
		if err != nil {
			return nil, "", err
		}
		return st, st.Describe(), nil
	}
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, "", err
	}
	return st, "sqlite " + dbPath, nil
}

// parseDBMaxConns reads FLOWC_DB_MAX_CONNS: "" is 0 (the URL's
// pool_max_conns, else postgres.DefaultMaxConns).
func parseDBMaxConns(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxDBConns {
		return 0, fmt.Errorf("FLOWC_DB_MAX_CONNS %q: want a number of connections from 1 to %d", v, maxDBConns)
	}
	return n, nil
}
