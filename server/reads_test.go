package server_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime"
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

// countingFolded is countingReads whose step reads may fold the
// history and the edits in (store.StepReaderWith), counting those.
type countingFolded struct {
	*countingReads
	foldedHistory, foldedEdits atomic.Int64
}

func (c *countingFolded) ReadStepWith(ctx context.Context, contact, number, sid string, with store.StepReads) (*store.StepState, error) {
	if with.History {
		c.foldedHistory.Add(1)
	}
	if with.Edits {
		c.foldedEdits.Add(1)
	}
	return c.readerStore.(store.StepReaderWith).ReadStepWith(ctx, contact, number, sid, with)
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
// before; one that reads the history reads it. On a store that folds
// them into the step's statement (store.StepReaderWith) they are read
// there, with the same answers, and never apart.
func TestStepReadsOnlyWhatTheFlowCanRead(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) { testStepReads(t, sc.open, false) })
		t.Run(sc.name+"/folded", func(t *testing.T) { testStepReads(t, sc.open, true) })
	}
}

func testStepReads(t *testing.T, open func(*testing.T) store.Store, folded bool) {
	// wrap is st as the server gets it, and the reads it counts: the
	// history's and the edits', apart and folded.
	wrap := func(st *countingReads) (store.Store, func() [4]int64) {
		if !folded {
			return st, func() [4]int64 { return [4]int64{st.history.Load(), st.edits.Load()} }
		}
		f := &countingFolded{countingReads: st}
		return f, func() [4]int64 {
			return [4]int64{st.history.Load(), st.edits.Load(), f.foldedHistory.Load(), f.foldedEdits.Load()}
		}
	}
	want := func(history, edits int64) [4]int64 {
		if folded { // the first message comes before the route table is in memory: nothing to guess from, read apart
			return [4]int64{min(history, 1), min(edits, 1), max(history-1, 0), max(edits-1, 0)}
		}
		return [4]int64{history, edits}
	}
	t.Run("neither", func(t *testing.T) {
		st, reads := wrap(countingStore(t, open))
		h := startFlowOn(t, `numbers "+15550100"
reply "hi {{ contact.name ?? 'there' }}"
`, nil, st)
		for range 3 {
			if got := h.text(ann, "+15550100", "one"); got != twiml("hi Ann") {
				t.Fatalf("got %s", got)
			}
		}
		if got := reads(); got != want(0, 0) {
			t.Errorf("history and edits reads (apart, folded): %v, want none", got)
		}
	})
	t.Run("edits", func(t *testing.T) {
		st, reads := wrap(countingStore(t, open))
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
		if got := reads(); got != want(0, 2) {
			t.Errorf("history and edits reads (apart, folded): %v, want %v", got, want(0, 2))
		}
	})
	t.Run("history", func(t *testing.T) {
		st, reads := wrap(countingStore(t, open))
		h := startHistoryFlow(t, st, mostRecent, nil)
		for range 2 {
			if got := h.text(ann, histNumber, "hi"); got != twiml("owner alice") {
				t.Fatalf("got %s", got)
			}
		}
		if got := reads(); got != want(2, 0) {
			t.Errorf("history and edits reads (apart, folded): %v, want %v", got, want(2, 0))
		}
	})
}

// BenchmarkStepReadFolded compares a step's read of a contact with a
// history and edits as one statement (store.StepReaderWith) and as three
// (ReadStep, ReadHistory, ReadContactEdits), on SQLite and, with
// FLOWC_TEST_DATABASE_URL, PostgreSQL:
//
//	go test ./server -run '^$' -bench StepReadFolded -benchtime 2000x
func BenchmarkStepReadFolded(b *testing.B) {
	type backend struct {
		name string
		open func(b *testing.B) store.Store
	}
	backends := []backend{{"sqlite", func(b *testing.B) store.Store { return openStore(b) }}}
	if base := os.Getenv("FLOWC_TEST_DATABASE_URL"); base != "" {
		backends = append(backends, backend{"postgres", func(b *testing.B) store.Store { return openPG(b, schemaURL(b, base)) }})
	}
	const contact, number = "+15550123456", "+15550100"
	for _, be := range backends {
		st := be.open(b).(readerStore)
		ctx := context.Background()
		err := st.InTx(ctx, func(tx store.Tx) error {
			ht, et := tx.(store.HistoryTx), tx.(store.EditsTx)
			for i := range 60 {
				in := store.Interaction{Contact: contact, Number: number, At: time.Unix(1_700_000_000+int64(i)*60, 0), Kind: "sms", Direction: "outbound"}
				if i%7 == 1 {
					in.User = "alice"
				}
				if err := ht.RecordInteraction(ctx, &in); err != nil {
					return err
				}
			}
			if err := et.SetContactField(ctx, contact, "plan", "pro"); err != nil {
				return err
			}
			return et.UntagContact(ctx, contact, "vip")
		})
		if err != nil {
			b.Fatal(err)
		}
		with := store.StepReads{History: true, HistoryLimit: runtime.MaxInteractions, Edits: true}
		b.Run(be.name+"/apart", func(b *testing.B) {
			cpu0 := processCPU()
			for range b.N {
				if _, err := st.ReadStep(ctx, contact, number, "SM1"); err != nil {
					b.Fatal(err)
				}
				if _, err := st.ReadHistory(ctx, contact, runtime.MaxInteractions); err != nil {
					b.Fatal(err)
				}
				if _, err := st.ReadContactEdits(ctx, contact, number); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
		b.Run(be.name+"/folded", func(b *testing.B) {
			cpu0 := processCPU()
			for range b.N {
				if _, err := st.(store.StepReaderWith).ReadStepWith(ctx, contact, number, "SM1", with); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}
