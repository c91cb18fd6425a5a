package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// TestDBMaxConnsSetting: FLOWC_DB_MAX_CONNS is a whole number from 1 to
// maxDBConns, unset is 0 (the store's default), and a bad value is an
// error naming the variable.
func TestDBMaxConnsSetting(t *testing.T) {
	for v, want := range map[string]int{"": 0, "1": 1, "16": 16, "1000": 1000} {
		if got, err := parseDBMaxConns(v); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"0", "-3", "1001", "16x", "many"} {
		if _, err := parseDBMaxConns(v); err == nil || !strings.Contains(err.Error(), "FLOWC_DB_MAX_CONNS") {
			t.Errorf("%q: %v, want an error naming FLOWC_DB_MAX_CONNS", v, err)
		}
	}
}

// TestRetentionSetting: FLOWC_RETENTION is days or a duration of at
// least a day; unset keeps everything; a bad value names the variable.
func TestRetentionSetting(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "2160h": 2160 * time.Hour} {
		t.Setenv("FLOWC_RETENTION", v)
		if got, err := retentionSetting(); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"0d", "-1d", "12h", "soon", "3x", "d"} {
		t.Setenv("FLOWC_RETENTION", v)
		if _, err := retentionSetting(); err == nil || !strings.Contains(err.Error(), "FLOWC_RETENTION") {
			t.Errorf("%q: %v, want an error naming FLOWC_RETENTION", v, err)
		}
	}
}

// TestPruneOnce: one retention run deletes every message older than its
// cut, over several batches, and keeps the newer ones.
func TestPruneOnce(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	old := 2*pruneBatch + 17
	err = st.InTx(ctx, func(tx store.Tx) error {
		for i := range old + 5 {
			received := now.Add(-100 * 24 * time.Hour).Add(time.Duration(i) * time.Second)
			if i >= old {
				received = now.Add(-time.Hour)
			}
			m := store.Message{SID: fmt.Sprintf("SM%d", i), From: "+15557654321", To: "+15550100", Outcome: "routed", Response: "{}", Received: received}
			if err := tx.InsertMessage(ctx, &m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := pruneOnce(ctx, st, now.Add(-90*24*time.Hour))
	if err != nil || n != old {
		t.Fatalf("pruneOnce: %d, %v; want %d", n, err, old)
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		for i := old; i < old+5; i++ {
			if _, err := tx.MessageBySID(ctx, fmt.Sprintf("SM%d", i)); err != nil {
				return fmt.Errorf("a recent message: %w", err)
			}
		}
		_, err := tx.MessageBySID(ctx, "SM0")
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("the oldest message: %v, want it pruned", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recordHandler sends every log record's message to a channel.
type recordHandler struct{ msgs chan string }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.msgs <- r.Message
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

// TestStartRetention: serve's retention prunes at start, says so in the
// log, and stops when its context ends (wait returns).
func TestStartRetention(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.InTx(ctx, func(tx store.Tx) error {
		return tx.InsertMessage(ctx, &store.Message{SID: "SMold", Outcome: "routed", Response: "{}", Received: time.Now().Add(-48 * time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	h := recordHandler{make(chan string, 10)}
	wait := startRetention(ctx, st, 24*time.Hour, slog.New(h))
	select {
	case msg := <-h.msgs:
		if !strings.Contains(msg, "pruned") {
			t.Errorf("retention logged %q, want that it pruned", msg)
		}
	case <-time.After(time.Minute): // a bound only: the first run is at start
		t.Fatal("retention did not run at start")
	}
	cancel()
	wait()
	if err := st.InTx(context.Background(), func(tx store.Tx) error {
		_, err := tx.MessageBySID(context.Background(), "SMold")
		return err
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the 2-day-old message after retention of 1 day: %v, want it pruned", err)
	}
	startRetention(context.Background(), st, 0, slog.New(h))() // off: returns at once
}
