package main

import (
	"context"
	"fmt"
	"os"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// openStore opens the server's database: PostgreSQL when DATABASE_URL is
// set, else the embedded SQLite file at dbPath. It returns a description
// for the start-up line.
func openStore(ctx context.Context, dbPath string) (store.Store, string, error) {
	if url := os.Getenv("DATABASE_URL"); url != "" {
		return nil, "", fmt.Errorf("DATABASE_URL is set, but this build has only the embedded SQLite store; unset DATABASE_URL to use it")
	}
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, "", err
	}
	return st, "sqlite " + dbPath, nil
}
