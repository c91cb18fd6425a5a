package postgres

import (
	"context"
	"testing"

	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

// TestPoolSize: the pool holds DefaultMaxConns connections unless the
// URL's pool_max_conns or Options.MaxConns (which wins) says otherwise;
// a negative size is refused.
func TestPoolSize(t *testing.T) {
	ctx := context.Background()
	base, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	for _, c := range []struct {
		name string
		url  string
		opts Options
		want int
	}{
		{"default", base, Options{}, DefaultMaxConns},
		{"url", pgtest.WithParam(t, base, "pool_max_conns", "3"), Options{}, 3},
		{"option", base, Options{MaxConns: 7}, 7},
		{"option over url", pgtest.WithParam(t, base, "pool_max_conns", "3"), Options{MaxConns: 5}, 5},
	} {
		s, err := OpenWith(ctx, c.url, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := s.DBStats().MaxOpenConnections; got != c.want {
			t.Errorf("%s: pool of %d connections, want %d", c.name, got, c.want)
		}
		s.Close()
	}
	if _, err := OpenWith(ctx, base, Options{MaxConns: -1}); err == nil {
		t.Error("a pool of -1 connections was accepted")
	}
}
