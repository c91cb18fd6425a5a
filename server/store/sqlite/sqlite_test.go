package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlstore"
	"github.com/flowc-dev/flowc/server/store/storetest"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "flowc.db"))
	})
}

func TestAdminConformance(t *testing.T) {
	storetest.RunAdmin(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "flowc.db"))
	})
}

func TestHistoryConformance(t *testing.T) {
	storetest.RunHistory(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "flowc.db"))
	})
}

func TestOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "flowc.db"))
	})
}

func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.InTx(t.Context(), func(tx store.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// TestReopen: what was committed is there after closing and opening the
// file again, and opening applies no migration twice.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir with spaces?#%", "flowc.db")
	if _, err := Open(t.Context(), path); err == nil {
		t.Fatalf("Open in a missing directory: no error")
	}
	path = filepath.Join(t.TempDir(), "odd ?name#%.db")
	s := open(t, path)
	m := store.Message{SID: "SM1", Body: "hello", Media: []string{"m"}, Trace: []byte("[]"), Received: storetest.T0}
	p := store.Program{Flow: "f", Version: "v1", Encoded: []byte{1, 2, 3}, Created: storetest.T0}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertMessage(ctx, &m); err != nil {
			return err
		}
		if err := tx.SaveProgram(ctx, &p); err != nil {
			return err
		}
		return tx.Activate(ctx, "f", "v1", []string{"+1555"}, storetest.T0)
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s = open(t, path)
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.MessageBySID(ctx, "SM1")
			if err != nil {
				return err
			}
			if got.Body != "hello" || !got.Received.Equal(m.Received) {
				t.Errorf("after reopening: %+v", got)
			}
			f, v, err := tx.Route(ctx, "+1555")
			if err != nil || f != "f" || v != "v1" {
				t.Errorf("Route after reopening: %q %q %v", f, v, err)
			}
			return nil
		})
		var n int
		if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		files, _ := fs.Glob(migrations, "migrations/*.sql")
		if want := len(files); n != want {
			t.Errorf("goose_db_version has %d applied migrations, want %d", n, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSettings: the connection is in WAL mode with the settings the
// package documents.
func TestSettings(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "flowc.db"))
	defer s.Close()
	for pragma, want := range map[string]string{
		"journal_mode":       "wal",
		"synchronous":        "1", // NORMAL
		"foreign_keys":       "1",
		"busy_timeout":       "2000",     // busyTimeout
		"wal_autocheckpoint": "10000",    // checkpoint.go's walSafetyPages
		"journal_size_limit": "67108864", // walSizeLimit
	} {
		var got string
		if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

// TestTimesExact: times round-trip to the nanosecond, in UTC.
func TestTimesExact(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "flowc.db"))
	defer s.Close()
	at := time.Date(2031, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", -7*3600-1800))
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertMessage(ctx, &store.Message{SID: "SM1", Received: at}); err != nil {
			return err
		}
		return tx.SaveConversation(ctx, &store.Conversation{Contact: "c", Number: "n", Deadline: at, Updated: at.Add(1)})
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		m, err := tx.MessageBySID(ctx, "SM1")
		if err != nil {
			return err
		}
		if !m.Received.Equal(at) || m.Received.Location() != time.UTC {
			t.Errorf("Received = %v, want %v in UTC", m.Received, at)
		}
		due, err := tx.DueConversations(ctx, at, 0)
		if err != nil {
			return err
		}
		if len(due) != 1 || !due[0].Deadline.Equal(at) || !due[0].Updated.Equal(at.Add(1)) {
			t.Errorf("DueConversations(at) = %+v", due)
		}
		if due, _ := tx.DueConversations(ctx, at.Add(-1), 0); len(due) != 0 {
			t.Errorf("DueConversations a nanosecond early = %+v", due)
		}
		return nil
	})
	err := s.InTx(t.Context(), func(tx store.Tx) error {
		return tx.InsertMessage(t.Context(), &store.Message{SID: "SM2", Received: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)})
	})
	if err == nil {
		t.Errorf("a time past 2262 was stored")
	}
}

// TestTwoStores: two Stores on one file (as two processes would be)
// contend through SQLite's file locks; busy_timeout and InTx's retries
// see every transaction through.
func TestTwoStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flowc.db")
	a, b := open(t, path), open(t, path)
	defer a.Close()
	defer b.Close()
	const n = 40
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int]bool{}
	)
	for g := range n {
		s := a
		if g%2 == 1 {
			s = b
		}
		wg.Go(func() {
			err := s.InTx(t.Context(), func(tx store.Tx) error {
				i, err := tx.NextRoundRobin(t.Context(), "team", 1000)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				if seen[i] {
					return errors.New("index seen twice")
				}
				seen[i] = true
				return nil
			})
			if err != nil {
				t.Errorf("InTx: %v", err)
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d distinct indexes, want %d", len(seen), n)
	}
}

func TestIsBusy(t *testing.T) {
	if isBusy(errors.New("x")) || isBusy(nil) || isBusy(store.ErrNotFound) {
		t.Errorf("isBusy of a non-SQLite error")
	}
}

// TestAdminReadDoesNotBlockWrites: while an admin read (InReadTx) is open
// and has read, a write transaction commits; the read goes on seeing the
// snapshot it began with (WAL), and the next read sees the write. Were
// the read on the single write connection, the write would wait for it
// (here: until the context's generous bound, and fail).
func TestAdminReadDoesNotBlockWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "flowc.db"))
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	setting := func(tx store.Tx) string {
		v, err := tx.(store.OutboxTx).Setting(ctx, "k")
		if err != nil {
			t.Fatalf("setting: %v", err)
		}
		return v
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.(store.OutboxTx).SetSetting(ctx, "k", "before")
	})
	err := s.InReadTx(ctx, func(rtx store.Tx) error {
		if v := setting(rtx); v != "before" {
			t.Errorf("the read saw %q, want before", v)
		}
		if err := s.InTx(ctx, func(wtx store.Tx) error { return wtx.(store.OutboxTx).SetSetting(ctx, "k", "after") }); err != nil {
			return fmt.Errorf("a write while an admin read is open: %w", err)
		}
		if v := setting(rtx); v != "before" {
			t.Errorf("the open read saw %q after the write, want its snapshot's before", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InReadTx(ctx, func(rtx store.Tx) error {
		if v := setting(rtx); v != "after" {
			t.Errorf("a new read saw %q, want after", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestUnroutedNumbersUsesItsIndex: the unrouted numbers' query reads the
// partial index of no-flow messages (migration 00008), not the messages
// table.
func TestUnroutedNumbersUsesItsIndex(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "flowc.db"))
	defer s.Close()
	rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+sqlstore.UnroutedNumbersQuery(dialect), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "\n")
	if !strings.Contains(joined, "messages_no_flow") || strings.Contains(joined, "SCAN m\n") || strings.HasSuffix(joined, "SCAN m") {
		t.Errorf("plan of the unrouted numbers:\n%s\nwant a search of messages_no_flow", joined)
	}
}

// TestDueConversationsReadsItsIndexInOrder: the timer scheduler's claim
// reads the due conversations from conversations_due in the claim's own
// order, with no sort of all the rows due (a backlog of 200,000 due at
// once was sorted again at every claim of 512).
func TestDueConversationsReadsItsIndexInOrder(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "flowc.db"))
	defer s.Close()
	rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+sqlstore.DueConversationsQuery(dialect), 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "\n")
	if !strings.Contains(joined, "conversations_due") || strings.Contains(joined, "TEMP B-TREE") {
		t.Errorf("plan of the due conversations:\n%s\nwant conversations_due, in order (no temp b-tree)", joined)
	}
}
