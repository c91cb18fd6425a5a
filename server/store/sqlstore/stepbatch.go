package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// ReadStepsBatch is store.StepBatchReader's ReadSteps: the StepState of
// each of keys, as ReadStep reads one, in one statement where the
// dialect takes arrays (Dialect.Arrays: the keys unnested, each part a
// LEFT JOIN on a primary key as in stepQuery, one snapshot for all),
// else one ReadStep after another. (The stores name it ReadSteps where
// it is one statement: PostgreSQL's.)
func (db *DB) ReadStepsBatch(ctx context.Context, keys []store.StepKey) ([]*store.StepState, error) {
	out := make([]*store.StepState, len(keys))
	if !db.d.Arrays || len(keys) == 1 {
		for i, k := range keys {
			st, err := db.ReadStep(ctx, k.Contact, k.Number, k.SID)
			if err != nil {
				return nil, err
			}
			out[i] = st
		}
		return out, nil
	}
	contacts, numbers, sids := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		contacts[i], numbers[i], sids[i] = k.Contact, k.Number, k.SID
	}
	var lists []any
	for _, a := range [][]string{contacts, numbers, sids} {
		v, err := db.d.Strings(a)
		if err != nil {
			return nil, err
		}
		lists = append(lists, v)
	}
	args := db.planEach(lists...)
	rows, err := db.r.QueryContext(ctx, db.rebind(db.stepsQuery()), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: step states of %d conversations: %w", db.d.Name, len(keys), err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		st, err := db.scanStep(prefixed{rows, &i}, "", "")
		if err != nil {
			return nil, err
		}
		if i < 1 || int(i) > len(keys) || out[i-1] != nil {
			return nil, fmt.Errorf("%s: step states: row %d of %d keys", db.d.Name, i, len(keys))
		}
		if c := st.Conversation; c != nil {
			c.Contact, c.Number = keys[i-1].Contact, keys[i-1].Number
		}
		out[i-1] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: step states of %d conversations: %w", db.d.Name, len(keys), err)
	}
	for i, st := range out {
		if st == nil {
			return nil, fmt.Errorf("%s: step state of %s/%s: no row", db.d.Name, keys[i].Contact, keys[i].Number)
		}
	}
	return out, nil
}

// stepsQuery is stepQuery for many keys (arguments: the contacts, the
// numbers and the SIDs, as three lists): a row per key, led by the key's
// place in the lists (from 1).
func (db *DB) stepsQuery() string {
	return `SELECT k.i, c.contact, c.flow, c.version, c.state, c.deadline, c.updated, c.started,
		r.revision, o.opted_out, m.from_number, m.to_number, m.version, m.response,
		(SELECT ` + db.d.StringsAgg("tag") + ` FROM contact_tags WHERE contact = k.contact),
		v.routes, v.lists, v.directory
	FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[])) WITH ORDINALITY AS k(contact, number, sid, i)
	CROSS JOIN (SELECT (SELECT version FROM routes_version WHERE id = 1) AS routes,
		(SELECT version FROM lists_version WHERE id = 1) AS lists,
		(SELECT version FROM directory_version WHERE id = 1) AS directory) AS v
	LEFT JOIN conversations c ON c.contact = k.contact AND c.number = k.number
	LEFT JOIN conversation_revisions r ON r.contact = k.contact AND r.number = k.number
	LEFT JOIN opt_outs o ON o.contact = k.contact AND o.number = k.number
	LEFT JOIN messages m ON m.sid = k.sid`
}

// prefixed scans a row whose first column is first's, then the rest.
type prefixed struct {
	rows  *sql.Rows
	first any
}

func (p prefixed) Scan(dst ...any) error {
	return p.rows.Scan(append([]any{p.first}, dst...)...)
}

// messagesKey is a store.ContactMessagesKey as a map key.
type messagesKey struct {
	contact, number string
	since           int64
	limit           int
}

func keyOf(k store.ContactMessagesKey) messagesKey {
	return messagesKey{k.Contact, k.Number, k.Since.UnixNano(), k.Limit}
}

// prefetchedMessages is one ContactMessages answer read ahead.
type prefetchedMessages struct {
	msgs  []store.InboxMessage
	total int
}

var _ store.ContactMessagesPrefetcher = (*Tx)(nil)

// PrefetchContactMessages reads the ContactMessages of each of keys in
// one statement where the dialect takes arrays (a count and the newest
// rows of each key, LATERAL, on messages_from_to_received), and keeps
// them for the ContactMessages calls with the same arguments
// (store.ContactMessagesPrefetcher); elsewhere it does nothing.
func (t *Tx) PrefetchContactMessages(ctx context.Context, keys []store.ContactMessagesKey) error {
	if !t.db.d.Arrays {
		return nil
	}
	var contacts, numbers []string
	var since []time.Time
	var limits []int64
	for _, k := range keys {
		if k.Since.IsZero() {
			continue // read apart (received IS NOT NULL)
		}
		contacts, numbers, since, limits = append(contacts, k.Contact), append(numbers, k.Number), append(since, k.Since), append(limits, int64(max(k.Limit, 0)))
	}
	if len(contacts) == 0 {
		return nil
	}
	cs, err := t.db.d.Strings(contacts)
	if err != nil {
		return err
	}
	ns, err := t.db.d.Strings(numbers)
	if err != nil {
		return err
	}
	args := t.db.planEach(cs, ns, since, limits)
	rows, err := t.query(ctx, `SELECT k.i, t.total, m.sid, m.body, m.media, m.received
		FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS timestamptz[]), CAST(? AS bigint[])) WITH ORDINALITY AS k(contact, number, since, lim, i)
		CROSS JOIN LATERAL (SELECT count(*) AS total FROM messages
			WHERE from_number = k.contact AND to_number = k.number AND outcome <> 'timer' AND received >= k.since) AS t
		LEFT JOIN LATERAL (SELECT sid, body, media, received FROM messages
			WHERE from_number = k.contact AND to_number = k.number AND outcome <> 'timer' AND received >= k.since
			ORDER BY received DESC, `+t.db.d.MessagesOrder+` DESC LIMIT k.lim) AS m ON true
		ORDER BY k.i, m.received DESC, m.`+t.db.d.MessagesOrder+` DESC`, args...)
	if err != nil {
		return t.errorf("messages of %d conversations: %w", len(contacts), err)
	}
	defer rows.Close()
	got := make([]prefetchedMessages, len(contacts))
	for rows.Next() {
		var (
			i     int64
			total int
			sid   sql.NullString
			body  sql.NullString
			m     store.InboxMessage
		)
		if err := rows.Scan(&i, &total, &sid, &body, t.scanStrs(&m.Media), scanTime(&m.Received)); err != nil {
			return t.errorf("messages of %d conversations: %w", len(contacts), err)
		}
		if i < 1 || int(i) > len(got) {
			return t.errorf("messages of %d conversations: row %d", len(contacts), i)
		}
		g := &got[i-1]
		g.total = total
		if sid.Valid && total > 0 {
			m.SID, m.Body, m.Media = sid.String, body.String, nonNil(m.Media)
			g.msgs = append(g.msgs, m)
		}
	}
	if err := rows.Err(); err != nil {
		return t.errorf("messages of %d conversations: %w", len(contacts), err)
	}
	if t.prefetched == nil {
		t.prefetched = map[messagesKey]prefetchedMessages{}
	}
	for i := range got {
		slices.Reverse(got[i].msgs) // oldest first, as ContactMessages
		if got[i].total == 0 || limits[i] <= 0 {
			got[i].msgs = nil
		}
		t.prefetched[messagesKey{contacts[i], numbers[i], since[i].UnixNano(), int(limits[i])}] = got[i]
	}
	return nil
}

// takePrefetched is the answer PrefetchContactMessages read for k, once.
func (t *Tx) takePrefetched(k store.ContactMessagesKey) (prefetchedMessages, bool) {
	p, ok := t.prefetched[keyOf(k)]
	if ok {
		delete(t.prefetched, keyOf(k))
	}
	return p, ok
}
