package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// Checkpoints. In WAL mode a commit appends to the WAL file, and a
// checkpoint copies the WAL back into the database file and fsyncs it.
// SQLite's default runs that checkpoint inside the commit that takes the
// WAL past 1,000 pages: every thousand pages, one webhook's commit also
// wrote and fsynced megabytes of database file, holding the single write
// connection meanwhile. That was the whole p99 of a message on this
// store (9 to 10 ms at p99 against 0.3 ms at p50 in
// BenchmarkHistoryAt10M, docs/benchmarks.md; 1.3 to 2.7 ms without it).
//
// So the writers' connection does not checkpoint while the checkpointer
// keeps up (its automatic checkpoint is set to walSafetyPages, far past
// what a second of writes adds, as a safety net should the checkpointer
// fail or be starved by readers), and a connection of its own runs a
// PASSIVE checkpoint every checkpointEvery: PASSIVE copies what no reader still needs without
// taking the write lock, so writers go on while it copies and fsyncs.
// The WAL file is reused from its start once a checkpoint has copied it
// all, so it stays about one interval of writes long. Durability is
// unchanged: a commit is in the WAL when it returns, checkpointed or not,
// and a process killed before a checkpoint leaves a WAL the next open
// replays. A process that opens the file some other way (the sqlite3
// shell, an older flowc) checkpoints as SQLite does by default.

const (
	// checkpointEvery is how often the checkpointer runs.
	checkpointEvery = time.Second
	// walSafetyPages is where a writer's commit checkpoints after all
	// (40 MB of 4 KiB pages): only when the checkpointer has not kept up.
	walSafetyPages = 10_000
	// walSizeLimit is the size the WAL file is cut back to after a
	// checkpoint that emptied it (a burst leaves no large file behind).
	walSizeLimit = 64 << 20
)

// checkpointer runs PASSIVE checkpoints on its own connection until
// stopped.
type checkpointer struct {
	db     *sql.DB
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startCheckpointer opens the checkpointer's connection to path and
// starts its loop.
func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, cancel: cancel}
	c.done.Go(func() {
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.checkpoint(ctx) // an error (the file busy in another process) waits for the next tick
			}
		}
	})
	return c, nil
}

// checkpoint runs one PASSIVE checkpoint and says how many WAL frames
// there were and how many are now in the database file.
func (c *checkpointer) checkpoint(ctx context.Context) (frames, copied int, err error) {
	var busy int
	err = c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, copied, err
}

// stop ends the loop and closes the connection.
func (c *checkpointer) stop() error {
	c.cancel()
	c.done.Wait()
	return c.db.Close()
}
