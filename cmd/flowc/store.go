package main

import (
	"context"
	"os"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// openStore opens the server's database, applying the migrations it
// lacks: PostgreSQL when DATABASE_URL is set, else the embedded SQLite
// file at dbPath. It returns a description for the start-up line, which
// never shows a password.
func openStore(ctx context.Context, dbPath string) (store.Store, string, error) {
	if url := os.Getenv("DATABASE_URL"); url != "" {
		st, err := postgres.Open(ctx, url)
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
