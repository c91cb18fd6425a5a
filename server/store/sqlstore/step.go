package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/flowc-dev/flowc/server/store"
)

// A step's reads, merged: what used to be seven statements (conversation,
// SID, revision, opt-out, tags, route, drafts) is one, and the route
// table is read only when its version moved (see store.RouteTable).

// stepQuery reads everything store.StepState holds in one statement: a
// single row, every part of it a LEFT JOIN or scalar subquery on a
// primary key (the tags on contact_tags' primary key prefix), so one
// snapshot covers them all and each is one index probe.
func (db *DB) stepQuery() string {
	return `SELECT c.contact, c.flow, c.version, c.state, c.deadline, c.updated, c.started,
		r.revision, o.opted_out, m.from_number, m.to_number, m.version, m.response,
		(SELECT ` + db.d.StringsAgg("tag") + ` FROM contact_tags WHERE contact = ?),
		(SELECT version FROM routes_version WHERE id = 1),
		(SELECT version FROM lists_version WHERE id = 1)
	FROM (SELECT 1 AS one) AS one
	LEFT JOIN conversations c ON c.contact = ? AND c.number = ?
	LEFT JOIN conversation_revisions r ON r.contact = ? AND r.number = ?
	LEFT JOIN opt_outs o ON o.contact = ? AND o.number = ?
	LEFT JOIN messages m ON m.sid = ?`
}

func (db *DB) scanStep(row *sql.Row, contact, number string) (*store.StepState, error) {
	var (
		convContact                     sql.NullString
		c                               store.Conversation
		rev                             sql.NullInt64
		out                             sql.NullBool
		mFrom, mTo, mVersion, mResponse sql.NullString
		tags                            []string
		routes, lists                   sql.NullInt64
		cFlow, cVersion                 sql.NullString
	)
	err := row.Scan(&convContact, &cFlow, &cVersion, &c.State, scanTime(&c.Deadline), scanTime(&c.Updated), scanTime(&c.Started),
		&rev, &out, &mFrom, &mTo, &mVersion, &mResponse, db.d.ScanStrings(&tags), &routes, &lists)
	if err != nil {
		return nil, fmt.Errorf("%s: step state of %s/%s: %w", db.d.Name, contact, number, err)
	}
	if !routes.Valid {
		return nil, fmt.Errorf("%s: step state of %s/%s: routes_version has no row", db.d.Name, contact, number)
	}
	st := &store.StepState{Revision: rev.Int64, OptedOut: out.Valid && out.Bool, RoutesVersion: routes.Int64, ListsVersion: lists.Int64}
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
	return st, nil
}

func stepArgs(contact, number, sid string) []any {
	return []any{contact, contact, number, contact, number, contact, number, sid}
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
	return &store.RouteTable{Version: v, Numbers: numbers, Drafts: drafts}, nil
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
