package server_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// readerStore is what the server asks of the stores' step reads.
type readerStore interface {
	store.Store
	store.Reader
	store.StepReader
	store.HistoryReader
	store.EditsReader
}

// countingReads counts the contact's history and edits reads.
type countingReads struct {
	readerStore
	history, edits atomic.Int64
}

func (c *countingReads) ReadHistory(ctx context.Context, contact string, limit int) (*store.History, error) {
	c.history.Add(1)
	return c.readerStore.ReadHistory(ctx, contact, limit)
}

func (c *countingReads) ReadContactEdits(ctx context.Context, contact, number string) (*store.ContactEdits, error) {
	c.edits.Add(1)
	return c.readerStore.ReadContactEdits(ctx, contact, number)
}

func countingStore(t *testing.T, open func(*testing.T) store.Store) *countingReads {
	t.Helper()
	st := open(t)
	if st == nil {
		var err error
		if st, err = sqlite.Open(context.Background(), t.TempDir()+"/flowc.db"); err != nil {
			t.Fatal(err)
		}
	}
	return &countingReads{readerStore: st.(readerStore)}
}

// TestStepReadsOnlyWhatTheFlowCanRead: a flow that reads neither the
// contact's history nor its edits (its name is the directory's) costs no
// statement for them; one that reads its tags and fields and replies
// once per period reads its edits (not its history) and answers as
// before; one that reads the history reads it.
func TestStepReadsOnlyWhatTheFlowCanRead(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			t.Run("neither", func(t *testing.T) {
				st := countingStore(t, sc.open)
				h := startFlowOn(t, `numbers "+15550100"
reply "hi {{ contact.name ?? 'there' }}"
`, nil, st)
				for range 3 {
					if got := h.text(ann, "+15550100", "one"); got != twiml("hi Ann") {
						t.Fatalf("got %s", got)
					}
				}
				if n, m := st.history.Load(), st.edits.Load(); n != 0 || m != 0 {
					t.Errorf("%d history and %d edits reads, want none", n, m)
				}
			})
			t.Run("edits", func(t *testing.T) {
				st := countingStore(t, sc.open)
				h := startFlowOn(t, `numbers "+15550100"
reply "We're closed." once per 12h
when "vip" in contact.tags <
  untag "vip"
  field "plan" "pro"
  reply "vip"
  end
>
reply "plan {{ contact.fields.plan ?? 'none' }}"
`, nil, st)
				if got := h.text(ann, "+15550100", "one"); got != twiml("We're closed.", "vip") {
					t.Fatalf("first: %s", got)
				}
				h.clock.Set(h.clock.Now().Add(time.Hour))
				if got := h.text(ann, "+15550100", "two"); got != twiml("plan pro") {
					t.Fatalf("second (no closed reply, vip removed, field set): %s", got)
				}
				if n, m := st.history.Load(), st.edits.Load(); n != 0 || m != 2 {
					t.Errorf("%d history and %d edits reads, want 0 and 2", n, m)
				}
			})
			t.Run("history", func(t *testing.T) {
				st := countingStore(t, sc.open)
				h := startHistoryFlow(t, st, mostRecent, nil)
				for range 2 {
					if got := h.text(ann, histNumber, "hi"); got != twiml("owner alice") {
						t.Fatalf("got %s", got)
					}
				}
				if n, m := st.history.Load(), st.edits.Load(); n != 2 || m != 0 {
					t.Errorf("%d history and %d edits reads, want 2 and 0", n, m)
				}
			})
		})
	}
}
