package server_test

import (
	"context"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
	"net/http"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store/postgres"
)

// BenchmarkInboundPostgres is BenchmarkInbound on PostgreSQL
// (FLOWC_TEST_DATABASE_URL; skipped when unset), in one run:
//
//   - flowc-1: one server;
//   - bare: the limit, the same bare chi handler issuing the same
//     transaction per message, on the postgres store, at the same
//     concurrency (32 clients);
//   - flowc-3: three servers (each with its own connection pool, as three
//     replicas would have) on the same schema, behind a round-robin client.
//
// Each variant gets a fresh schema, dropped afterwards.
//
//	FLOWC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./server -run '^$' -bench InboundPostgres -benchtime 4000x
func BenchmarkInboundPostgres(b *testing.B) {
	base := pgtest.URL(b)
	replicas := func(b *testing.B, n int) {
		dbURL := schemaURL(b, base)
		res, err := lang.Load([]string{"../examples"})
		if err != nil {
			b.Fatal(err)
		}
		progs, _ := compiler.All(res)
		dir, _ := server.LoadDirectory("../examples/directory.json")
		var hs []http.Handler
		for i := 0; i < n; i++ {
			st := openPG(b, dbURL)
			srv := server.New(server.Config{TwilioAuthToken: authToken, Directory: dir, Logger: quiet,
				Now: func() time.Time { return time.Date(2026, 11, 23, 20, 0, 0, 0, ny) }}, st)
			if err := srv.Deploy(context.Background(), progs); err != nil {
				b.Fatal(err)
			}
			hs = append(hs, srv.Handler())
		}
		load(b, true, hs...)
	}
	b.Run("flowc-1", func(b *testing.B) { replicas(b, 1) })
	b.Run("bare", func(b *testing.B) {
		load(b, false, bareHandler(b, openPG(b, schemaURL(b, base))))
	})
	b.Run("flowc-3", func(b *testing.B) { replicas(b, 3) })
}

func openPG(b *testing.B, dbURL string) *postgres.Store {
	st, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func schemaURL(b *testing.B, base string) string {
	u, _ := pgtest.FreshSchema(b, base)
	return u
}
