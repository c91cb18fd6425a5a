package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Interactions, lists and outbound idempotency keys (migration 00010).

var (
	_ store.HistoryTx     = (*Tx)(nil)
	_ store.HistoryReader = (*DB)(nil)
)

const interactionCols = `id, contact, number, at, kind, direction, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id`

// nullable is s as a column value: "" is NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// RecordInteraction inserts in; a (kind, sid) stored is ErrConflict.
func (t *Tx) RecordInteraction(ctx context.Context, in *store.Interaction) error {
	at, err := t.time(in.At)
	if err != nil {
		return err
	}
	if at == nil {
		return t.errorf("interaction of %s/%s: no time", in.Contact, in.Number)
	}
	var outbox any
	if in.OutboxID != 0 {
		outbox = in.OutboxID
	}
	kind, sid, contact, number := in.Kind, in.SID, in.Contact, in.Number
	return t.insertInto(ctx, &in.ID, wrapped(func(err error) error {
		if t.db.d.IsDuplicate(err) {
			return t.errorf("interaction %s %s: %w", kind, sid, store.ErrConflict)
		}
		return t.errorf("interaction of %s/%s: %w", contact, number, err)
	}), `INSERT INTO interactions (contact, number, at, kind, direction, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.Contact, in.Number, at, in.Kind, in.Direction,
		nullable(in.User), nullable(in.Campaign), nullable(in.ReplyUser), nullable(in.ReplyEmail), in.SID, in.CauseSID, outbox)
}

func scanInteraction(sc interface{ Scan(...any) error }, part *int) (store.Interaction, error) {
	var (
		in                                 store.Interaction
		user, campaign, replyUser, replyTo sql.NullString
		outbox                             sql.NullInt64
	)
	dst := []any{&in.ID, &in.Contact, &in.Number, scanTime(&in.At), &in.Kind, &in.Direction, &user, &campaign, &replyUser, &replyTo,
		&in.SID, &in.CauseSID, &outbox}
	if part != nil {
		dst = append([]any{part}, dst...)
	}
	err := sc.Scan(dst...)
	in.User, in.Campaign, in.ReplyUser, in.ReplyEmail, in.OutboxID = user.String, campaign.String, replyUser.String, replyTo.String, outbox.Int64
	return in, err
}

// InteractionBySID is the interaction of kind with the provider's sid.
func (t *Tx) InteractionBySID(ctx context.Context, kind, sid string) (*store.Interaction, error) {
	in, err := scanInteraction(t.queryRow(ctx, `SELECT `+interactionCols+` FROM interactions WHERE kind = ? AND sid = ? AND sid <> ''`, kind, sid), nil)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.errorf("interaction %s %s: %w", kind, sid, store.ErrNotFound)
	}
	if err != nil {
		return nil, t.errorf("interaction %s %s: %w", kind, sid, err)
	}
	return &in, nil
}

// historyQuery reads store.History in one statement: four parts, each an
// index range read backwards from the contact's newest (the covering
// indexes of migration 00010), tagged with the part they answer. The
// limit is written into the text, not bound: SQLite (3.47 on) plans a
// bound LIMIT by its value and so marks the statement expired at every
// bind, parsing and planning it again each time (a fifth of a lookup's
// CPU in a profile).
func historyQuery(limit int) string {
	return historyRecent + strconv.Itoa(max(limit, 0)) + historyRest
}

const historyRecent = `SELECT 0, ` + interactionCols + ` FROM (SELECT ` + interactionCols + ` FROM interactions
		WHERE contact = ? ORDER BY at DESC, id DESC LIMIT `

const historyRest = `) AS recent
	UNION ALL SELECT 1, ` + interactionCols + ` FROM (SELECT ` + interactionCols + ` FROM interactions
		WHERE contact = ? AND kind = 'sms' AND user_name IS NOT NULL AND direction = 'outbound' ORDER BY at DESC, id DESC LIMIT 1) AS texted
	UNION ALL SELECT 2, ` + interactionCols + ` FROM (SELECT ` + interactionCols + ` FROM interactions
		WHERE contact = ? AND kind = 'call' AND user_name IS NOT NULL ORDER BY at DESC, id DESC LIMIT 1) AS called
	UNION ALL SELECT 3, ` + interactionCols + ` FROM (SELECT ` + interactionCols + ` FROM interactions
		WHERE contact = ? AND campaign IS NOT NULL ORDER BY at DESC, id DESC LIMIT 1) AS campaign`

func historyArgs(contact string) []any {
	return []any{contact, contact, contact, contact}
}

func (db *DB) scanHistory(rows *sql.Rows, err error, contact string) (*store.History, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: history of %s: %w", db.d.Name, contact, err)
	}
	defer rows.Close()
	h := &store.History{}
	for rows.Next() {
		var part int
		in, err := scanInteraction(rows, &part)
		if err != nil {
			return nil, fmt.Errorf("%s: history of %s: %w", db.d.Name, contact, err)
		}
		addHistoryPart(h, part, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: history of %s: %w", db.d.Name, contact, err)
	}
	sortRecent(h)
	return h, nil
}

// ContactHistory reads store.History in this transaction.
func (t *Tx) ContactHistory(ctx context.Context, contact string, limit int) (*store.History, error) {
	rows, err := t.query(ctx, historyQuery(limit), historyArgs(contact)...)
	return t.db.scanHistory(rows, err, contact)
}

// ReadHistory is ContactHistory as one statement outside any
// transaction, on the read pool (as ReadStep).
func (db *DB) ReadHistory(ctx context.Context, contact string, limit int) (*store.History, error) {
	q := db.rebind(historyQuery(limit))
	args := historyArgs(contact)
	if st := db.readStmt(ctx, q); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return db.scanHistory(rows, err, contact)
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	return db.scanHistory(rows, err, contact)
}

// PruneInteractions deletes the oldest limit interactions before before
// (by interactions_at), and the outbound idempotency keys older than it.
func (t *Tx) PruneInteractions(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, t.errorf("prune interactions: a batch of %d", limit)
	}
	b, err := t.time(before)
	if err != nil || b == nil {
		return 0, err
	}
	n, err := affected(t.exec(ctx, `DELETE FROM interactions WHERE id IN (SELECT id FROM interactions WHERE at < ? ORDER BY at LIMIT ?)`, b, limit))
	if err != nil {
		return 0, t.errorf("prune interactions: %w", err)
	}
	if _, err := t.exec(ctx, `DELETE FROM outbound_requests WHERE key IN (SELECT key FROM outbound_requests WHERE created < ? ORDER BY created LIMIT ?)`, b, limit); err != nil {
		return 0, t.errorf("prune outbound requests: %w", err)
	}
	return int(n), nil
}

// PutListEntry adds entry to list.
func (t *Tx) PutListEntry(ctx context.Context, list, entry string, at time.Time) (bool, error) {
	a, err := t.time(at)
	if err != nil {
		return false, err
	}
	n, err := affected(t.exec(ctx, `INSERT INTO list_entries (list, entry, added) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, list, entry, a))
	if err != nil {
		return false, t.errorf("list %s: add %q: %w", list, entry, err)
	}
	return n == 1, nil
}

// DeleteListEntry removes entry from list.
func (t *Tx) DeleteListEntry(ctx context.Context, list, entry string) error {
	n, err := affected(t.exec(ctx, `DELETE FROM list_entries WHERE list = ? AND entry = ?`, list, entry))
	if err != nil {
		return t.errorf("list %s: remove %q: %w", list, entry, err)
	}
	if n == 0 {
		return t.errorf("list %s has no entry %q: %w", list, entry, store.ErrNotFound)
	}
	return nil
}

// InList reports whether entry is on list (one primary key probe).
func (t *Tx) InList(ctx context.Context, list, entry string) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM list_entries WHERE list = ? AND entry = ?`, list, entry).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.errorf("list %s: %w", list, err)
	}
	return true, nil
}

// Lists counts the entries of every list.
func (t *Tx) Lists(ctx context.Context) ([]store.ListInfo, error) {
	rows, err := t.query(ctx, `SELECT list, count(*) FROM list_entries GROUP BY list ORDER BY list`+t.db.d.Bytewise)
	out, err := collect(rows, err, func(r *sql.Rows) (store.ListInfo, error) {
		var l store.ListInfo
		return l, r.Scan(&l.Name, &l.Entries)
	})
	if err != nil {
		return nil, t.errorf("lists: %w", err)
	}
	return out, nil
}

func (t *Tx) listsVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := t.queryRow(ctx, `SELECT version FROM lists_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, t.errorf("lists version: %w", err)
	}
	return v, nil
}

// ListEntries reads the version, the entries, then the version again
// (see RouteTable: an unchanged version means the entries are of it).
func (t *Tx) ListEntries(ctx context.Context, list string) ([]string, int64, error) {
	v, err := t.listsVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	rows, err := t.query(ctx, `SELECT entry FROM list_entries WHERE list = ? ORDER BY entry`+t.db.d.Bytewise, list)
	entries, err := collect(rows, err, func(r *sql.Rows) (string, error) {
		var e string
		return e, r.Scan(&e)
	})
	if err != nil {
		return nil, 0, t.errorf("list %s: %w", list, err)
	}
	again, err := t.listsVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	if again != v {
		return nil, 0, t.errorf("lists changed while read (version %d, then %d): %w", v, again, store.ErrConflict)
	}
	return entries, v, nil
}

// OutboundRequest is the request answered under key.
func (t *Tx) OutboundRequest(ctx context.Context, key string) (*store.OutboundRequest, error) {
	r := store.OutboundRequest{Key: key}
	err := t.queryRow(ctx, `SELECT body_hash, response, created FROM outbound_requests WHERE key = ?`, key).Scan(&r.BodyHash, &r.Response, scanTime(&r.Created))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.errorf("outbound request %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, t.errorf("outbound request %q: %w", key, err)
	}
	return &r, nil
}

// SaveOutboundRequest stores r; a key stored is ErrConflict.
func (t *Tx) SaveOutboundRequest(ctx context.Context, r *store.OutboundRequest) error {
	c, err := t.time(r.Created)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO outbound_requests (key, body_hash, response, created) VALUES (?, ?, ?, ?)`, r.Key, r.BodyHash, r.Response, c)
	if err != nil && t.db.d.IsDuplicate(err) {
		return t.errorf("outbound request %q: %w", r.Key, store.ErrConflict)
	}
	if err != nil {
		return t.errorf("outbound request %q: %w", r.Key, err)
	}
	return nil
}

// addHistoryPart puts in, a row of historyQuery's part part (0 the
// newest interactions, 1 the newest text with a user, 2 the newest call
// with one, 3 the newest campaign send), in its place in h.
func addHistoryPart(h *store.History, part int, in store.Interaction) {
	switch part {
	case 0:
		h.Recent = append(h.Recent, in)
	case 1:
		h.LastTexted = &in
	case 2:
		h.LastCalled = &in
	case 3:
		h.Campaign = &in
	}
}

// sortRecent orders h.Recent newest first, the later row first at the
// same time (the UNION of historyQuery's parts keeps no order).
func sortRecent(h *store.History) {
	sort.SliceStable(h.Recent, func(i, j int) bool {
		a, b := h.Recent[i], h.Recent[j]
		if !a.At.Equal(b.At) {
			return a.At.After(b.At)
		}
		return a.ID > b.ID
	})
}
