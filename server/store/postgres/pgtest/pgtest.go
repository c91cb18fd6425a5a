// Package pgtest gives tests a PostgreSQL schema of their own in the
// database named by FLOWC_TEST_DATABASE_URL, so runs never interfere.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env is the variable naming the test database.
const Env = "FLOWC_TEST_DATABASE_URL"

// URL returns the test database's URL, skipping the test (saying why)
// when it is unset.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(Env)
	if u == "" {
		tb.Skip(Env + " is not set: no PostgreSQL to test against " +
			"(e.g. " + Env + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// FreshSchema creates a schema of its own in the database at base, drops
// it when the test ends, and returns base with search_path set to it,
// and the schema's name.
func FreshSchema(tb testing.TB, base string) (dbURL, schema string) {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	schema = "flowc_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithParam(tb, base, "search_path", schema), schema
}

// WithParam sets a query parameter of a postgres:// URL.
func WithParam(tb testing.TB, base, key, value string) string {
	tb.Helper()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("%s must be a postgres:// URL", Env)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
