package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/flowc-dev/flowc/server/store"
)

// tx implements store.Tx on one pgx.Tx.
type tx struct {
	tx pgx.Tx
	// locked holds the conversation lock keys this transaction holds, so
	// that a lock taken again costs no round trip.
	locked map[int64]bool
}

var _ store.Tx = (*tx)(nil)

// Times: timestamptz, NULL for the zero time.

func encTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

func decTime(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// strs returns a, never nil (the text[] columns are NOT NULL).
func strs(a []string) []string {
	if a == nil {
		return []string{}
	}
	return a
}

// blob returns b, nil when empty.
func blob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Locks.

// LockConversation takes the conversation's transaction-scoped advisory
// lock, waiting for the transaction that holds it.
func (t *tx) LockConversation(ctx context.Context, contact, number string) error {
	key := conversationKey(contact, number)
	if t.locked[key] {
		return nil
	}
	if _, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
		return fmt.Errorf("postgres store: lock conversation %s/%s: %w", contact, number, err)
	}
	t.locked[key] = true
	return nil
}

// Messages.

func (t *tx) MessageBySID(ctx context.Context, sid string) (*store.Message, error) {
	var (
		m        store.Message
		received pgtype.Timestamptz
	)
	err := t.tx.QueryRow(ctx, `
		SELECT sid, from_number, to_number, body, media, flow, version, outcome, response, trace, received, details
		FROM messages WHERE sid = $1`, sid).
		Scan(&m.SID, &m.From, &m.To, &m.Body, &m.Media, &m.Flow, &m.Version, &m.Outcome, &m.Response, &m.Trace, &received, &m.Details)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres store: message %s: %w", sid, err)
	}
	m.Trace = blob(m.Trace)
	m.Details = blob(m.Details)
	m.Received = decTime(received)
	return &m, nil
}

// InsertMessage inserts m; an SID already stored is an error (a unique
// violation, which aborts the transaction).
func (t *tx) InsertMessage(ctx context.Context, m *store.Message) error {
	_, err := t.tx.Exec(ctx, `
		INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, trace, received, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		m.SID, m.From, m.To, m.Body, strs(m.Media), m.Flow, m.Version, m.Outcome, m.Response, blob(m.Trace), encTime(m.Received), blob(m.Details))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "messages_pkey" {
		return fmt.Errorf("postgres store: insert message %s: already stored: %w", m.SID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres store: insert message %s: %w", m.SID, err)
	}
	return nil
}

// Revisions.

func (t *tx) ConversationRevision(ctx context.Context, contact, number string) (int64, error) {
	var rev int64
	err := t.tx.QueryRow(ctx, `SELECT revision FROM conversation_revisions WHERE contact = $1 AND number = $2`,
		contact, number).Scan(&rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres store: revision of %s/%s: %w", contact, number, err)
	}
	return rev, nil
}

// AdvanceRevision is one compare-and-swap statement. At READ COMMITTED
// a concurrent advance is waited for and then seen: the guarded UPDATE
// re-checks its WHERE on the committed row, and the INSERT of revision 1
// finds the committed row and does nothing; either affects no row.
func (t *tx) AdvanceRevision(ctx context.Context, contact, number string, from int64) error {
	var (
		tag pgconn.CommandTag
		err error
	)
	if from == 0 {
		tag, err = t.tx.Exec(ctx, `INSERT INTO conversation_revisions (contact, number, revision) VALUES ($1, $2, 1)
			ON CONFLICT DO NOTHING`, contact, number)
	} else {
		tag, err = t.tx.Exec(ctx, `UPDATE conversation_revisions SET revision = revision + 1
			WHERE contact = $1 AND number = $2 AND revision = $3`, contact, number, from)
	}
	if err != nil {
		return fmt.Errorf("postgres store: advance revision of %s/%s: %w", contact, number, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres store: revision of %s/%s is no longer %d: %w", contact, number, from, store.ErrConflict)
	}
	return nil
}

// Conversations.

const conversationColumns = `contact, number, flow, version, state, deadline, updated, started`

func scanConversation(sc pgx.Row) (store.Conversation, error) {
	var (
		c                          store.Conversation
		deadline, updated, started pgtype.Timestamptz
	)
	err := sc.Scan(&c.Contact, &c.Number, &c.Flow, &c.Version, &c.State, &deadline, &updated, &started)
	c.State = blob(c.State)
	c.Deadline = decTime(deadline)
	c.Updated = decTime(updated)
	c.Started = decTime(started)
	return c, err
}

// Conversation takes the conversation's lock (as LockConversation: it
// covers a conversation not created yet) and reads the row FOR UPDATE.
func (t *tx) Conversation(ctx context.Context, contact, number string) (*store.Conversation, error) {
	if err := t.LockConversation(ctx, contact, number); err != nil {
		return nil, err
	}
	// A statement of its own, after the lock: at READ COMMITTED its
	// snapshot then includes what the lock's previous holder committed.
	row := t.tx.QueryRow(ctx, `SELECT `+conversationColumns+`
		FROM conversations WHERE contact = $1 AND number = $2 FOR UPDATE`, contact, number)
	c, err := scanConversation(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres store: conversation %s/%s: %w", contact, number, err)
	}
	return &c, nil
}

func (t *tx) SaveConversation(ctx context.Context, c *store.Conversation) error {
	_, err := t.tx.Exec(ctx, `
		INSERT INTO conversations (`+conversationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (contact, number) DO UPDATE SET
			flow = excluded.flow, version = excluded.version, state = excluded.state,
			deadline = excluded.deadline, updated = excluded.updated, started = excluded.started`,
		c.Contact, c.Number, c.Flow, c.Version, blob(c.State), encTime(c.Deadline), encTime(c.Updated), encTime(c.Started))
	if err != nil {
		return fmt.Errorf("postgres store: save conversation %s/%s: %w", c.Contact, c.Number, err)
	}
	return nil
}

// DeleteConversation deletes the conversation if there is one.
func (t *tx) DeleteConversation(ctx context.Context, contact, number string) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM conversations WHERE contact = $1 AND number = $2`, contact, number)
	if err != nil {
		return fmt.Errorf("postgres store: delete conversation %s/%s: %w", contact, number, err)
	}
	return nil
}

// DueConversations claims the conversations whose non-zero deadline is at
// or before now, earliest deadline first; limit <= 0 means no limit.
//
// It is meant for several replicas' timer schedulers at once: rows locked
// by another transaction are skipped (FOR UPDATE SKIP LOCKED), and of the
// rows it locks it returns only those whose conversation lock it can take
// without waiting (pg_try_advisory_xact_lock; an inbound message of the
// conversation is in progress otherwise). The transaction then holds both
// locks of every conversation returned, so LockConversation and
// Conversation on them do not wait, and it never waits for a lock held by
// another transaction. Fewer than limit may be returned while more are
// due; a later call finds those.
func (t *tx) DueConversations(ctx context.Context, now time.Time, limit int) ([]store.Conversation, error) {
	if now.IsZero() {
		return nil, nil // nothing is due at the zero time
	}
	var lim *int // NULL: LIMIT ALL
	if limit > 0 {
		lim = &limit
	}
	rows, err := t.tx.Query(ctx, `SELECT `+conversationColumns+`
		FROM conversations WHERE deadline IS NOT NULL AND deadline <= $1
		ORDER BY deadline, contact, number LIMIT $2
		FOR UPDATE SKIP LOCKED`, encTime(now), lim)
	if err != nil {
		return nil, fmt.Errorf("postgres store: due conversations: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Conversation, error) { return scanConversation(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres store: due conversations: %w", err)
	}
	if len(due) == 0 {
		return nil, nil
	}
	b := &pgx.Batch{}
	for _, c := range due {
		b.Queue(`SELECT pg_try_advisory_xact_lock($1)`, conversationKey(c.Contact, c.Number))
	}
	br := t.tx.SendBatch(ctx, b)
	var out []store.Conversation
	for _, c := range due {
		var ok bool
		if err := br.QueryRow().Scan(&ok); err != nil {
			br.Close()
			return nil, fmt.Errorf("postgres store: due conversations: lock %s/%s: %w", c.Contact, c.Number, err)
		}
		if ok {
			t.locked[conversationKey(c.Contact, c.Number)] = true
			out = append(out, c)
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("postgres store: due conversations: %w", err)
	}
	return out, nil
}

// Opt-outs.

func (t *tx) OptedOut(ctx context.Context, contact, number string) (bool, error) {
	var out bool
	err := t.tx.QueryRow(ctx, `SELECT opted_out FROM opt_outs WHERE contact = $1 AND number = $2`,
		contact, number).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres store: opted out %s/%s: %w", contact, number, err)
	}
	return out, nil
}

// SetOptOut records the contact's choice and when it was made (a START
// keeps the row, with opted_out false).
func (t *tx) SetOptOut(ctx context.Context, contact, number string, out bool, at time.Time) error {
	_, err := t.tx.Exec(ctx, `
		INSERT INTO opt_outs (contact, number, opted_out, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (contact, number) DO UPDATE SET opted_out = excluded.opted_out, updated = excluded.updated`,
		contact, number, out, encTime(at))
	if err != nil {
		return fmt.Errorf("postgres store: set opt-out %s/%s: %w", contact, number, err)
	}
	return nil
}

// Tags.

// AddContactTag adds tag to the contact's tags; adding it again does
// nothing.
func (t *tx) AddContactTag(ctx context.Context, contact, tag string) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO contact_tags (contact, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		contact, tag)
	if err != nil {
		return fmt.Errorf("postgres store: add tag %q to %s: %w", tag, contact, err)
	}
	return nil
}

// ContactTags returns the contact's tags, sorted (bytewise, as SQLite's
// BINARY collation, whatever the database's collation).
func (t *tx) ContactTags(ctx context.Context, contact string) ([]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT tag FROM contact_tags WHERE contact = $1 ORDER BY tag COLLATE "C"`, contact)
	if err != nil {
		return nil, fmt.Errorf("postgres store: tags of %s: %w", contact, err)
	}
	tags, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres store: tags of %s: %w", contact, err)
	}
	return tags, nil
}

// Inbox.

func (t *tx) AddInboxItem(ctx context.Context, it *store.InboxItem) error {
	msgs, err := store.EncodeInboxMessages(it.Messages)
	if err != nil {
		return err
	}
	err = t.tx.QueryRow(ctx, `
		INSERT INTO inbox_items (target_kind, target_name, assignee, message_sid, contact, number, body, flow, created, done, done_at,
			messages, messages_omitted)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		it.TargetKind, it.TargetName, it.Assignee, it.MessageSID, it.Contact, it.Number, it.Body, it.Flow,
		encTime(it.Created), it.Done, encTime(it.DoneAt), msgs, it.MessagesOmitted).Scan(&it.ID)
	if err != nil {
		return fmt.Errorf("postgres store: add inbox item: %w", err)
	}
	return nil
}

// InboxItems lists the items sent to the target, oldest (lowest ID) first.
func (t *tx) InboxItems(ctx context.Context, targetKind, targetName string, includeDone bool) ([]store.InboxItem, error) {
	q := `SELECT id, target_kind, target_name, assignee, message_sid, contact, number, body, flow, created, done, done_at,
			messages, messages_omitted
		FROM inbox_items WHERE target_kind = $1 AND target_name = $2`
	if !includeDone {
		q += ` AND NOT done`
	}
	q += ` ORDER BY id`
	rows, err := t.tx.Query(ctx, q, targetKind, targetName)
	if err != nil {
		return nil, fmt.Errorf("postgres store: inbox %s %s: %w", targetKind, targetName, err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.InboxItem, error) {
		var (
			it              store.InboxItem
			created, doneAt pgtype.Timestamptz
			msgs            string
		)
		err := r.Scan(&it.ID, &it.TargetKind, &it.TargetName, &it.Assignee, &it.MessageSID, &it.Contact,
			&it.Number, &it.Body, &it.Flow, &created, &it.Done, &doneAt, &msgs, &it.MessagesOmitted)
		if err != nil {
			return it, err
		}
		it.Created, it.DoneAt = decTime(created), decTime(doneAt)
		it.Messages, err = store.DecodeInboxMessages(msgs)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres store: inbox %s %s: %w", targetKind, targetName, err)
	}
	return items, nil
}

// ContactMessages reads messages_from_to_received: the count and the
// newest limit rows of one (contact, number) from since on.
func (t *tx) ContactMessages(ctx context.Context, contact, number string, since time.Time, limit int) ([]store.InboxMessage, int, error) {
	from := encTime(since)
	if !from.Valid {
		from = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	var total int
	if err := t.tx.QueryRow(ctx, `SELECT count(*) FROM messages
		WHERE from_number = $1 AND to_number = $2 AND received >= $3 AND outcome <> 'timer'`, contact, number, from).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("postgres store: messages of %s/%s: %w", contact, number, err)
	}
	if total == 0 || limit <= 0 {
		return nil, total, nil
	}
	rows, err := t.tx.Query(ctx, `SELECT sid, body, media, received FROM messages
		WHERE from_number = $1 AND to_number = $2 AND received >= $3 AND outcome <> 'timer'
		ORDER BY received DESC, sid DESC LIMIT $4`, contact, number, from, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres store: messages of %s/%s: %w", contact, number, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.InboxMessage, error) {
		var (
			m        store.InboxMessage
			received pgtype.Timestamptz
		)
		err := r.Scan(&m.SID, &m.Body, &m.Media, &received)
		m.Media, m.Received = strs(m.Media), decTime(received)
		return m, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres store: messages of %s/%s: %w", contact, number, err)
	}
	slices.Reverse(out)
	return out, total, nil
}

// MarkInboxDone marks the item done at at; an item already done keeps its
// first DoneAt. ErrNotFound if there is no such item.
func (t *tx) MarkInboxDone(ctx context.Context, id int64, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `
		UPDATE inbox_items SET done_at = CASE WHEN NOT done THEN $1 ELSE done_at END, done = true
		WHERE id = $2`, encTime(at), id)
	if err != nil {
		return fmt.Errorf("postgres store: mark inbox item %d done: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres store: inbox item %d: %w", id, store.ErrNotFound)
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
	for _, u := range users {
		counts[u] = 0
	}
	rows, err := t.tx.Query(ctx, `SELECT assignee, count(*) FROM inbox_items
		WHERE NOT done AND assignee = ANY($1) GROUP BY assignee`, users)
	if err != nil {
		return nil, fmt.Errorf("postgres store: open item counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u string
			n int
		)
		if err := rows.Scan(&u, &n); err != nil {
			return nil, fmt.Errorf("postgres store: open item counts: %w", err)
		}
		counts[u] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: open item counts: %w", err)
	}
	return counts, nil
}

// NextRoundRobin returns the team's counter modulo n and increments it,
// in one statement (an upsert: concurrent callers wait for each other's
// row and each get their own value).
func (t *tx) NextRoundRobin(ctx context.Context, team string, n int) (int, error) {
	if n <= 0 {
		return 0, fmt.Errorf("postgres store: round robin for team %s over %d members", team, n)
	}
	var counter int64
	err := t.tx.QueryRow(ctx, `
		INSERT INTO round_robin AS r (team, counter) VALUES ($1, 1)
		ON CONFLICT (team) DO UPDATE SET counter = r.counter + 1
		RETURNING counter - 1`, team).Scan(&counter)
	if err != nil {
		return 0, fmt.Errorf("postgres store: round robin for team %s: %w", team, err)
	}
	return int(counter % int64(n)), nil
}

// Outbox.

func (t *tx) Enqueue(ctx context.Context, o *store.OutboxItem) error {
	o.Destination = store.OutboxDestination(o.Kind, o.To)
	err := t.tx.QueryRow(ctx, `
		INSERT INTO outbox (kind, to_addr, from_addr, body, message_sid, contact, created, not_before, destination)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		o.Kind, o.To, o.From, o.Body, o.MessageSID, o.Contact, encTime(o.Created), encTime(o.NotBefore), o.Destination).Scan(&o.ID)
	if err != nil {
		return fmt.Errorf("postgres store: enqueue: %w", err)
	}
	return nil
}

// Deployments.

// SaveProgram stores p; saving a version again does nothing (the version
// is a hash of the program's behaviour: a different encoding of it, such
// as another file path, keeps the first; p.Active is ignored, only
// Activate activates); a version saved for another flow is
// *store.VersionConflictError. Replicas saving the same version at once
// both succeed (ON CONFLICT DO NOTHING waits for the other's insert, then
// the comparison sees it).
func (t *tx) SaveProgram(ctx context.Context, p *store.Program) error {
	enc := p.Encoded
	if enc == nil {
		enc = []byte{}
	}
	tag, err := t.tx.Exec(ctx, `
		INSERT INTO programs (version, flow, encoded, numbers, created, active) VALUES ($1, $2, $3, $4, $5, false)
		ON CONFLICT (version) DO NOTHING`,
		p.Version, p.Flow, enc, strs(p.Numbers), encTime(p.Created))
	if err != nil {
		return fmt.Errorf("postgres store: save program %s: %w", p.Version, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var flow string
	err = t.tx.QueryRow(ctx, `SELECT flow FROM programs WHERE version = $1`, p.Version).Scan(&flow)
	if err != nil {
		return fmt.Errorf("postgres store: save program %s: %w", p.Version, err)
	}
	if flow != p.Flow {
		return &store.VersionConflictError{Version: p.Version, Flow: flow}
	}
	return nil
}

const programColumns = `flow, version, encoded, numbers, created, active`

func scanProgram(sc pgx.Row) (store.Program, error) {
	var (
		p       store.Program
		created pgtype.Timestamptz
	)
	err := sc.Scan(&p.Flow, &p.Version, &p.Encoded, &p.Numbers, &created, &p.Active)
	p.Encoded = blob(p.Encoded)
	p.Created = decTime(created)
	return p, err
}

func (t *tx) Program(ctx context.Context, version string) (*store.Program, error) {
	p, err := scanProgram(t.tx.QueryRow(ctx, `SELECT `+programColumns+` FROM programs WHERE version = $1`, version))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres store: program %s: %w", version, err)
	}
	return &p, nil
}

func (t *tx) programs(ctx context.Context, what, where string, args ...any) ([]store.Program, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+programColumns+` FROM programs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Program, error) { return scanProgram(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres store: %s: %w", what, err)
	}
	return out, nil
}

// Programs lists the flow's versions, newest (by Created) first.
func (t *tx) Programs(ctx context.Context, flow string) ([]store.Program, error) {
	return t.programs(ctx, "programs of "+flow,
		`WHERE flow = $1 ORDER BY created DESC NULLS LAST, seq DESC`, flow)
}

// ActivePrograms lists the active version of every flow, by flow.
func (t *tx) ActivePrograms(ctx context.Context) ([]store.Program, error) {
	return t.programs(ctx, "active programs", `WHERE active ORDER BY flow COLLATE "C"`)
}

// Activate first takes the deployments' advisory lock, so activations
// from several replicas are applied one after the other and the numbers
// check below cannot be raced.
func (t *tx) Activate(ctx context.Context, flow, version string, numbers []string, at time.Time) error {
	if err := t.lockDeployments(ctx); err != nil {
		return fmt.Errorf("postgres store: activate %s: lock: %w", version, err)
	}
	var pflow string
	err := t.tx.QueryRow(ctx, `SELECT flow FROM programs WHERE version = $1`, version).Scan(&pflow)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres store: activate %s: %w", version, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres store: activate %s: %w", version, err)
	}
	if pflow != flow {
		return fmt.Errorf("postgres store: activate: version %s is of flow %q, not %q", version, pflow, flow)
	}
	nums := []string{}
	for _, n := range numbers {
		if !slices.Contains(nums, n) {
			nums = append(nums, n)
		}
	}
	// Check every number before changing anything, so a refusal leaves
	// the transaction as it was (the caller may go on using it).
	for _, n := range nums {
		var other string
		err := t.tx.QueryRow(ctx, `SELECT flow FROM numbers WHERE number = $1`, n).Scan(&other)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("postgres store: activate: number %s: %w", n, err)
		}
		if other != flow {
			return &store.NumberTakenError{Number: n, Flow: other}
		}
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE programs SET active = false WHERE flow = $1 AND version <> $2 AND active`, []any{flow, version}},
		{`UPDATE programs SET active = true, activated = $1, numbers = $2 WHERE version = $3`, []any{encTime(at), nums, version}},
		{`DELETE FROM numbers WHERE flow = $1`, []any{flow}},
		{`INSERT INTO numbers (number, flow, version) SELECT n, $2, $3 FROM unnest($1::text[]) AS n`, []any{nums, flow, version}},
	}
	for _, s := range stmts {
		if _, err := t.tx.Exec(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("postgres store: activate %s: %w", version, err)
		}
	}
	return nil
}

func (t *tx) Route(ctx context.Context, number string) (flow, version string, err error) {
	err = t.tx.QueryRow(ctx, `SELECT flow, version FROM numbers WHERE number = $1`, number).Scan(&flow, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", store.ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("postgres store: route %s: %w", number, err)
	}
	return flow, version, nil
}
