package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

func TestMigrateSQLite(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	db := filepath.Join(t.TempDir(), "flowc.db")
	for range 2 { // the second run has nothing to do
		var stdout, stderr bytes.Buffer
		if code := run([]string{"migrate", "--db", db}, nil, &stdout, &stderr); code != exitOK {
			t.Fatalf("flowc migrate: exit %d: %s", code, stderr.String())
		}
		if want := "flowc migrate: sqlite " + db + " is up to date\n"; stdout.String() != want {
			t.Errorf("stdout %q, want %q", stdout.String(), want)
		}
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"migrate", "extra"}, nil, &stdout, &stderr); code != exitUsage {
		t.Errorf("flowc migrate extra: exit %d, want %d", code, exitUsage)
	}
}

// TestMigratePostgres: with DATABASE_URL set, flowc migrate migrates
// PostgreSQL (a fresh schema of the test database) and says so without
// the password.
func TestMigratePostgres(t *testing.T) {
	ctx := context.Background()
	dbURL, schema := pgtest.FreshSchema(t, pgtest.URL(t))
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.User.Password(); !ok {
		u.User = url.UserPassword(u.User.Username(), "unused-secret") // trust auth ignores it
	}
	t.Setenv("DATABASE_URL", u.String())
	var stdout, stderr bytes.Buffer
	if code := run([]string{"migrate"}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("flowc migrate: exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	pw, _ := u.User.Password()
	if !strings.HasPrefix(out, "flowc migrate: postgres ") || !strings.Contains(out, schema) || strings.Contains(out, pw) {
		t.Errorf("stdout %q", out)
	}
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'messages'", schema).Scan(&n); err != nil || n != 1 {
		t.Errorf("messages table in %s: %d, %v", schema, n, err)
	}
}
