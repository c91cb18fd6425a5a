package sqlstore

import (
	"context"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

var _ store.RetentionTx = (*Tx)(nil)

// PruneMessages deletes the oldest limit messages received before
// before, found by the index on received (migration 00008), and their
// conversation starts. Inbox items keep copies of what they show, and
// the outbox refers to messages by SID without a foreign key, so neither
// needs the rows.
func (t *Tx) PruneMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, t.errorf("prune messages: a batch of %d", limit)
	}
	b, err := t.time(before)
	if err != nil {
		return 0, err
	}
	if b == nil {
		return 0, nil // nothing is before the zero time
	}
	// The starts go first, chosen by the same subquery as the messages;
	// a start a concurrent change left behind names no message and is
	// never listed (ConversationStarts joins messages).
	const batch = `SELECT sid FROM messages WHERE received < ? ORDER BY received LIMIT ?`
	if _, err := t.exec(ctx, `DELETE FROM conversation_starts WHERE sid IN (`+batch+`)`, b, limit); err != nil {
		return 0, t.errorf("prune messages: conversation starts: %w", err)
	}
	n, err := affected(t.exec(ctx, `DELETE FROM messages WHERE sid IN (`+batch+`)`, b, limit))
	if err != nil {
		return 0, t.errorf("prune messages: %w", err)
	}
	return int(n), nil
}
