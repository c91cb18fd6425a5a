package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/flowc-dev/flowc/server/store"
)

// tx implements store.Tx on one *sql.Tx.
type tx struct {
	tx *sql.Tx
	s  *Store
}

// stmt returns query bound to this transaction if it was prepared
// before, else nil (and remembers to prepare it when the connection is
// free again: the store has one connection, which this transaction
// holds). Parsing SQL on every message was a large part of its cost.
func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if v, ok := t.s.stmts.Load(query); ok {
		return t.tx.StmtContext(ctx, v.(*sql.Stmt))
	}
	t.s.wantMu.Lock()
	if len(t.s.want) < maxPrepared {
		t.s.want[query] = true
	}
	t.s.wantMu.Unlock()
	return nil
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

var (
	_ store.Tx       = (*tx)(nil)
	_ store.OutboxTx = (*tx)(nil)
)

// Times: INTEGER unix nanoseconds, NULL for the zero time.

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func encTime(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("sqlite store: time %s is outside the storable range (%s to %s)",
			t.Format(time.RFC3339Nano), minTime.UTC().Format(time.RFC3339), maxTime.UTC().Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// encTimes encodes ts in order, stopping at the first error.
func encTimes(ts ...time.Time) ([]any, error) {
	out := make([]any, len(ts))
	for i, t := range ts {
		v, err := encTime(t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func decTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func encStrings(a []string) (string, error) {
	b, err := json.Marshal(a)
	return string(b), err
}

func decStrings(s string) ([]string, error) {
	var a []string
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("sqlite store: bad JSON array %q: %w", s, err)
	}
	return a, nil
}

// blob returns b, nil when empty.
func blob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Messages.

// LockConversation is a no-op: every SQLite write transaction here begins
// IMMEDIATE, which already excludes all other writers.
func (t *tx) LockConversation(context.Context, string, string) error { return nil }

func (t *tx) MessageBySID(ctx context.Context, sid string) (*store.Message, error) {
	var (
		m        store.Message
		media    string
		received sql.NullInt64
	)
	err := t.queryRow(ctx, `
		SELECT sid, from_number, to_number, body, media, flow, version, outcome, response, trace, received, details
		FROM messages WHERE sid = ?`, sid).
		Scan(&m.SID, &m.From, &m.To, &m.Body, &media, &m.Flow, &m.Version, &m.Outcome, &m.Response, &m.Trace, &received, &m.Details)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: message %s: %w", sid, err)
	}
	if m.Media, err = decStrings(media); err != nil {
		return nil, err
	}
	m.Trace = blob(m.Trace)
	m.Details = blob(m.Details)
	m.Received = decTime(received)
	return &m, nil
}

func (t *tx) InsertMessage(ctx context.Context, m *store.Message) error {
	media, err := encStrings(m.Media)
	if err != nil {
		return err
	}
	received, err := encTime(m.Received)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `
		INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, trace, received, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.SID, m.From, m.To, m.Body, media, m.Flow, m.Version, m.Outcome, m.Response, blob(m.Trace), received, blob(m.Details))
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return fmt.Errorf("sqlite store: insert message %s: already stored: %w", m.SID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: insert message %s: %w", m.SID, err)
	}
	return nil
}

// Revisions.

func (t *tx) ConversationRevision(ctx context.Context, contact, number string) (int64, error) {
	var rev int64
	err := t.queryRow(ctx, `SELECT revision FROM conversation_revisions WHERE contact = ? AND number = ?`,
		contact, number).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite store: revision of %s/%s: %w", contact, number, err)
	}
	return rev, nil
}

// AdvanceRevision is one compare-and-swap statement: an insert of
// revision 1 when from is 0, else an update guarded by the old value.
func (t *tx) AdvanceRevision(ctx context.Context, contact, number string, from int64) error {
	var (
		res sql.Result
		err error
	)
	if from == 0 {
		res, err = t.exec(ctx, `INSERT INTO conversation_revisions (contact, number, revision) VALUES (?, ?, 1)
			ON CONFLICT DO NOTHING`, contact, number)
	} else {
		res, err = t.exec(ctx, `UPDATE conversation_revisions SET revision = revision + 1
			WHERE contact = ? AND number = ? AND revision = ?`, contact, number, from)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: advance revision of %s/%s: %w", contact, number, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite store: advance revision of %s/%s: %w", contact, number, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite store: revision of %s/%s is no longer %d: %w", contact, number, from, store.ErrConflict)
	}
	return nil
}

// Conversations.

const conversationColumns = `contact, number, flow, version, state, deadline, updated, started`

func scanConversation(sc interface{ Scan(...any) error }) (store.Conversation, error) {
	var (
		c                          store.Conversation
		deadline, updated, started sql.NullInt64
	)
	err := sc.Scan(&c.Contact, &c.Number, &c.Flow, &c.Version, &c.State, &deadline, &updated, &started)
	c.State = blob(c.State)
	c.Deadline = decTime(deadline)
	c.Updated = decTime(updated)
	c.Started = decTime(started)
	return c, err
}

// Conversation needs no row lock of its own: the BEGIN IMMEDIATE
// transaction holds the database's write lock.
func (t *tx) Conversation(ctx context.Context, contact, number string) (*store.Conversation, error) {
	row := t.queryRow(ctx, `SELECT `+conversationColumns+`
		FROM conversations WHERE contact = ? AND number = ?`, contact, number)
	c, err := scanConversation(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: conversation %s/%s: %w", contact, number, err)
	}
	return &c, nil
}

func (t *tx) SaveConversation(ctx context.Context, c *store.Conversation) error {
	times, err := encTimes(c.Deadline, c.Updated, c.Started)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `
		INSERT INTO conversations (`+conversationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (contact, number) DO UPDATE SET
			flow = excluded.flow, version = excluded.version, state = excluded.state,
			deadline = excluded.deadline, updated = excluded.updated, started = excluded.started`,
		c.Contact, c.Number, c.Flow, c.Version, blob(c.State), times[0], times[1], times[2])
	if err != nil {
		return fmt.Errorf("sqlite store: save conversation %s/%s: %w", c.Contact, c.Number, err)
	}
	return nil
}

// DeleteConversation deletes the conversation if there is one.
func (t *tx) DeleteConversation(ctx context.Context, contact, number string) error {
	_, err := t.exec(ctx, `DELETE FROM conversations WHERE contact = ? AND number = ?`, contact, number)
	if err != nil {
		return fmt.Errorf("sqlite store: delete conversation %s/%s: %w", contact, number, err)
	}
	return nil
}

// DueConversations lists the conversations whose non-zero deadline is at
// or before now, earliest deadline first; limit <= 0 means no limit.
func (t *tx) DueConversations(ctx context.Context, now time.Time, limit int) ([]store.Conversation, error) {
	n, err := encTime(now)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, nil // nothing is due at the zero time
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := t.query(ctx, `SELECT `+conversationColumns+`
		FROM conversations WHERE deadline IS NOT NULL AND deadline <= ?
		ORDER BY deadline, contact, number LIMIT ?`, n, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: due conversations: %w", err)
	}
	defer rows.Close()
	var out []store.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: due conversations: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: due conversations: %w", err)
	}
	return out, nil
}

// Opt-outs.

func (t *tx) OptedOut(ctx context.Context, contact, number string) (bool, error) {
	var out int
	err := t.queryRow(ctx, `SELECT opted_out FROM opt_outs WHERE contact = ? AND number = ?`,
		contact, number).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite store: opted out %s/%s: %w", contact, number, err)
	}
	return out != 0, nil
}

// SetOptOut records the contact's choice and when it was made (a START
// keeps the row, with opted_out 0).
func (t *tx) SetOptOut(ctx context.Context, contact, number string, out bool, at time.Time) error {
	a, err := encTime(at)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `
		INSERT INTO opt_outs (contact, number, opted_out, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (contact, number) DO UPDATE SET opted_out = excluded.opted_out, updated = excluded.updated`,
		contact, number, b2i(out), a)
	if err != nil {
		return fmt.Errorf("sqlite store: set opt-out %s/%s: %w", contact, number, err)
	}
	return nil
}

// Tags.

// AddContactTag adds tag to the contact's tags; adding it again does
// nothing.
func (t *tx) AddContactTag(ctx context.Context, contact, tag string) error {
	_, err := t.exec(ctx, `INSERT INTO contact_tags (contact, tag) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		contact, tag)
	if err != nil {
		return fmt.Errorf("sqlite store: add tag %q to %s: %w", tag, contact, err)
	}
	return nil
}

// ContactTags returns the contact's tags, sorted.
func (t *tx) ContactTags(ctx context.Context, contact string) ([]string, error) {
	rows, err := t.query(ctx, `SELECT tag FROM contact_tags WHERE contact = ? ORDER BY tag`, contact)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: tags of %s: %w", contact, err)
	}
	defer rows.Close()
	var tags []string
	for rows.Next() {
		var tag string
		if err := rows.Scan(&tag); err != nil {
			return nil, fmt.Errorf("sqlite store: tags of %s: %w", contact, err)
		}
		tags = append(tags, tag)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: tags of %s: %w", contact, err)
	}
	return tags, nil
}

// Inbox.

func (t *tx) AddInboxItem(ctx context.Context, it *store.InboxItem) error {
	times, err := encTimes(it.Created, it.DoneAt)
	if err != nil {
		return err
	}
	msgs, err := store.EncodeInboxMessages(it.Messages)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `
		INSERT INTO inbox_items (target_kind, target_name, assignee, message_sid, contact, number, body, flow, created, done, done_at,
			messages, messages_omitted)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		it.TargetKind, it.TargetName, it.Assignee, it.MessageSID, it.Contact, it.Number, it.Body, it.Flow,
		times[0], b2i(it.Done), times[1], msgs, it.MessagesOmitted)
	if err != nil {
		return fmt.Errorf("sqlite store: add inbox item: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite store: add inbox item: %w", err)
	}
	it.ID = id
	return nil
}

// InboxItems lists the items sent to the target, oldest (lowest ID) first.
func (t *tx) InboxItems(ctx context.Context, targetKind, targetName string, includeDone bool) ([]store.InboxItem, error) {
	q := `SELECT id, target_kind, target_name, assignee, message_sid, contact, number, body, flow, created, done, done_at,
			messages, messages_omitted
		FROM inbox_items WHERE target_kind = ? AND target_name = ?`
	if !includeDone {
		q += ` AND done = 0`
	}
	q += ` ORDER BY id`
	rows, err := t.query(ctx, q, targetKind, targetName)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: inbox %s %s: %w", targetKind, targetName, err)
	}
	defer rows.Close()
	var items []store.InboxItem
	for rows.Next() {
		var (
			it              store.InboxItem
			created, doneAt sql.NullInt64
			done            int
			msgs            string
		)
		if err := rows.Scan(&it.ID, &it.TargetKind, &it.TargetName, &it.Assignee, &it.MessageSID, &it.Contact,
			&it.Number, &it.Body, &it.Flow, &created, &done, &doneAt, &msgs, &it.MessagesOmitted); err != nil {
			return nil, fmt.Errorf("sqlite store: inbox %s %s: %w", targetKind, targetName, err)
		}
		it.Created, it.Done, it.DoneAt = decTime(created), done != 0, decTime(doneAt)
		var err error
		if it.Messages, err = store.DecodeInboxMessages(msgs); err != nil {
			return nil, fmt.Errorf("sqlite store: inbox item %d: %w", it.ID, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: inbox %s %s: %w", targetKind, targetName, err)
	}
	return items, nil
}

// ContactMessages reads messages_from_to_received: the count and the
// newest limit rows of one (contact, number) from since on.
func (t *tx) ContactMessages(ctx context.Context, contact, number string, since time.Time, limit int) ([]store.InboxMessage, int, error) {
	from, err := encTime(since)
	if err != nil {
		return nil, 0, err
	}
	if from == nil {
		from = int64(math.MinInt64)
	}
	var total int
	if err := t.queryRow(ctx, `SELECT count(*) FROM messages
		WHERE from_number = ? AND to_number = ? AND received >= ? AND outcome <> 'timer'`, contact, number, from).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite store: messages of %s/%s: %w", contact, number, err)
	}
	if total == 0 || limit <= 0 {
		return nil, total, nil
	}
	rows, err := t.query(ctx, `SELECT sid, body, media, received FROM messages
		WHERE from_number = ? AND to_number = ? AND received >= ? AND outcome <> 'timer'
		ORDER BY received DESC, rowid DESC LIMIT ?`, contact, number, from, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite store: messages of %s/%s: %w", contact, number, err)
	}
	defer rows.Close()
	var out []store.InboxMessage
	for rows.Next() {
		var (
			m        store.InboxMessage
			media    string
			received sql.NullInt64
		)
		if err := rows.Scan(&m.SID, &m.Body, &media, &received); err != nil {
			return nil, 0, fmt.Errorf("sqlite store: messages of %s/%s: %w", contact, number, err)
		}
		if m.Media, err = decStrings(media); err != nil {
			return nil, 0, err
		}
		if m.Media == nil {
			m.Media = []string{}
		}
		m.Received = decTime(received)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite store: messages of %s/%s: %w", contact, number, err)
	}
	slices.Reverse(out)
	return out, total, nil
}

// MarkInboxDone marks the item done at at; an item already done keeps its
// first DoneAt. ErrNotFound if there is no such item.
func (t *tx) MarkInboxDone(ctx context.Context, id int64, at time.Time) error {
	a, err := encTime(at)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `
		UPDATE inbox_items SET done_at = CASE WHEN done = 0 THEN ? ELSE done_at END, done = 1
		WHERE id = ?`, a, id)
	if err != nil {
		return fmt.Errorf("sqlite store: mark inbox item %d done: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite store: mark inbox item %d done: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite store: inbox item %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// OpenItemCounts counts the not-done items assigned (Assignee) to each of
// users; every user is in the map, with 0 when they have none.
func (t *tx) OpenItemCounts(ctx context.Context, users []string) (map[string]int, error) {
	counts := make(map[string]int, len(users))
	if len(users) == 0 {
		return counts, nil
	}
	args := make([]any, 0, len(users))
	for _, u := range users {
		if _, dup := counts[u]; !dup {
			counts[u] = 0
			args = append(args, u)
		}
	}
	q := `SELECT assignee, count(*) FROM inbox_items WHERE done = 0 AND assignee IN (?` +
		strings.Repeat(", ?", len(args)-1) + `) GROUP BY assignee`
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open item counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u string
			n int
		)
		if err := rows.Scan(&u, &n); err != nil {
			return nil, fmt.Errorf("sqlite store: open item counts: %w", err)
		}
		counts[u] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: open item counts: %w", err)
	}
	return counts, nil
}

// NextRoundRobin returns the team's counter modulo n and increments it,
// in one statement.
func (t *tx) NextRoundRobin(ctx context.Context, team string, n int) (int, error) {
	if n <= 0 {
		return 0, fmt.Errorf("sqlite store: round robin for team %s over %d members", team, n)
	}
	var counter int64
	err := t.queryRow(ctx, `
		INSERT INTO round_robin (team, counter) VALUES (?, 1)
		ON CONFLICT (team) DO UPDATE SET counter = counter + 1
		RETURNING counter - 1`, team).Scan(&counter)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: round robin for team %s: %w", team, err)
	}
	return int(counter % int64(n)), nil
}

// Outbox.

func (t *tx) Enqueue(ctx context.Context, o *store.OutboxItem) error {
	o.Destination = store.OutboxDestination(o.Kind, o.To)
	times, err := encTimes(o.Created, o.NotBefore)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `
		INSERT INTO outbox (kind, to_addr, from_addr, body, message_sid, contact, created, not_before, destination)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Kind, o.To, o.From, o.Body, o.MessageSID, o.Contact, times[0], times[1], o.Destination)
	if err != nil {
		return fmt.Errorf("sqlite store: enqueue: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite store: enqueue: %w", err)
	}
	o.ID = id
	return nil
}

// Deployments.

// SaveProgram stores p; saving a version again does nothing (the version
// is a hash of the program's behaviour: a different encoding of it, such
// as another file path, keeps the first; p.Active is ignored, only
// Activate activates); a version saved for another flow is
// *store.VersionConflictError.
func (t *tx) SaveProgram(ctx context.Context, p *store.Program) error {
	var flow string
	err := t.queryRow(ctx, `SELECT flow FROM programs WHERE version = ?`, p.Version).Scan(&flow)
	switch {
	case err == nil:
		if flow != p.Flow {
			return &store.VersionConflictError{Version: p.Version, Flow: flow}
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite store: save program %s: %w", p.Version, err)
	}
	numbers, err := encStrings(p.Numbers)
	if err != nil {
		return err
	}
	created, err := encTime(p.Created)
	if err != nil {
		return err
	}
	enc := p.Encoded
	if enc == nil {
		enc = []byte{}
	}
	_, err = t.exec(ctx, `
		INSERT INTO programs (version, flow, encoded, numbers, created, active) VALUES (?, ?, ?, ?, ?, 0)`,
		p.Version, p.Flow, enc, numbers, created)
	if err != nil {
		return fmt.Errorf("sqlite store: save program %s: %w", p.Version, err)
	}
	return nil
}

const programColumns = `flow, version, encoded, numbers, created, active`

func scanProgram(sc interface{ Scan(...any) error }) (store.Program, error) {
	var (
		p       store.Program
		numbers string
		created sql.NullInt64
		active  int
	)
	if err := sc.Scan(&p.Flow, &p.Version, &p.Encoded, &numbers, &created, &active); err != nil {
		return p, err
	}
	var err error
	p.Numbers, err = decStrings(numbers)
	p.Encoded = blob(p.Encoded)
	p.Created = decTime(created)
	p.Active = active != 0
	return p, err
}

func (t *tx) Program(ctx context.Context, version string) (*store.Program, error) {
	p, err := scanProgram(t.queryRow(ctx, `SELECT `+programColumns+` FROM programs WHERE version = ?`, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: program %s: %w", version, err)
	}
	return &p, nil
}

func (t *tx) programs(ctx context.Context, what, where string, args ...any) ([]store.Program, error) {
	rows, err := t.query(ctx, `SELECT `+programColumns+` FROM programs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Program
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	return out, nil
}

// Programs lists the flow's versions, newest (by Created) first.
func (t *tx) Programs(ctx context.Context, flow string) ([]store.Program, error) {
	return t.programs(ctx, "programs of "+flow,
		`WHERE flow = ? ORDER BY created DESC NULLS LAST, rowid DESC`, flow)
}

// ActivePrograms lists the active version of every flow, by flow.
func (t *tx) ActivePrograms(ctx context.Context) ([]store.Program, error) {
	return t.programs(ctx, "active programs", `WHERE active = 1 ORDER BY flow`)
}

func (t *tx) Activate(ctx context.Context, flow, version string, numbers []string, at time.Time) error {
	a, err := encTime(at)
	if err != nil {
		return err
	}
	var pflow string
	err = t.queryRow(ctx, `SELECT flow FROM programs WHERE version = ?`, version).Scan(&pflow)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite store: activate %s: %w", version, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: activate %s: %w", version, err)
	}
	if pflow != flow {
		return fmt.Errorf("sqlite store: activate: version %s is of flow %q, not %q", version, pflow, flow)
	}
	var nums []string
	for _, n := range numbers {
		if !slices.Contains(nums, n) {
			nums = append(nums, n)
		}
	}
	// Check every number before changing anything, so a refusal leaves
	// the transaction as it was (the caller may go on using it).
	for _, n := range nums {
		var other string
		err := t.queryRow(ctx, `SELECT flow FROM numbers WHERE number = ?`, n).Scan(&other)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite store: activate: number %s: %w", n, err)
		}
		if other != flow {
			return &store.NumberTakenError{Number: n, Flow: other}
		}
	}
	enc, err := encStrings(nums)
	if err != nil {
		return err
	}
	if nums == nil {
		enc = "[]"
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE programs SET active = 0 WHERE flow = ? AND version <> ? AND active = 1`, []any{flow, version}},
		{`UPDATE programs SET active = 1, activated = ?, numbers = ? WHERE version = ?`, []any{a, enc, version}},
		{`DELETE FROM numbers WHERE flow = ?`, []any{flow}},
	}
	for _, s := range stmts {
		if _, err := t.exec(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("sqlite store: activate %s: %w", version, err)
		}
	}
	for _, n := range nums {
		if _, err := t.exec(ctx, `INSERT INTO numbers (number, flow, version) VALUES (?, ?, ?)`,
			n, flow, version); err != nil {
			return fmt.Errorf("sqlite store: activate %s: route %s: %w", version, n, err)
		}
	}
	return nil
}

func (t *tx) Route(ctx context.Context, number string) (flow, version string, err error) {
	err = t.queryRow(ctx, `SELECT flow, version FROM numbers WHERE number = ?`, number).Scan(&flow, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", store.ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("sqlite store: route %s: %w", number, err)
	}
	return flow, version, nil
}
