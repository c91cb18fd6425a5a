package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// The queues' tables (store.QueueTx, store.QueueReader; migration
// 00015): queue_tickets and queue_offers index the queued
// conversations, queue_teams, queue_members and queue_stats hold what
// the decisions and the statistics read, conversation_notes the notes.

var (
	_ store.QueueTx     = (*Tx)(nil)
	_ store.QueueReader = (*DB)(nil)
)

// LockQueue takes team's advisory lock (none where writers are exclusive).
func (t *Tx) LockQueue(ctx context.Context, team string) error {
	if err := t.lock(ctx, LockKey("queue", team)); err != nil {
		return t.errorf("lock queue %s: %w", team, err)
	}
	return nil
}

// QueueTeam reads team's memory, waiting count and members' counters.
func (t *Tx) QueueTeam(ctx context.Context, team string, members []string, contact, number string) (*store.QueueTeam, error) {
	return queueTeam(ctx, t.query, team, members, contact, number)
}

type querier func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

// queueTeamQuery reads a team in one statement: its memory, its waiting
// count, and (one row each) the members' counters asked about.
const queueTeamQuery = `
	SELECT 'm', COALESCE((SELECT memory FROM queue_teams WHERE team = ?), ''),
		(SELECT COUNT(*) FROM queue_tickets WHERE team = ? AND status IN ('waiting', 'offered') AND NOT (contact = ? AND number = ?)), NULL`

func queueTeam(ctx context.Context, query querier, team string, members []string, contact, number string) (*store.QueueTeam, error) {
	q := queueTeamQuery
	args := []any{team, team, contact, number}
	if len(members) > 0 {
		q += ` UNION ALL SELECT 'u', user_name, handled, last_done FROM queue_members WHERE user_name IN ` + list(len(members))
		for _, m := range members {
			args = append(args, m)
		}
	}
	rows, err := query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	qt := &store.QueueTeam{}
	for rows.Next() {
		var kind, name string
		var n int
		var at time.Time
		if err := rows.Scan(&kind, &name, &n, scanTime(&at)); err != nil {
			return nil, err
		}
		if kind == "m" {
			qt.Memory, qt.Waiting = name, n
			continue
		}
		if qt.Members == nil {
			qt.Members = map[string]store.QueueMember{}
		}
		qt.Members[name] = store.QueueMember{Handled: n, LastDone: at}
	}
	return qt, rows.Err()
}

// SaveQueueTicket replaces the conversation's ticket and its offers.
// Its statements are writes a pipeline queues (pipeline.go): a held
// conversation's ticket is saved at every step that keeps it, and a
// statement answered at once here would send the batch's pipeline in
// pieces, a round trip per step.
func (t *Tx) SaveQueueTicket(ctx context.Context, q *store.QueueTicket) error {
	ts, err := t.times(q.Started, q.Since, q.Updated)
	if err != nil {
		return err
	}
	contact, number := q.Contact, q.Number
	if err := t.write(ctx, Queued{SQL: `
		INSERT INTO queue_tickets (contact, number, started, team, status, assignee, since, updated, flow)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (contact, number) DO UPDATE SET started = excluded.started, team = excluded.team,
			status = excluded.status, assignee = excluded.assignee, since = excluded.since,
			updated = excluded.updated, flow = excluded.flow`,
		Args:  []any{q.Contact, q.Number, ts[0], q.Team, q.Status, q.Assignee, ts[1], ts[2], q.Flow},
		Check: wrapped(func(err error) error { return t.errorf("save queue ticket of %s/%s: %w", contact, number, err) })}); err != nil {
		return err
	}
	if q.OffersKept {
		return nil
	}
	offersErr := wrapped(func(err error) error { return t.errorf("save queue offers of %s/%s: %w", contact, number, err) })
	if err := t.write(ctx, Queued{SQL: `DELETE FROM queue_offers WHERE contact = ? AND number = ?`, Args: []any{contact, number},
		Check: offersErr}); err != nil {
		return err
	}
	for _, u := range q.Offered {
		if err := t.write(ctx, Queued{SQL: `INSERT INTO queue_offers (user_name, contact, number) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			Args: []any{u, contact, number}, Check: offersErr}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteQueueTicket removes the conversation's ticket and offers
// (pipelined writes, as SaveQueueTicket's).
func (t *Tx) DeleteQueueTicket(ctx context.Context, contact, number string) error {
	check := wrapped(func(err error) error { return t.errorf("delete queue ticket of %s/%s: %w", contact, number, err) })
	for _, q := range []string{`DELETE FROM queue_offers WHERE contact = ? AND number = ?`, `DELETE FROM queue_tickets WHERE contact = ? AND number = ?`} {
		if err := t.write(ctx, Queued{SQL: q, Args: []any{contact, number}, Check: check}); err != nil {
			return err
		}
	}
	return nil
}

// SetQueueMemory stores team's round-robin memory.
func (t *Tx) SetQueueMemory(ctx context.Context, team, memory string) error {
	return t.write(ctx, Queued{SQL: `INSERT INTO queue_teams (team, memory) VALUES (?, ?)
		ON CONFLICT (team) DO UPDATE SET memory = excluded.memory`, Args: []any{team, memory},
		Check: wrapped(func(err error) error { return t.errorf("queue memory of %s: %w", team, err) })})
}

// QueueMemberDone counts a finish.
func (t *Tx) QueueMemberDone(ctx context.Context, user string, at time.Time) error {
	a, err := t.time(at)
	if err != nil {
		return err
	}
	return t.write(ctx, Queued{SQL: `INSERT INTO queue_members (user_name, handled, last_done) VALUES (?, 1, ?)
		ON CONFLICT (user_name) DO UPDATE SET handled = queue_members.handled + 1, last_done = excluded.last_done`, Args: []any{user, a},
		Check: wrapped(func(err error) error { return t.errorf("queue member %s: %w", user, err) })})
}

// AddQueueStats adds to team's counters, in name order (so that two
// transactions take the rows' locks in one order).
func (t *Tx) AddQueueStats(ctx context.Context, team string, deltas map[string]int) error {
	names := make([]string, 0, len(deltas))
	for n, d := range deltas {
		if d != 0 {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	check := wrapped(func(err error) error { return t.errorf("queue stats of %s: %w", team, err) })
	for _, n := range names {
		if err := t.write(ctx, Queued{SQL: `INSERT INTO queue_stats (team, name, n) VALUES (?, ?, ?)
			ON CONFLICT (team, name) DO UPDATE SET n = queue_stats.n + excluded.n`, Args: []any{team, n, deltas[n]}, Check: check}); err != nil {
			return err
		}
	}
	return nil
}

// AddConversationNote stores a note.
func (t *Tx) AddConversationNote(ctx context.Context, n *store.ConversationNote) error {
	ts, err := t.times(n.Started, n.Created)
	if err != nil {
		return err
	}
	id, err := t.insert(ctx, `INSERT INTO conversation_notes (contact, number, started, user_name, body, created) VALUES (?, ?, ?, ?, ?, ?)`,
		n.Contact, n.Number, ts[0], n.User, n.Body, ts[1])
	if err != nil {
		return t.errorf("note on %s/%s: %w", n.Contact, n.Number, err)
	}
	n.ID = id
	return nil
}

// Reads, on the read pool.

const ticketColumns = `t.contact, t.number, t.started, t.team, t.status, t.assignee, t.since, t.updated, t.flow, COALESCE(o.user_name, '')`

// scanTickets groups rows of tickets joined to their offers (ordered so
// that a ticket's rows are together).
func scanTickets(rows *sql.Rows, err error) ([]store.QueueTicket, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.QueueTicket
	for rows.Next() {
		var q store.QueueTicket
		var offered string
		if err := rows.Scan(&q.Contact, &q.Number, scanTime(&q.Started), &q.Team, &q.Status, &q.Assignee,
			scanTime(&q.Since), scanTime(&q.Updated), &q.Flow, &offered); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].Contact == q.Contact && out[n-1].Number == q.Number {
			if offered != "" {
				out[n-1].Offered = append(out[n-1].Offered, offered)
			}
			continue
		}
		if offered != "" {
			q.Offered = []string{offered}
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

func (db *DB) readErr(what string, err error) error {
	return errors.Join(errors.New(db.d.Name+": "+what), err)
}

// QueueTicket reads one conversation's ticket.
func (db *DB) QueueTicket(ctx context.Context, contact, number string) (*store.QueueTicket, error) {
	rows, err := db.r.QueryContext(ctx, db.rebind(`SELECT `+ticketColumns+` FROM queue_tickets t
		LEFT JOIN queue_offers o ON o.contact = t.contact AND o.number = t.number
		WHERE t.contact = ? AND t.number = ? ORDER BY o.user_name`), contact, number)
	ts, err := scanTickets(rows, err)
	if err != nil {
		return nil, db.readErr("queue ticket of "+contact, err)
	}
	if len(ts) == 0 {
		return nil, store.ErrNotFound
	}
	return &ts[0], nil
}

// UserTickets are the tickets offered or assigned to user.
func (db *DB) UserTickets(ctx context.Context, user string) ([]store.QueueTicket, error) {
	rows, err := db.r.QueryContext(ctx, db.rebind(`SELECT `+ticketColumns+` FROM queue_tickets t
		LEFT JOIN queue_offers o ON o.contact = t.contact AND o.number = t.number
		WHERE t.assignee = ? OR EXISTS (SELECT 1 FROM queue_offers m WHERE m.user_name = ? AND m.contact = t.contact AND m.number = t.number)
		ORDER BY t.since, t.contact, t.number, o.user_name`), user, user)
	ts, err := scanTickets(rows, err)
	if err != nil {
		return nil, db.readErr("queue tickets of "+user, err)
	}
	return ts, nil
}

// TeamTickets are team's tickets, oldest first.
func (db *DB) TeamTickets(ctx context.Context, team string, waitingOnly bool, limit int) ([]store.QueueTicket, error) {
	cond := ``
	if waitingOnly {
		cond = ` AND t.status IN ('waiting', 'offered')`
	}
	rows, err := db.r.QueryContext(ctx, db.rebind(`SELECT `+ticketColumns+` FROM (SELECT * FROM queue_tickets WHERE team = ?`+
		replaceAll(cond, "t.", "")+` ORDER BY since, contact, number LIMIT ?) t
		LEFT JOIN queue_offers o ON o.contact = t.contact AND o.number = t.number
		ORDER BY t.since, t.contact, t.number, o.user_name`), team, limitOrAll(limit))
	ts, err := scanTickets(rows, err)
	if err != nil {
		return nil, db.readErr("queue of "+team, err)
	}
	return ts, nil
}

// QueueStats reads every team's counters.
func (db *DB) QueueStats(ctx context.Context) (map[string]map[string]int64, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT team, name, n FROM queue_stats`)
	if err != nil {
		return nil, db.readErr("queue stats", err)
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for rows.Next() {
		var team, name string
		var n int64
		if err := rows.Scan(&team, &name, &n); err != nil {
			return nil, db.readErr("queue stats", err)
		}
		if out[team] == nil {
			out[team] = map[string]int64{}
		}
		out[team][name] = n
	}
	return out, rows.Err()
}

// ConversationNotes reads a conversation's notes.
func (db *DB) ConversationNotes(ctx context.Context, contact, number string, started time.Time) ([]store.ConversationNote, error) {
	st, err := db.d.Time(started)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, db.rebind(`SELECT id, user_name, body, created FROM conversation_notes
		WHERE contact = ? AND number = ? AND started = ? ORDER BY id`), contact, number, st)
	notes, err := collect(rows, err, func(r *sql.Rows) (store.ConversationNote, error) {
		n := store.ConversationNote{Contact: contact, Number: number, Started: started}
		return n, r.Scan(&n.ID, &n.User, &n.Body, scanTime(&n.Created))
	})
	if err != nil {
		return nil, db.readErr("notes of "+contact, err)
	}
	return notes, nil
}

// InboxItemHolder is who an inbox item went to, and its conversation
// (store.QueueTx): what marking it done needs to end the conversation
// its inbox holds.
func (t *Tx) InboxItemHolder(ctx context.Context, id int64) (*store.InboxItem, error) {
	it := &store.InboxItem{ID: id}
	err := t.queryRow(ctx, `SELECT target_kind, target_name, assignee, contact, number FROM inbox_items WHERE id = ?`, id).
		Scan(&it.TargetKind, &it.TargetName, &it.Assignee, &it.Contact, &it.Number)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, t.errorf("inbox item %d: %w", id, err)
	}
	return it, nil
}
