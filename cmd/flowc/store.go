package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

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

// minRetention is the shortest FLOWC_RETENTION: a provider retries a
// webhook for minutes, and a stored message is what makes a retry change
// nothing (exactly once), so history is kept at least a day.
const minRetention = 24 * time.Hour

// retentionSetting reads FLOWC_RETENTION: how long messages (and their
// traces) are kept, as days ("90d") or a Go duration ("2160h"); unset:
// forever (0).
func retentionSetting() (time.Duration, error) {
	return parseRetention("FLOWC_RETENTION", os.Getenv("FLOWC_RETENTION"), "90d", "2160h", 0,
		"a stored message is what answers a provider's retry")
}

// parseRetention reads a retention setting named name: days such as
// the example dayEx or a Go duration such as durEx, at least
// minRetention (why says why); "" is unset.
func parseRetention(name, v, dayEx, durEx string, unset time.Duration, why string) (time.Duration, error) {
	if v == "" {
		return unset, nil
	}
	bad := fmt.Errorf("%s %q: want days such as %s, or a duration such as %s", name, v, dayEx, durEx)
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, bad
		}
		d = time.Duration(n) * minRetention
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, bad
		}
	}
	if d < minRetention {
		return 0, fmt.Errorf("%s %q: at least 24h (%s)", name, v, why)
	}
	return d, nil
}

const (
	// pruneBatch is how many messages one retention transaction deletes:
	// small, so that on SQLite it holds the write lock only briefly.
	pruneBatch = 1000
	// pruneEvery is how often retention runs.
	pruneEvery = time.Hour
)

// pruneOnce deletes, in batches of pruneBatch, every message received
// before before, then every call (with its steps) last changed before
// it, and says how many it deleted.
func pruneOnce(ctx context.Context, st store.Store, before time.Time) (int, error) {
	n, err := pruneBatches(ctx, st, func(tx store.Tx) (int, error) {
		r, ok := tx.(store.RetentionTx)
		if !ok {
			return 0, fmt.Errorf("store %T cannot prune messages", tx)
		}
		return r.PruneMessages(ctx, before, pruneBatch)
	})
	if err != nil {
		return n, err
	}
	calls, err := pruneBatches(ctx, st, func(tx store.Tx) (int, error) {
		c, ok := tx.(store.CallsTx)
		if !ok {
			return 0, nil // a store without calls
		}
		return c.PruneCalls(ctx, before, pruneBatch)
	})
	return n + calls, err
}

// pruneBatches runs prune, which deletes at most pruneBatch rows, in a
// transaction of its own until a batch deletes fewer, and says how many
// it deleted in all.
func pruneBatches(ctx context.Context, st store.Store, prune func(tx store.Tx) (int, error)) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n := 0
		err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			n, err = prune(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	return total, ctx.Err()
}

// startRetention prunes messages older than keep at start and then every
// pruneEvery, until ctx ends (keep 0: never). The returned function waits
// for it to stop, so that the store is closed after.
func startRetention(ctx context.Context, st store.Store, keep time.Duration, log *slog.Logger) (wait func()) {
	return retentionLoop(ctx, "messages", keep, func(ctx context.Context, before time.Time) (int, error) { return pruneOnce(ctx, st, before) }, log)
}

// historyRetentionSetting reads FLOWC_HISTORY_RETENTION: how long
// interactions (contact.last_texted_by …) and POST /v1/outbound's
// idempotency keys are kept, in FLOWC_RETENTION's format; unset: as long
// as messages (messages, FLOWC_RETENTION).
func historyRetentionSetting(messages time.Duration) (time.Duration, error) {
	return parseRetention("FLOWC_HISTORY_RETENTION", os.Getenv("FLOWC_HISTORY_RETENTION"), "365d", "8760h", messages,
		"an idempotency key must outlive a client's retries")
}

// pruneInteractionsOnce is pruneOnce for interactions (and outbound
// idempotency keys).
func pruneInteractionsOnce(ctx context.Context, st store.Store, before time.Time) (int, error) {
	return pruneBatches(ctx, st, func(tx store.Tx) (int, error) {
		h, ok := tx.(store.HistoryTx)
		if !ok {
			return 0, fmt.Errorf("store %T keeps no interactions", tx)
		}
		return h.PruneInteractions(ctx, before, pruneBatch)
	})
}

// startHistoryRetention prunes interactions older than keep, as
// startRetention prunes messages.
func startHistoryRetention(ctx context.Context, st store.Store, keep time.Duration, log *slog.Logger) (wait func()) {
	return retentionLoop(ctx, "interactions", keep, func(ctx context.Context, before time.Time) (int, error) {
		return pruneInteractionsOnce(ctx, st, before)
	}, log)
}

// retentionLoop runs prune for what is older than keep at start and then
// every pruneEvery, until ctx ends (keep 0: never).
func retentionLoop(ctx context.Context, what string, keep time.Duration, prune func(context.Context, time.Time) (int, error), log *slog.Logger) (wait func()) {
	if keep <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(pruneEvery)
		defer t.Stop()
		for {
			n, err := prune(ctx, time.Now().Add(-keep))
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				log.Error("retention: pruning old "+what+" failed; trying again later", "error", err.Error(), "deleted", n)
			case n > 0:
				log.Info("retention: pruned old "+what, "deleted", n, "retention", keep.String())
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { <-done }
}
