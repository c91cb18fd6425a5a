package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// A step's reads, merged: what used to be seven statements (conversation,
// SID, revision, opt-out, tags, route, drafts) is one, and the route
// table is read only when its version moved (see store.RouteTable).

// stepQuery reads everything store.StepState holds in one statement: a
// single row, every part of it a LEFT JOIN or scalar subquery on a
// primary key (the tags on contact_tags' primary key prefix), so one
// snapshot covers them all and each is one index probe.
func (db *DB) stepQuery() string { return db.stepQueryWith(store.StepReads{}) }

// stepQueryWith is stepQuery with, for ReadStepWith, the history's and
// the edits' statements (historyQuery's, editsQuery's) each folded into
// one more column: their rows as JSON (Dialect.JSONRows), still one
// statement and one snapshot.
func (db *DB) stepQueryWith(with store.StepReads) string {
	var more string
	if with.History {
		more += ",\n\t\t" + db.d.JSONRows("part, id, contact, number, "+db.d.JSONTime("at")+
			", kind, direction, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id",
			"SELECT 0 AS part, "+strings.TrimPrefix(historyQuery(with.HistoryLimit), "SELECT 0, "))
	}
	if with.Edits {
		more += ",\n\t\t" + db.d.JSONRows("k, name, value, "+db.d.JSONTime("at"), editsFolded)
	}
	return `SELECT c.contact, c.flow, c.version, c.state, c.deadline, c.updated, c.started,
		r.revision, o.opted_out, m.from_number, m.to_number, m.version, m.response,
		(SELECT ` + db.d.StringsAgg("tag") + ` FROM contact_tags WHERE contact = ?),
		(SELECT version FROM routes_version WHERE id = 1),
		(SELECT version FROM lists_version WHERE id = 1),
		(SELECT version FROM directory_version WHERE id = 1)` + more + `
	FROM (SELECT 1 AS one) AS one
	LEFT JOIN conversations c ON c.contact = ? AND c.number = ?
	LEFT JOIN conversation_revisions r ON r.contact = ? AND r.number = ?
	LEFT JOIN opt_outs o ON o.contact = ? AND o.number = ?
	LEFT JOIN messages m ON m.sid = ?`
}

// editsFolded is editsQuery with its columns named, for JSONRows.
const editsFolded = `
	SELECT 'm' AS k, mark AS name, '' AS value, sent AS at FROM reply_marks WHERE contact = ? AND number = ?
	UNION ALL SELECT 'u', tag, '', NULL FROM contact_untags WHERE contact = ?
	UNION ALL SELECT 'f', name, value, NULL FROM contact_fields WHERE contact = ?`

func (db *DB) scanStep(row scanner, contact, number string) (*store.StepState, error) {
	return db.scanStepWith(row, contact, number, store.StepReads{})
}

func (db *DB) scanStepWith(row scanner, contact, number string, with store.StepReads) (*store.StepState, error) {
	var (
		convContact                     sql.NullString
		c                               store.Conversation
		rev                             sql.NullInt64
		out                             sql.NullBool
		mFrom, mTo, mVersion, mResponse sql.NullString
		tags                            []string
		routes, lists, directory        sql.NullInt64
		cFlow, cVersion                 sql.NullString
	)
	var history, edits sql.NullString
	dst := []any{&convContact, &cFlow, &cVersion, &c.State, scanTime(&c.Deadline), scanTime(&c.Updated), scanTime(&c.Started),
		&rev, &out, &mFrom, &mTo, &mVersion, &mResponse, db.d.ScanStrings(&tags), &routes, &lists, &directory}
	if with.History {
		dst = append(dst, &history)
	}
	if with.Edits {
		dst = append(dst, &edits)
	}
	if err := row.Scan(dst...); err != nil {
		return nil, fmt.Errorf("%s: step state of %s/%s: %w", db.d.Name, contact, number, err)
	}
	if !routes.Valid {
		return nil, fmt.Errorf("%s: step state of %s/%s: routes_version has no row", db.d.Name, contact, number)
	}
	st := &store.StepState{Revision: rev.Int64, OptedOut: out.Valid && out.Bool, RoutesVersion: routes.Int64, ListsVersion: lists.Int64,
		DirectoryVersion: directory.Int64}
	if convContact.Valid {
		c.Contact, c.Number, c.Flow, c.Version, c.State = contact, number, cFlow.String, cVersion.String, blob(c.State)
		st.Conversation = &c
	}
	if mFrom.Valid {
		st.Answered = &store.Message{From: mFrom.String, To: mTo.String, Version: mVersion.String, Response: mResponse.String}
	}
	if len(tags) > 0 {
		sort.Strings(tags) // bytewise, as ContactTags
		st.Tags = tags
	}
	var err error
	if with.History {
		if st.History, err = foldedHistory(history); err != nil {
			return nil, fmt.Errorf("%s: history of %s: %w", db.d.Name, contact, err)
		}
	}
	if with.Edits {
		if st.Edits, err = foldedEdits(edits); err != nil {
			return nil, fmt.Errorf("%s: edits of %s: %w", db.d.Name, contact, err)
		}
	}
	return st, nil
}

func stepArgs(contact, number, sid string) []any {
	return stepArgsWith(contact, number, sid, store.StepReads{})
}

// stepArgsWith are stepQueryWith's arguments: the SELECT list's, in
// order (the tags', the history's, the edits'), then the joins'.
func stepArgsWith(contact, number, sid string, with store.StepReads) []any {
	args := []any{contact}
	if with.History {
		args = append(args, historyArgs(contact)...)
	}
	if with.Edits {
		args = append(args, contact, number, contact, contact)
	}
	return append(args, contact, number, contact, number, contact, number, sid)
}

// jsonRows decodes a JSONRows column (NULL: none), its numbers exact.
func jsonRows(col sql.NullString) ([][]any, error) {
	if !col.Valid {
		return nil, nil
	}
	d := json.NewDecoder(strings.NewReader(col.String))
	d.UseNumber()
	var rows [][]any
	if err := d.Decode(&rows); err != nil {
		return nil, fmt.Errorf("bad JSON rows %.80q: %w", col.String, err)
	}
	return rows, nil
}

// jsonText is a JSON row's text value ("" for null).
func jsonText(v any) string {
	s, _ := v.(string)
	return s
}

// jsonInt is a JSON row's integer value (0 for null).
func jsonInt(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		if v == nil {
			return 0, nil
		}
		return 0, fmt.Errorf("%v is not a number", v)
	}
	return n.Int64()
}

// jsonTime is a JSONTime value as a time (the zero time for null), in
// UTC as timeCol's.
func jsonTime(v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	n, err := jsonInt(v)
	return time.Unix(0, n).UTC(), err
}

// foldedHistory is store.History from stepQueryWith's history column:
// scanHistory's parts and order.
func foldedHistory(col sql.NullString) (*store.History, error) {
	rows, err := jsonRows(col)
	if err != nil {
		return nil, err
	}
	h := &store.History{}
	for _, r := range rows {
		if len(r) != 14 {
			return nil, fmt.Errorf("an interaction of %d columns, want 14", len(r))
		}
		part, err := jsonInt(r[0])
		if err != nil {
			return nil, err
		}
		in := store.Interaction{Contact: jsonText(r[2]), Number: jsonText(r[3]), Kind: jsonText(r[5]), Direction: jsonText(r[6]),
			User: jsonText(r[7]), Campaign: jsonText(r[8]), ReplyUser: jsonText(r[9]), ReplyEmail: jsonText(r[10]),
			SID: jsonText(r[11]), CauseSID: jsonText(r[12])}
		if in.ID, err = jsonInt(r[1]); err != nil {
			return nil, err
		}
		if in.At, err = jsonTime(r[4]); err != nil {
			return nil, err
		}
		if in.OutboxID, err = jsonInt(r[13]); err != nil {
			return nil, err
		}
		addHistoryPart(h, int(part), in)
	}
	sortRecent(h)
	return h, nil
}

// foldedEdits is store.ContactEdits from stepQueryWith's edits column:
// scanEdits' result.
func foldedEdits(col sql.NullString) (*store.ContactEdits, error) {
	rows, err := jsonRows(col)
	if err != nil {
		return nil, err
	}
	e := &store.ContactEdits{}
	for _, r := range rows {
		if len(r) != 4 {
			return nil, fmt.Errorf("an edit of %d columns, want 4", len(r))
		}
		name, value := jsonText(r[1]), jsonText(r[2])
		switch jsonText(r[0]) {
		case "u":
			e.Untags = append(e.Untags, name)
		case "f":
			if e.Fields == nil {
				e.Fields = map[string]string{}
			}
			e.Fields[name] = value
		case "m":
			at, err := jsonTime(r[3])
			if err != nil {
				return nil, err
			}
			if e.Marks == nil {
				e.Marks = map[string]time.Time{}
			}
			e.Marks[name] = at
		}
	}
	sort.Strings(e.Untags)
	return e, nil
}

// StepState reads store.StepState in this transaction, in one statement.
func (t *Tx) StepState(ctx context.Context, contact, number, sid string) (*store.StepState, error) {
	return t.db.scanStep(t.queryRow(ctx, t.db.stepQuery(), stepArgs(contact, number, sid)...), contact, number)
}

// ReadStep is StepState as one statement on its own, outside any
// transaction, on the read pool (SQLite: a read-only WAL connection, so
// the writers' one connection is left to commits; PostgreSQL: the pool,
// one round trip instead of BEGIN, the statement and COMMIT).
func (db *DB) ReadStep(ctx context.Context, contact, number, sid string) (*store.StepState, error) {
	q := db.rebind(db.stepQuery())
	args := stepArgs(contact, number, sid)
	if st := db.readStmt(ctx, q); st != nil {
		return db.scanStep(st.QueryRowContext(ctx, args...), contact, number)
	}
	return db.scanStep(db.r.QueryRowContext(ctx, q, args...), contact, number)
}

// ReadStepWith is ReadStep with, in the same statement, the contact's
// history and edits as with asks (store.StepReaderWith): one round trip
// where ReadStep, ReadHistory and ReadContactEdits take three.
// A dialect without JSONRows reads them apart.
func (db *DB) ReadStepWith(ctx context.Context, contact, number, sid string, with store.StepReads) (*store.StepState, error) {
	if db.d.JSONRows == nil || db.d.JSONTime == nil {
		return db.readStepApart(ctx, contact, number, sid, with)
	}
	q := db.rebind(db.stepQueryWith(with))
	args := stepArgsWith(contact, number, sid, with)
	if st := db.readStmt(ctx, q); st != nil {
		return db.scanStepWith(st.QueryRowContext(ctx, args...), contact, number, with)
	}
	return db.scanStepWith(db.r.QueryRowContext(ctx, q, args...), contact, number, with)
}

// readStepApart is ReadStepWith as ReadStep, ReadHistory and
// ReadContactEdits.
func (db *DB) readStepApart(ctx context.Context, contact, number, sid string, with store.StepReads) (*store.StepState, error) {
	st, err := db.ReadStep(ctx, contact, number, sid)
	if err == nil && with.History {
		st.History, err = db.ReadHistory(ctx, contact, with.HistoryLimit)
	}
	if err == nil && with.Edits {
		st.Edits, err = db.ReadContactEdits(ctx, contact, number)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// readStmt is q prepared on the read pool (PrepareStatements), nil when
// it cannot be (then q is run unprepared).
func (db *DB) readStmt(ctx context.Context, q string) *sql.Stmt {
	if !db.d.PrepareStatements {
		return nil
	}
	if v, ok := db.rstmts.Load(q); ok {
		return v.(*sql.Stmt)
	}
	st, err := db.r.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if v, loaded := db.rstmts.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	return st
}

// RoutesVersion reads the route table's version.
func (t *Tx) RoutesVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := t.queryRow(ctx, `SELECT version FROM routes_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, t.errorf("routes version: %w", err)
	}
	return v, nil
}

// RouteTable reads the version, the numbers and the drafts, then the
// version again: every change to those tables bumps the version in its
// own transaction (the triggers of migration 00009), so an unchanged
// version means no change committed in between, and the statements in
// between (each its own snapshot at PostgreSQL's READ COMMITTED) saw the
// table as of that version.
func (t *Tx) RouteTable(ctx context.Context) (*store.RouteTable, error) {
	v, err := t.RoutesVersion(ctx)
	if err != nil {
		return nil, err
	}
	numbers, err := t.Numbers(ctx)
	if err != nil {
		return nil, err
	}
	calls, err := t.CallNumbers(ctx)
	if err != nil {
		return nil, err
	}
	drafts, err := t.Drafts(ctx)
	if err != nil {
		return nil, err
	}
	again, err := t.RoutesVersion(ctx)
	if err != nil {
		return nil, err
	}
	if again != v {
		return nil, t.errorf("route table changed while read (version %d, then %d): %w", v, again, store.ErrConflict)
	}
	return &store.RouteTable{Version: v, Numbers: numbers, Calls: calls, Drafts: drafts}, nil
}

// AdvanceRevisionRouted is AdvanceRevision's compare-and-swap with the
// route table's version as a further condition of the same statement
// (the INSERT as INSERT … SELECT … WHERE, which both databases take with
// ON CONFLICT when the SELECT has a WHERE). Only when it changes no row
// does a second statement tell which condition failed.
func (t *Tx) AdvanceRevisionRouted(ctx context.Context, contact, number string, from, routes int64) (bool, error) {
	const sameRoutes = `(SELECT version FROM routes_version WHERE id = 1) = ?`
	var res sql.Result
	var err error
	if from == 0 {
		res, err = t.exec(ctx, `INSERT INTO conversation_revisions (contact, number, revision) SELECT ?, ?, 1
			WHERE `+sameRoutes+` ON CONFLICT DO NOTHING`, contact, number, routes)
	} else {
		res, err = t.exec(ctx, `UPDATE conversation_revisions SET revision = revision + 1
			WHERE contact = ? AND number = ? AND revision = ? AND `+sameRoutes, contact, number, from, routes)
	}
	n, err := affected(res, err)
	if err != nil {
		return false, t.errorf("advance revision of %s/%s: %w", contact, number, err)
	}
	if n == 1 {
		return false, nil
	}
	v, err := t.RoutesVersion(ctx)
	if err != nil {
		return false, err
	}
	if v == routes {
		return false, t.errorf("revision of %s/%s is no longer %d: %w", contact, number, from, store.ErrConflict)
	}
	return true, t.AdvanceRevision(ctx, contact, number, from)
}

// AdvanceRevisionRoutedThen is AdvanceRevisionRouted as a write that a
// pipeline can queue (store.RoutedRevisionTx): the statement's count is
// checked when it is sent, and only when it changed no row are the route
// table's version read and the revision advanced on its own, then moved
// run, once the rest of the pipeline has been sent.
func (t *Tx) AdvanceRevisionRoutedThen(ctx context.Context, contact, number string, from, routes int64, moved func(context.Context) error) error {
	if !t.pipelining() {
		m, err := t.AdvanceRevisionRouted(ctx, contact, number, from, routes)
		if err != nil || !m {
			return err
		}
		return moved(ctx)
	}
	const sameRoutes = `(SELECT version FROM routes_version WHERE id = 1) = ?`
	q := Queued{SQL: `UPDATE conversation_revisions SET revision = revision + 1
			WHERE contact = ? AND number = ? AND revision = ? AND ` + sameRoutes, Args: []any{contact, number, from, routes}}
	if from == 0 {
		q = Queued{SQL: `INSERT INTO conversation_revisions (contact, number, revision) SELECT ?, ?, 1
			WHERE ` + sameRoutes + ` ON CONFLICT DO NOTHING`, Args: []any{contact, number, routes}}
	}
	var advanced bool
	q.Check = func(n int64, err error) error {
		if err != nil {
			return t.errorf("advance revision of %s/%s: %w", contact, number, err)
		}
		advanced = n == 1
		return nil
	}
	q.After = func(ctx context.Context) error {
		if advanced {
			return nil
		}
		v, err := t.RoutesVersion(ctx)
		if err != nil {
			return err
		}
		if v == routes {
			return t.errorf("revision of %s/%s is no longer %d: %w", contact, number, from, store.ErrConflict)
		}
		if err := t.AdvanceRevision(ctx, contact, number, from); err != nil {
			return err
		}
		return moved(ctx)
	}
	return t.write(ctx, q)
}

// scanner is a row to scan: *sql.Row, *sql.Rows, a Tx's row.
type scanner interface{ Scan(dst ...any) error }
