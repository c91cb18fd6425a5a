package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Tx implements store.Tx, store.AdminTx, store.OutboxTx and
// store.DeployTx on one *sql.Tx.
type Tx struct {
	tx       *sql.Tx
	db       *DB
	prepared bool // use and fill the DB's statement cache
	// locked holds the advisory lock keys this transaction holds, so
	// that a lock taken again costs no round trip.
	locked map[int64]bool
	// conn is the transaction's connection where the dialect has
	// pipelines (Dialect.Pipeline), pipe what is queued on it
	// (pipeline.go).
	conn *sql.Conn
	pipe *pipeline
	// prefetched holds ContactMessages answers read ahead
	// (PrefetchContactMessages, stepbatch.go).
	prefetched map[messagesKey]prefetchedMessages
	// bound holds the DB's prepared statements bound to this transaction
	// (sql.Tx.StmtContext), by query: the steps of a group commit run the
	// same few statements, each bound once (binding one again at every
	// call was 3% of the CPU firing timers on SQLite).
	bound map[string]*sql.Stmt
}

var (
	_ store.Tx       = (*Tx)(nil)
	_ store.AdminTx  = (*Tx)(nil)
	_ store.OutboxTx = (*Tx)(nil)
	_ store.DeployTx = (*Tx)(nil)

	_ store.ConversationTryLocker = (*Tx)(nil)
)

// SQL is the transaction itself, for a dialect's tests and extensions.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// errorf is an error of this store: "sqlite store: …".
func (t *Tx) errorf(format string, args ...any) error {
	return fmt.Errorf(t.db.d.Name+": "+format, args...)
}

// stmt returns query bound to this transaction if it was prepared
// before, else nil (and remembers to prepare it when the connection is
// free again: SQLite has one connection, which this transaction holds).
func (t *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if !t.prepared {
		return nil
	}
	if st, ok := t.bound[query]; ok {
		return st
	}
	if v, ok := t.db.stmts.Load(query); ok {
		st := t.tx.StmtContext(ctx, v.(*sql.Stmt))
		if t.bound == nil {
			t.bound = map[string]*sql.Stmt{}
		}
		t.bound[query] = st
		return st
	}
	t.db.wantMu.Lock()
	if len(t.db.want) < maxPrepared {
		t.db.want[query] = true
	}
	t.db.wantMu.Unlock()
	return nil
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.flushFirst(ctx); err != nil {
		return nil, err
	}
	return t.execBound(ctx, t.db.rebind(query), args...)
}

// execBound is exec of a query already rebound, sending nothing queued.
func (t *Tx) execBound(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.flushFirst(ctx); err != nil {
		return nil, err
	}
	query = t.db.rebind(query)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) row {
	if err := t.flushFirst(ctx); err != nil {
		return row{err: err}
	}
	return t.queryRowBound(ctx, t.db.rebind(query), args...)
}

// queryRowBound is queryRow of a query already rebound, sending nothing
// queued.
func (t *Tx) queryRowBound(ctx context.Context, query string, args ...any) row {
	if st := t.stmt(ctx, query); st != nil {
		return row{r: st.QueryRowContext(ctx, args...)}
	}
	return row{r: t.tx.QueryRowContext(ctx, query, args...)}
}

// insert runs query, an INSERT, and returns the id of the row it
// inserted.
func (t *Tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	if t.db.d.LastInsertID {
		res, err := t.exec(ctx, query, args...)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	var id int64
	err := t.queryRow(ctx, query+` RETURNING id`, args...).Scan(&id)
	return id, err
}

// insertInto is insert as a write (queued when pipelining: *id is set
// when it is sent), its failure checked by check.
func (t *Tx) insertInto(ctx context.Context, id *int64, check func(int64, error) error, query string, args ...any) error {
	if t.db.d.LastInsertID || !t.pipelining() {
		var err error
		*id, err = t.insert(ctx, query, args...)
		return check(1, err)
	}
	return t.write(ctx, Queued{SQL: query + ` RETURNING id`, Args: args, Scan: []any{id}, Check: check})
}

// affected is how many rows res changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// collect scans every row with scan, closing rows.
func collect[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (t *Tx) time(v time.Time) (any, error) { return t.db.d.Time(v) }

// times encodes ts in order, stopping at the first error.
func (t *Tx) times(ts ...time.Time) ([]any, error) {
	out := make([]any, len(ts))
	for i, v := range ts {
		e, err := t.db.d.Time(v)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func (t *Tx) strs(a []string) (any, error) { return t.db.d.Strings(a) }

func (t *Tx) scanStrs(a *[]string) sql.Scanner { return t.db.d.ScanStrings(a) }

// noLimit is LIMIT's argument for "all rows" in both databases.
const noLimit = math.MaxInt64

func limitOrAll(limit int) int64 {
	if limit <= 0 {
		return noLimit
	}
	return int64(limit)
}

// Locks.

// lock takes the advisory lock key for this transaction (none where
// writers are exclusive).
func (t *Tx) lock(ctx context.Context, key int64) error {
	if t.db.d.Lock == nil || t.locked[key] {
		return nil
	}
	if t.pipelining() && t.db.d.LockQuery != "" {
		if err := t.write(ctx, Queued{SQL: t.db.d.LockQuery, Args: []any{key},
			Check: wrapped(func(err error) error { return t.errorf("lock %d: %w", key, err) })}); err != nil {
			return err
		}
	} else {
		if err := t.flushFirst(ctx); err != nil {
			return err
		}
		if err := t.db.d.Lock(ctx, t.tx, key); err != nil {
			return err
		}
	}
	if t.locked == nil {
		t.locked = map[int64]bool{}
	}
	t.locked[key] = true
	return nil
}

// LockConversation takes the conversation's transaction-scoped advisory
// lock, waiting for the transaction that holds it (PostgreSQL); with
// SQLite every write transaction already excludes all other writers.
func (t *Tx) LockConversation(ctx context.Context, contact, number string) error {
	if err := t.lock(ctx, ConversationKey(contact, number)); err != nil {
		return t.errorf("lock conversation %s/%s: %w", contact, number, err)
	}
	return nil
}

// TryLockConversations takes, without waiting, the lock of each
// conversation of convs whose lock no other transaction holds, in one
// statement (Dialect.TryLocks), and says which it took (all, where
// writers are exclusive): store.ConversationTryLocker.
func (t *Tx) TryLockConversations(ctx context.Context, convs []store.ConversationKey) ([]bool, error) {
	held := make([]bool, len(convs))
	if t.db.d.TryLocks == nil {
		for i := range held {
			held[i] = true
		}
		return held, nil
	}
	var keys []int64
	var at []int // index in convs of keys[i]
	for i, c := range convs {
		k := ConversationKey(c.Contact, c.Number)
		if t.locked[k] {
			held[i] = true
			continue
		}
		keys, at = append(keys, k), append(at, i)
	}
	if len(keys) == 0 {
		return held, nil
	}
	if err := t.flushFirst(ctx); err != nil {
		return nil, err
	}
	ok, err := t.db.d.TryLocks(ctx, t.tx, keys)
	if err != nil {
		return nil, t.errorf("try conversation locks: %w", err)
	}
	for j, took := range ok {
		if took {
			if t.locked == nil {
				t.locked = map[int64]bool{}
			}
			t.locked[keys[j]] = true
			held[at[j]] = true
		}
	}
	return held, nil
}

// Messages.

const messageColumns = `sid, from_number, to_number, body, media, flow, version, outcome, response, trace, received`

func (t *Tx) scanMessage(sc interface{ Scan(...any) error }, details bool) (store.Message, error) {
	var m store.Message
	dst := []any{&m.SID, &m.From, &m.To, &m.Body, t.scanStrs(&m.Media), &m.Flow, &m.Version, &m.Outcome,
		&m.Response, &m.Trace, scanTime(&m.Received)}
	if details {
		dst = append(dst, &m.Details)
	}
	err := sc.Scan(dst...)
	m.Trace, m.Details = blob(m.Trace), blob(m.Details)
	return m, err
}

func (t *Tx) MessageBySID(ctx context.Context, sid string) (*store.Message, error) {
	m, err := t.scanMessage(t.queryRow(ctx, `SELECT `+messageColumns+`, details FROM messages WHERE sid = ?`, sid), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, t.errorf("message %s: %w", sid, err)
	}
	return &m, nil
}

// InsertMessage inserts m; an SID already stored is ErrConflict (a
// unique violation, which on PostgreSQL aborts the transaction).
func (t *Tx) InsertMessage(ctx context.Context, m *store.Message) error {
	return t.insertMessage(ctx, m, "", nil)
}

const insertMessage = `INSERT INTO messages (` + messageColumns + `, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertMessage runs the message's INSERT, within the statement
// prefix+INSERT+suffix (a data-modifying WITH clause) with more args
// after the message's.
func (t *Tx) insertMessage(ctx context.Context, m *store.Message, suffix string, more []any) error {
	media, err := t.strs(m.Media)
	if err != nil {
		return err
	}
	received, err := t.time(m.Received)
	if err != nil {
		return err
	}
	q := insertMessage
	if suffix != "" {
		q = `WITH m AS (` + insertMessage + ` RETURNING sid) ` + suffix
	}
	args := append([]any{m.SID, m.From, m.To, m.Body, media, m.Flow, m.Version, m.Outcome, m.Response, blob(m.Trace), received, blob(m.Details)}, more...)
	sid := m.SID
	return t.write(ctx, Queued{SQL: q, Args: args, Check: wrapped(func(err error) error {
		if t.db.d.IsDuplicate(err) {
			return t.errorf("insert message %s: already stored: %w", sid, store.ErrConflict)
		}
		return t.errorf("insert message %s: %w", sid, err)
	})})
}

// Revisions.

func (t *Tx) ConversationRevision(ctx context.Context, contact, number string) (int64, error) {
	var rev int64
	err := t.queryRow(ctx, `SELECT revision FROM conversation_revisions WHERE contact = ? AND number = ?`,
		contact, number).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, t.errorf("revision of %s/%s: %w", contact, number, err)
	}
	return rev, nil
}

// AdvanceRevision is one compare-and-swap statement: an insert of
// revision 1 when from is 0, else an update guarded by the old value. At
// PostgreSQL's READ COMMITTED a concurrent advance is waited for and then
// seen: the guarded UPDATE re-checks its WHERE on the committed row, and
// the INSERT finds the committed row and does nothing; either affects no
// row.
func (t *Tx) AdvanceRevision(ctx context.Context, contact, number string, from int64) error {
	q := Queued{SQL: `UPDATE conversation_revisions SET revision = revision + 1
			WHERE contact = ? AND number = ? AND revision = ?`, Args: []any{contact, number, from}}
	if from == 0 {
		q = Queued{SQL: `INSERT INTO conversation_revisions (contact, number, revision) VALUES (?, ?, 1)
			ON CONFLICT DO NOTHING`, Args: []any{contact, number}}
	}
	q.Check = func(n int64, err error) error {
		if err != nil {
			return t.errorf("advance revision of %s/%s: %w", contact, number, err)
		}
		if n == 0 {
			return t.errorf("revision of %s/%s is no longer %d: %w", contact, number, from, store.ErrConflict)
		}
		return nil
	}
	return t.write(ctx, q) // queued when pipelining (pipeline.go)
}

// Conversations.

const conversationColumns = `contact, number, flow, version, state, deadline, updated, started`

func scanConversation(sc interface{ Scan(...any) error }) (store.Conversation, error) {
	var c store.Conversation
	err := sc.Scan(&c.Contact, &c.Number, &c.Flow, &c.Version, &c.State,
		scanTime(&c.Deadline), scanTime(&c.Updated), scanTime(&c.Started))
	c.State = blob(c.State)
	return c, err
}

// Conversation takes the conversation's lock (as LockConversation: it
// covers a conversation not created yet) and reads the row FOR UPDATE
// (SQLite: the write transaction holds the database's write lock).
func (t *Tx) Conversation(ctx context.Context, contact, number string) (*store.Conversation, error) {
	if err := t.LockConversation(ctx, contact, number); err != nil {
		return nil, err
	}
	// A statement of its own, after the lock: at READ COMMITTED its
	// snapshot then includes what the lock's previous holder committed.
	c, err := scanConversation(t.queryRow(ctx, `SELECT `+conversationColumns+`
		FROM conversations WHERE contact = ? AND number = ?`+t.db.d.ForUpdate, contact, number))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, t.errorf("conversation %s/%s: %w", contact, number, err)
	}
	return &c, nil
}

func (t *Tx) SaveConversation(ctx context.Context, c *store.Conversation) error {
	times, err := t.times(c.Deadline, c.Updated, c.Started)
	if err != nil {
		return err
	}
	return t.write(ctx, Queued{SQL: `
		INSERT INTO conversations (` + conversationColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (contact, number) DO UPDATE SET
			flow = excluded.flow, version = excluded.version, state = excluded.state,
			deadline = excluded.deadline, updated = excluded.updated, started = excluded.started`,
		Args:  []any{c.Contact, c.Number, c.Flow, c.Version, blob(c.State), times[0], times[1], times[2]},
		Check: wrapped(func(err error) error { return t.errorf("save conversation %s/%s: %w", c.Contact, c.Number, err) })})
}

// DeleteConversation deletes the conversation if there is one.
func (t *Tx) DeleteConversation(ctx context.Context, contact, number string) error {
	return t.write(ctx, Queued{SQL: `DELETE FROM conversations WHERE contact = ? AND number = ?`, Args: []any{contact, number},
		Check: wrapped(func(err error) error { return t.errorf("delete conversation %s/%s: %w", contact, number, err) })})
}

// DueConversations claims the conversations whose non-zero deadline is at
// or before now, earliest deadline first; limit <= 0 means no limit.
//
// On PostgreSQL it is meant for several replicas' timer schedulers at
// once: rows locked by another transaction are skipped (FOR UPDATE SKIP
// LOCKED), and of the rows it locks it returns only those whose
// conversation lock it can take without waiting (an inbound message of
// the conversation is in progress otherwise). The transaction then holds
// both locks of every conversation returned, so LockConversation and
// Conversation on them do not wait, and it never waits for a lock held
// by another transaction. Fewer than limit may be returned while more
// are due; a later call finds those.
func (t *Tx) DueConversations(ctx context.Context, now time.Time, limit int) ([]store.Conversation, error) {
	return t.DueConversationsExcept(ctx, now, limit, nil)
}

var _ store.DueExcepter = (*Tx)(nil)

// planEach is args led by the dialect's PlanEach (Dialect.PlanEach).
func (db *DB) planEach(args ...any) []any {
	if len(db.d.PlanEach) == 0 {
		return args
	}
	return append(slices.Clone(db.d.PlanEach), args...)
}

// DueConversationsExcept is DueConversations leaving out the
// conversations of except (store.DueExcepter): where the dialect takes
// arrays, in the statement, so that they are neither read nor locked;
// elsewhere (SQLite, which locks nothing) read past and dropped.
func (t *Tx) DueConversationsExcept(ctx context.Context, now time.Time, limit int, except []store.ConversationKey) ([]store.Conversation, error) {
	n, err := t.time(now)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, nil // nothing is due at the zero time
	}
	var rows *sql.Rows
	inSQL := len(except) > 0 && t.db.d.Arrays
	switch {
	case inSQL:
		contacts, numbers := make([]string, len(except)), make([]string, len(except))
		for i, k := range except {
			contacts[i], numbers[i] = k.Contact, k.Number
		}
		ca, cerr := t.strs(contacts)
		na, nerr := t.strs(numbers)
		if err := cmp.Or(cerr, nerr); err != nil {
			return nil, err
		}
		rows, err = t.query(ctx, dueConversationsExceptQuery(t.db.d), t.db.planEach(n, ca, na, limitOrAll(limit))...)
	case limit > 0:
		rows, err = t.query(ctx, DueConversationsQuery(t.db.d), t.db.planEach(n, limitOrAll(limit+len(except)))...)
	default:
		rows, err = t.query(ctx, DueConversationsQuery(t.db.d), t.db.planEach(n, limitOrAll(limit))...)
	}
	due, err := collect(rows, err, func(r *sql.Rows) (store.Conversation, error) { return scanConversation(r) })
	if err != nil {
		return nil, t.errorf("due conversations: %w", err)
	}
	if len(except) > 0 && !inSQL {
		skip := make(map[store.ConversationKey]bool, len(except))
		for _, k := range except {
			skip[k] = true
		}
		due = slices.DeleteFunc(due, func(c store.Conversation) bool {
			return skip[store.ConversationKey{Contact: c.Contact, Number: c.Number}]
		})
		if limit > 0 && len(due) > limit {
			due = due[:limit]
		}
	}
	if len(due) == 0 || t.db.d.TryLocks == nil {
		return due, nil
	}
	keys := make([]int64, len(due))
	for i, c := range due {
		keys[i] = ConversationKey(c.Contact, c.Number)
	}
	ok, err := t.db.d.TryLocks(ctx, t.tx, keys)
	if err != nil {
		return nil, t.errorf("due conversations: lock: %w", err)
	}
	var out []store.Conversation
	for i, c := range due {
		if ok[i] {
			if t.locked == nil {
				t.locked = map[int64]bool{}
			}
			t.locked[keys[i]] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// dueConversationsExceptQuery is DueConversationsQuery leaving out the
// conversations of two arrays (arguments: now, contacts, numbers,
// limit): a hashed filter on the same index scan.
func dueConversationsExceptQuery(d Dialect) string {
	skip := ""
	if d.SkipLocked != nil {
		skip = d.SkipLocked("conversations")
	}
	return `SELECT ` + conversationColumns + `
		FROM conversations WHERE deadline IS NOT NULL AND deadline <= ?
			AND (contact, number) NOT IN (SELECT * FROM unnest(CAST(? AS text[]), CAST(? AS text[])))
		ORDER BY deadline, contact, number LIMIT ?` + skip
}

// DueConversationsQuery is DueConversations' statement (arguments: now,
// limit). Its order is an index's (deadline, contact, number: SQLite's
// conversations_due, migration 00012; PostgreSQL's conversations_deadline),
// so that the first rows of a large backlog due at once are read from
// the index, not sorted from all of them again at every claim.
func DueConversationsQuery(d Dialect) string {
	skip := ""
	if d.SkipLocked != nil {
		skip = d.SkipLocked("conversations")
	}
	return `SELECT ` + conversationColumns + `
		FROM conversations WHERE deadline IS NOT NULL AND deadline <= ?
		ORDER BY deadline, contact, number LIMIT ?` + skip
}

// Opt-outs.

func (t *Tx) OptedOut(ctx context.Context, contact, number string) (bool, error) {
	var out bool
	err := t.queryRow(ctx, `SELECT opted_out FROM opt_outs WHERE contact = ? AND number = ?`,
		contact, number).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.errorf("opted out %s/%s: %w", contact, number, err)
	}
	return out, nil
}

// SetOptOut records the contact's choice and when it was made (a START
// keeps the row, with opted_out false).
func (t *Tx) SetOptOut(ctx context.Context, contact, number string, out bool, at time.Time) error {
	a, err := t.time(at)
	if err != nil {
		return err
	}
	return t.write(ctx, Queued{SQL: `
		INSERT INTO opt_outs (contact, number, opted_out, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (contact, number) DO UPDATE SET opted_out = excluded.opted_out, updated = excluded.updated`,
		Args:  []any{contact, number, out, a},
		Check: wrapped(func(err error) error { return t.errorf("set opt-out %s/%s: %w", contact, number, err) })})
}

// Tags.

// AddContactTag adds tag to the contact's tags; adding it again does
// nothing.
func (t *Tx) AddContactTag(ctx context.Context, contact, tag string) error {
	return t.write(ctx, Queued{SQL: `INSERT INTO contact_tags (contact, tag) VALUES (?, ?) ON CONFLICT DO NOTHING`, Args: []any{contact, tag},
		Check: wrapped(func(err error) error { return t.errorf("add tag %q to %s: %w", tag, contact, err) })})
}

// ContactTags returns the contact's tags, sorted bytewise.
func (t *Tx) ContactTags(ctx context.Context, contact string) ([]string, error) {
	rows, err := t.query(ctx, `SELECT tag FROM contact_tags WHERE contact = ? ORDER BY tag`+t.db.d.Bytewise, contact)
	tags, err := collect(rows, err, func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
	if err != nil {
		return nil, t.errorf("tags of %s: %w", contact, err)
	}
	return tags, nil
}

// Inbox: inbox.go. Round robin and the outbox's Enqueue.

// NextRoundRobin returns the team's counter modulo n and increments it,
// in one statement (an upsert: concurrent callers wait for each other's
// row and each get their own value).
func (t *Tx) NextRoundRobin(ctx context.Context, team string, n int) (int, error) {
	if n <= 0 {
		return 0, t.errorf("round robin for team %s over %d members", team, n)
	}
	var counter int64
	err := t.queryRow(ctx, `
		INSERT INTO round_robin (team, counter) VALUES (?, 1)
		ON CONFLICT (team) DO UPDATE SET counter = round_robin.counter + 1
		RETURNING counter - 1`, team).Scan(&counter)
	if err != nil {
		return 0, t.errorf("round robin for team %s: %w", team, err)
	}
	return int(counter % int64(n)), nil
}

func (t *Tx) Enqueue(ctx context.Context, o *store.OutboxItem) error {
	o.Destination = store.OutboxDestination(o.Kind, o.To)
	times, err := t.times(o.Created, o.NotBefore)
	if err != nil {
		return err
	}
	return t.insertInto(ctx, &o.ID, wrapped(func(err error) error { return t.errorf("enqueue: %w", err) }), `
		INSERT INTO outbox (kind, to_addr, from_addr, body, message_sid, contact, created, not_before, destination)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Kind, o.To, o.From, o.Body, o.MessageSID, o.Contact, times[0], times[1], o.Destination)
}

// ContactMessages reads messages_from_to_received: the count and the
// newest limit rows of one (contact, number) from since on.
func (t *Tx) ContactMessages(ctx context.Context, contact, number string, since time.Time, limit int) ([]store.InboxMessage, int, error) {
	if p, ok := t.takePrefetched(store.ContactMessagesKey{Contact: contact, Number: number, Since: since, Limit: limit}); ok {
		return p.msgs, p.total, nil // read with the batch's (PrefetchContactMessages)
	}
	where := `WHERE from_number = ? AND to_number = ? AND outcome <> 'timer'`
	args := []any{contact, number}
	if !since.IsZero() {
		from, err := t.time(since)
		if err != nil {
			return nil, 0, err
		}
		where += ` AND received >= ?`
		args = append(args, from)
	} else {
		where += ` AND received IS NOT NULL`
	}
	var total int
	if err := t.queryRow(ctx, `SELECT count(*) FROM messages `+where, args...).Scan(&total); err != nil {
		return nil, 0, t.errorf("messages of %s/%s: %w", contact, number, err)
	}
	if total == 0 || limit <= 0 {
		return nil, total, nil
	}
	rows, err := t.query(ctx, `SELECT sid, body, media, received FROM messages `+where+`
		ORDER BY received DESC, `+t.db.d.MessagesOrder+` DESC LIMIT ?`, append(args, limit)...)
	out, err := collect(rows, err, func(r *sql.Rows) (store.InboxMessage, error) {
		var m store.InboxMessage
		err := r.Scan(&m.SID, &m.Body, t.scanStrs(&m.Media), scanTime(&m.Received))
		m.Media = nonNil(m.Media)
		return m, err
	})
	if err != nil {
		return nil, 0, t.errorf("messages of %s/%s: %w", contact, number, err)
	}
	slices.Reverse(out)
	return out, total, nil
}
