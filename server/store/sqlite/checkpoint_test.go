package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// TestCommitsDoNotCheckpoint: a transaction that takes the WAL well past
// SQLite's default checkpoint size (1,000 pages) commits without
// checkpointing (its frames are all still in the WAL), and the
// checkpointer's PASSIVE checkpoint then copies every frame into the
// database file; the data reads back after a reopen.
func TestCommitsDoNotCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flowc.db")
	s := open(t, path)
	body := strings.Repeat("x", 4096)
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 1500 {
			if err := tx.InsertMessage(ctx, &store.Message{SID: fmt.Sprintf("SM%d", i), Body: body, Received: at}); err != nil {
				return err
			}
		}
		return nil
	})
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if n := size(); n > 1<<20 {
		t.Errorf("the database file is %d bytes after 6 MB of commits: a commit checkpointed", n)
	}
	frames, copied, err := s.ckpt.checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if frames < 1500 || copied != frames {
		t.Errorf("the checkpoint copied %d of %d frames, want all of at least 1500", copied, frames)
	}
	if n := size(); n < 6<<20 {
		t.Errorf("the database file is %d bytes after the checkpoint, want the 6 MB written", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	defer s.Close()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		m, err := tx.MessageBySID(ctx, "SM1499")
		if err != nil || m.Body != body {
			t.Errorf("after a reopen, SM1499: %v", err)
		}
		return nil
	})
}
