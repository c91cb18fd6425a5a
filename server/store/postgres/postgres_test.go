package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
	"github.com/flowc-dev/flowc/server/store/storetest"
)

// Thin names for the shared helpers in pgtest.
func databaseURL(t *testing.T) string { return pgtest.URL(t) }
func freshSchema(t *testing.T, base string) string {
	u, _ := pgtest.FreshSchema(t, base)
	return u
}
func withParam(t *testing.T, base, key, value string) string {
	return pgtest.WithParam(t, base, key, value)
}

func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	base := databaseURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, freshSchema(t, base))
	})
}

func TestConformanceOutbox(t *testing.T) {
	base := databaseURL(t)
	storetest.RunOutbox(t, func(t *testing.T) store.Store {
		return open(t, freshSchema(t, base))
	})
}

func TestConformanceHistory(t *testing.T) {
	base := databaseURL(t)
	storetest.RunHistory(t, func(t *testing.T) store.Store {
		return open(t, freshSchema(t, base))
	})
}

func TestConformanceAdmin(t *testing.T) {
	base := databaseURL(t)
	storetest.RunAdmin(t, func(t *testing.T) store.Store {
		return open(t, freshSchema(t, base))
	})
}

func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.InTx(t.Context(), func(tx store.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// TestConcurrentMigrations: replicas starting together on a fresh schema
// all open it; the migrations ran once (goose's advisory lock).
func TestConcurrentMigrations(t *testing.T) {
	u := freshSchema(t, databaseURL(t))
	const n = 4
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), u) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var applied, distinct int
	if err := conn.QueryRow(t.Context(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).
		Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != distinct || applied == 0 {
		t.Errorf("goose_db_version: %d rows for %d migrations: applied more than once", applied, distinct)
	}
	// Every replica works.
	for i, s := range stores {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.AddContactTag(ctx, "+1555001", fmt.Sprint("replica", i))
		})
	}
	// And opening again migrates nothing and fails nothing.
	open(t, u).Close()
}

// TestLockAcrossReplicas: LockConversation serialises transactions of two
// stores (two pools, as two server replicas) on one database, and does
// not hold up another conversation.
func TestLockAcrossReplicas(t *testing.T) {
	u := freshSchema(t, databaseURL(t))
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	const contact, number = "+1555001", "+1555999"
	locked := make(chan struct{})
	release, rel := releaser()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer rel() // also when the test fails half way
	wg.Go(func() {
		inTx(t, a, func(ctx context.Context, tx store.Tx) error {
			if err := tx.LockConversation(ctx, contact, number); err != nil {
				return err
			}
			close(locked)
			<-release
			return tx.AddContactTag(ctx, contact, "first")
		})
	})
	<-locked
	// Another conversation of the same contact is not held up.
	done := make(chan error, 1)
	go func() {
		done <- b.InTx(t.Context(), func(tx store.Tx) error {
			return tx.LockConversation(t.Context(), contact, "+1555998")
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("another conversation: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("another conversation waited for the lock")
	}
	// The same conversation waits until a commits.
	second := make(chan []string, 1)
	wg.Go(func() {
		inTx(t, b, func(ctx context.Context, tx store.Tx) error {
			if err := tx.LockConversation(ctx, contact, number); err != nil {
				return err
			}
			tags, err := tx.ContactTags(ctx, contact)
			second <- tags
			return err
		})
	})
	select {
	case tags := <-second:
		t.Fatalf("the second replica took the lock while the first held it (saw tags %q)", tags)
	case <-time.After(200 * time.Millisecond):
	}
	rel()
	wg.Wait()
	if tags := <-second; len(tags) != 1 || tags[0] != "first" {
		t.Errorf("the second replica saw tags %q, want the first's commit", tags)
	}
}

// releaser returns a channel and a function closing it (once).
func releaser() (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }
}

// TestDueConversationsSkipLocked: two replicas claim disjoint due
// conversations without waiting for each other, and skip a conversation
// whose inbound message is in progress.
func TestDueConversationsSkipLocked(t *testing.T) {
	u := freshSchema(t, databaseURL(t))
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	base := storetest.T0.Truncate(time.Second)
	inTx(t, a, func(ctx context.Context, tx store.Tx) error {
		for i := range 5 {
			if err := tx.SaveConversation(ctx, &store.Conversation{Contact: fmt.Sprint("c", i), Number: "+1555999",
				Flow: "f", Version: "v", Deadline: base.Add(time.Duration(i) * time.Second), Updated: base}); err != nil {
				return err
			}
		}
		return nil
	})
	contacts := func(cs []store.Conversation) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Contact)
		}
		return strings.Join(s, " ")
	}
	now := base.Add(time.Minute)
	// An inbound message of c1 is in progress on a third connection.
	inbound := make(chan struct{})
	release, rel := releaser()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer rel()
	wg.Go(func() {
		inTx(t, b, func(ctx context.Context, tx store.Tx) error {
			if err := tx.LockConversation(ctx, "c1", "+1555999"); err != nil {
				return err
			}
			close(inbound)
			<-release
			return nil
		})
	})
	<-inbound
	claimed := make(chan struct{})
	wg.Go(func() {
		inTx(t, a, func(ctx context.Context, tx store.Tx) error {
			due, err := tx.DueConversations(ctx, now, 2)
			if err != nil {
				return err
			}
			if got := contacts(due); got != "c0" {
				t.Errorf("first scheduler claimed %q, want c0 (c1 is locked by an inbound message)", got)
			}
			// Its conversations' locks are held: this does not wait.
			if err := tx.LockConversation(ctx, "c0", "+1555999"); err != nil {
				return err
			}
			close(claimed)
			<-release
			return nil
		})
	})
	<-claimed
	inTx(t, b, func(ctx context.Context, tx store.Tx) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		due, err := tx.DueConversations(ctx, now, 10)
		if err != nil {
			return err
		}
		if got := contacts(due); got != "c2 c3 c4" {
			t.Errorf("second scheduler claimed %q, want c2 c3 c4", got)
		}
		return nil
	})
}

func TestDescribeHidesPassword(t *testing.T) {
	base := databaseURL(t)
	u, err := url.Parse(freshSchema(t, base))
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, u.String())
	defer s.Close()
	d := s.Describe()
	if !strings.HasPrefix(d, "postgres ") || !strings.Contains(d, "search_path flowc_test_") {
		t.Errorf("Describe() = %q", d)
	}
	// A URL with a password (wrong, and unreachable): the error must not
	// show it either.
	_, err = postgres.Open(t.Context(), "postgres://someone:s3cr3t-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("Open with a password: error %v", err)
	}
	if _, err = postgres.Open(t.Context(), "postgres://someone:s3cr3t-pw@[bad"); err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("Open of a malformed URL: error %v", err)
	}
}

// TestMissingSchema: a search_path naming no existing schema is refused
// with a clear error, not tables created elsewhere.
func TestMissingSchema(t *testing.T) {
	u := withParam(t, databaseURL(t), "search_path", "flowc_test_does_not_exist")
	_, err := postgres.Open(t.Context(), u)
	if err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("Open with a missing schema: %v", err)
	}
}

// TestNULInText: PostgreSQL text cannot hold NUL; the store says so
// instead of corrupting anything.
func TestNULInText(t *testing.T) {
	s := open(t, freshSchema(t, databaseURL(t)))
	defer s.Close()
	err := s.InTx(t.Context(), func(tx store.Tx) error {
		return tx.InsertMessage(t.Context(), &store.Message{SID: "SM1", Body: "a\x00b"})
	})
	if err == nil {
		t.Fatal("a body with NUL was stored")
	}
}

// TestClaimOutboxAcrossReplicas: senders of two replicas (two stores on
// one database) claiming the outbox at once never claim one item twice,
// and between them claim every item.
func TestClaimOutboxAcrossReplicas(t *testing.T) {
	u := freshSchema(t, databaseURL(t))
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	const items = 300
	base := storetest.T0.Truncate(time.Second)
	inTx(t, a, func(ctx context.Context, tx store.Tx) error {
		for i := range items {
			o := &store.OutboxItem{Kind: "sms", To: fmt.Sprint("+1555", i), From: "+1555999", Body: "hi",
				Contact: fmt.Sprint("+1555", i), Created: base, NotBefore: base}
			if err := tx.Enqueue(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	now := base.Add(time.Minute)
	var (
		mu      sync.Mutex
		claimed = map[int64]int{} // item: times claimed
		total   int
	)
	deadline := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for {
				mu.Lock()
				finished := total >= items
				mu.Unlock()
				if finished || time.Now().After(deadline) {
					return
				}
				var got []store.OutboxItem
				err := s.InTx(t.Context(), func(tx store.Tx) error {
					var err error
					got, err = tx.(store.OutboxTx).ClaimOutbox(t.Context(), store.OutboxClaim{Now: now, Lease: time.Hour, Limit: 7, OnePerDestination: w%2 == 1})
					time.Sleep(time.Millisecond) // hold the row locks a while
					return err
				})
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				mu.Lock()
				for _, it := range got {
					claimed[it.ID]++
					total++
					if it.Attempts != 1 {
						t.Errorf("worker %d claimed item %d with %d attempts", w, it.ID, it.Attempts)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("item %d was claimed %d times", id, n)
		}
	}
	if len(claimed) != items {
		t.Errorf("%d distinct items claimed, want %d", len(claimed), items)
	}
	// Nothing is left to claim while the leases run.
	inTx(t, a, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.(store.OutboxTx).ClaimOutbox(ctx, store.OutboxClaim{Now: now, Lease: time.Hour})
		if len(got) != 0 {
			t.Errorf("%d items claimable again before their lease ran out", len(got))
		}
		return err
	})
}

// TestDueExceptLeavesThemUnlocked: the conversations a claim leaves out
// (the scheduler's own in flight) are not locked by it, so a group
// commit of their steps, which takes their locks without waiting,
// does not find them taken and commit them apart; the others it returns
// are locked as DueConversations' are.
func TestDueExceptLeavesThemUnlocked(t *testing.T) {
	u := freshSchema(t, databaseURL(t))
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	base := storetest.T0.Truncate(time.Second)
	inTx(t, a, func(ctx context.Context, tx store.Tx) error {
		for i := range 3 {
			if err := tx.SaveConversation(ctx, &store.Conversation{Contact: fmt.Sprint("c", i), Number: "+1555999",
				Flow: "f", Version: "v", Deadline: base.Add(time.Duration(i) * time.Second), Updated: base}); err != nil {
				return err
			}
		}
		return nil
	})
	claimed := make(chan struct{})
	release, rel := releaser()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer rel()
	wg.Go(func() {
		inTx(t, a, func(ctx context.Context, tx store.Tx) error {
			due, err := tx.(store.DueExcepter).DueConversationsExcept(ctx, base.Add(time.Minute), 10, []store.ConversationKey{{Contact: "c0", Number: "+1555999"}})
			if err != nil {
				return err
			}
			if len(due) != 2 || due[0].Contact != "c1" || due[1].Contact != "c2" {
				t.Errorf("claimed %+v, want c1 and c2", due)
			}
			close(claimed)
			<-release
			return nil
		})
	})
	<-claimed
	inTx(t, b, func(ctx context.Context, tx store.Tx) error {
		held, err := tx.(store.ConversationTryLocker).TryLockConversations(ctx, []store.ConversationKey{{Contact: "c0", Number: "+1555999"}, {Contact: "c1", Number: "+1555999"}})
		if err != nil {
			return err
		}
		if !held[0] || held[1] {
			t.Errorf("while the claim is open: locks taken %v, want c0's (left out) and not c1's (claimed)", held)
		}
		return nil
	})
}
