package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/flowc-dev/flowc/server/store"
)

func revision(t *testing.T, s store.Store, contact, number string) int64 {
	t.Helper()
	var rev int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		rev, err = tx.ConversationRevision(ctx, contact, number)
		return err
	})
	return rev
}

func advance(t *testing.T, s store.Store, contact, number string, from int64) error {
	return txErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AdvanceRevision(ctx, contact, number, from) })
}

func testRevisions(t *testing.T, s store.Store) {
	const a, n = "+15550001111", "+15559990000"
	if got := revision(t, s, a, n); got != 0 {
		t.Fatalf("revision of a conversation never seen = %d, want 0", got)
	}
	if err := advance(t, s, a, n, 0); err != nil {
		t.Fatalf("AdvanceRevision from 0: %v", err)
	}
	if err := advance(t, s, a, n, 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AdvanceRevision from a stale 0: got %v, want ErrConflict", err)
	}
	if err := advance(t, s, a, n, 1); err != nil {
		t.Fatalf("AdvanceRevision from 1: %v", err)
	}
	if err := advance(t, s, a, n, 1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AdvanceRevision from a stale 1: got %v, want ErrConflict", err)
	}
	if err := advance(t, s, a, n, 7); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AdvanceRevision from a future 7: got %v, want ErrConflict", err)
	}
	if got := revision(t, s, a, n); got != 2 {
		t.Fatalf("revision after two advances = %d, want 2", got)
	}
	// Per conversation: the same contact on another number, another contact.
	if got := revision(t, s, a, "+15559990001"); got != 0 {
		t.Errorf("another number's revision = %d, want 0", got)
	}
	if got := revision(t, s, "+15550002222", n); got != 0 {
		t.Errorf("another contact's revision = %d, want 0", got)
	}
	// Ending the conversation keeps the revision (no ABA).
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SaveConversation(ctx, &store.Conversation{Contact: a, Number: n, Flow: "f", Version: "v1", State: []byte("{}")}); err != nil {
			return err
		}
		return tx.DeleteConversation(ctx, a, n)
	})
	if got := revision(t, s, a, n); got != 2 {
		t.Errorf("revision after the conversation was deleted = %d, want 2", got)
	}
	// A rolled-back advance is undone.
	rollback := errors.New("roll back")
	err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AdvanceRevision(ctx, a, n, 2); err != nil {
			return err
		}
		if got, err := tx.ConversationRevision(ctx, a, n); err != nil || got != 3 {
			t.Errorf("revision inside the advancing transaction = %d, %v; want 3", got, err)
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("InTx: %v", err)
	}
	if got := revision(t, s, a, n); got != 2 {
		t.Errorf("revision after a rolled-back advance = %d, want 2", got)
	}
}

// testConcurrentRevisions: writers that each read the revision in one
// transaction and advance it in another (as the server's steps do), and
// start over on ErrConflict, never both win from one revision: the
// number of successful advances is exactly the final revision.
func testConcurrentRevisions(t *testing.T, s store.Store) {
	const a, n = "+15550001111", "+15559990000"
	const writers, each = 6, 5
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won = map[int64]int{} // from-revision → successful advances from it
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				var rev int64
				if err := txErr(t, s, func(ctx context.Context, tx store.Tx) error {
					var err error
					rev, err = tx.ConversationRevision(ctx, a, n)
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				err := advance(t, s, a, n, rev)
				switch {
				case err == nil:
					done++
					mu.Lock()
					won[rev]++
					mu.Unlock()
				case !errors.Is(err, store.ErrConflict):
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for rev, k := range won {
		if k > 1 {
			t.Errorf("%d writers advanced from revision %d", k, rev)
		}
	}
	if got := revision(t, s, a, n); got != writers*each {
		t.Fatalf("revision after %d successful advances = %d (two writers won from one revision)", writers*each, got)
	}
}
