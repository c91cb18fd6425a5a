package store

import (
	"context"
	"time"
)

// QueueWaiting is a team's queue as its statistics need it: how many
// conversations wait in it (waiting or offered) and since when the
// oldest of them has (zero: none waits).
type QueueWaiting struct {
	Waiting int
	Oldest  time.Time
}

// QueueStatsReader reads what the queue statistics add to the counters
// (QueueReader.QueueStats), for every team at once: one aggregate query
// per admin call or metrics scrape, however long the queues are.
type QueueStatsReader interface {
	// QueueWaiting is each team's waiting summary, for the teams with
	// at least one conversation waiting or offered.
	QueueWaiting(ctx context.Context) (map[string]QueueWaiting, error)
}
