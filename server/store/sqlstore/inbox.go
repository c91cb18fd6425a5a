package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

func (t *Tx) AddInboxItem(ctx context.Context, it *store.InboxItem) error {
	times, err := t.times(it.Created, it.DoneAt)
	if err != nil {
		return err
	}
	msgs, err := store.EncodeInboxMessages(it.Messages)
	if err != nil {
		return err
	}
	return t.insertInto(ctx, &it.ID, wrapped(func(err error) error { return t.errorf("add inbox item: %w", err) }), `
		INSERT INTO inbox_items (target_kind, target_name, assignee, message_sid, contact, number, body, flow, created, done, done_at,
			messages, messages_omitted)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		it.TargetKind, it.TargetName, it.Assignee, it.MessageSID, it.Contact, it.Number, it.Body, it.Flow,
		times[0], it.Done, times[1], msgs, it.MessagesOmitted)
}

// InboxItems lists the items sent to the target, oldest (lowest ID) first.
func (t *Tx) InboxItems(ctx context.Context, targetKind, targetName string, includeDone bool) ([]store.InboxItem, error) {
	items, _, err := t.inbox(ctx, targetKind, targetName, includeDone, 0, 0)
	return items, err
}

// InboxPage lists at most limit of the target's items with an ID above
// after, by ID, and the ID to pass as after for the next page (0 when
// this is the last). It reads the index on (target_kind, target_name,
// done, id) from after on, however many items there are before.
func (t *Tx) InboxPage(ctx context.Context, targetKind, targetName string, includeDone bool, after int64, limit int) ([]store.InboxItem, int64, error) {
	if limit <= 0 {
		return nil, 0, t.errorf("inbox page of %d items", limit)
	}
	return t.inbox(ctx, targetKind, targetName, includeDone, after, limit)
}

func (t *Tx) inbox(ctx context.Context, targetKind, targetName string, includeDone bool, after int64, limit int) ([]store.InboxItem, int64, error) {
	q := `SELECT id, target_kind, target_name, assignee, message_sid, contact, number, body, flow, created, done, done_at,
			messages, messages_omitted
		FROM inbox_items WHERE target_kind = ? AND target_name = ? AND id > ?`
	if !includeDone {
		q += ` AND done = false`
	}
	// One more than asked for, to know whether there is a next page.
	lim := int64(noLimit)
	if limit > 0 {
		lim = int64(limit) + 1
	}
	rows, err := t.query(ctx, q+` ORDER BY id LIMIT ?`, targetKind, targetName, after, lim)
	items, err := collect(rows, err, func(r *sql.Rows) (store.InboxItem, error) {
		var (
			it   store.InboxItem
			msgs string
		)
		if err := r.Scan(&it.ID, &it.TargetKind, &it.TargetName, &it.Assignee, &it.MessageSID, &it.Contact,
			&it.Number, &it.Body, &it.Flow, scanTime(&it.Created), &it.Done, scanTime(&it.DoneAt), &msgs, &it.MessagesOmitted); err != nil {
			return it, err
		}
		var err error
		if it.Messages, err = store.DecodeInboxMessages(msgs); err != nil {
			return it, fmt.Errorf("inbox item %d: %w", it.ID, err)
		}
		return it, nil
	})
	if err != nil {
		return nil, 0, t.errorf("inbox %s %s: %w", targetKind, targetName, err)
	}
	var next int64
	if limit > 0 && len(items) > limit {
		items = items[:limit]
		next = items[limit-1].ID
	}
	return items, next, nil
}

// MarkInboxDone marks the item done at at; an item already done keeps its
// first DoneAt. ErrNotFound if there is no such item.
func (t *Tx) MarkInboxDone(ctx context.Context, id int64, at time.Time) error {
	a, err := t.time(at)
	if err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `
		UPDATE inbox_items SET done_at = CASE WHEN done = false THEN ? ELSE done_at END, done = true
		WHERE id = ?`, a, id))
	if err != nil {
		return t.errorf("mark inbox item %d done: %w", id, err)
	}
	if n == 0 {
		return t.errorf("inbox item %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// OpenItemCounts counts the not-done items assigned (Assignee) to each of
// users; every user is in the map, with 0 when they have none.
func (t *Tx) OpenItemCounts(ctx context.Context, users []string) (map[string]int, error) {
	counts := make(map[string]int, len(users))
	args := make([]any, 0, len(users))
	for _, u := range users {
		if _, dup := counts[u]; !dup {
			counts[u] = 0
			args = append(args, u)
		}
	}
	if len(args) == 0 {
		return counts, nil
	}
	rows, err := t.query(ctx, `SELECT assignee, count(*) FROM inbox_items WHERE done = false AND assignee IN `+
		list(len(args))+` GROUP BY assignee`, args...)
	type count struct {
		user string
		n    int
	}
	cs, err := collect(rows, err, func(r *sql.Rows) (count, error) {
		var c count
		return c, r.Scan(&c.user, &c.n)
	})
	if err != nil {
		return nil, t.errorf("open item counts: %w", err)
	}
	for _, c := range cs {
		counts[c.user] = c.n
	}
	return counts, nil
}
