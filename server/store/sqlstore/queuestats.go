package sqlstore

import (
	"context"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

var _ store.QueueStatsReader = (*DB)(nil)

// QueueWaiting counts each team's waiting and offered tickets and finds
// the oldest one's since (queue_tickets_team covers it).
func (db *DB) QueueWaiting(ctx context.Context) (map[string]store.QueueWaiting, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT team, COUNT(*), MIN(since) FROM queue_tickets
		WHERE status IN ('waiting', 'offered') GROUP BY team`)
	if err != nil {
		return nil, db.readErr("queues waiting", err)
	}
	defer rows.Close()
	out := map[string]store.QueueWaiting{}
	for rows.Next() {
		var team string
		var n int
		var oldest time.Time
		if err := rows.Scan(&team, &n, scanTime(&oldest)); err != nil {
			return nil, db.readErr("queues waiting", err)
		}
		out[team] = store.QueueWaiting{Waiting: n, Oldest: oldest}
	}
	if err := rows.Err(); err != nil {
		return nil, db.readErr("queues waiting", err)
	}
	return out, nil
}
