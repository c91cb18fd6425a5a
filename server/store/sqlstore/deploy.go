package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Deployments: programs, activation, routes; the store.DeployTx side:
// drafts, directory versions, conversation starts.

// SaveProgram stores p; saving a version again does nothing (the version
// is a hash of the program's behaviour: a different encoding of it, such
// as another file path, keeps the first; p.Active is ignored, only
// Activate activates); a version saved for another flow is
// *store.VersionConflictError. Replicas saving the same version at once
// both succeed (ON CONFLICT DO NOTHING waits for the other's insert, then
// the comparison sees it).
func (t *Tx) SaveProgram(ctx context.Context, p *store.Program) error {
	numbers, err := t.strs(nonNil(p.Numbers))
	if err != nil {
		return err
	}
	created, err := t.time(p.Created)
	if err != nil {
		return err
	}
	enc := p.Encoded
	if enc == nil {
		enc = []byte{}
	}
	n, err := affected(t.exec(ctx, `
		INSERT INTO programs (version, flow, encoded, numbers, created, active, channel, deployed_by) VALUES (?, ?, ?, ?, ?, false, ?, ?)
		ON CONFLICT (version) DO NOTHING`, p.Version, p.Flow, enc, numbers, created, channelOf(p.Channel), p.DeployedBy))
	if err != nil {
		return t.errorf("save program %s: %w", p.Version, err)
	}
	if n == 1 {
		return nil
	}
	var flow string
	if err := t.queryRow(ctx, `SELECT flow FROM programs WHERE version = ?`, p.Version).Scan(&flow); err != nil {
		return t.errorf("save program %s: %w", p.Version, err)
	}
	if flow != p.Flow {
		return &store.VersionConflictError{Version: p.Version, Flow: flow}
	}
	return nil
}

// SetProgramChannel corrects a saved version's channel and numbers.
func (t *Tx) SetProgramChannel(ctx context.Context, version, channel string, numbers []string) error {
	enc, err := t.strs(nonNil(numbers))
	if err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `UPDATE programs SET channel = ?, numbers = ? WHERE version = ?`, channelOf(channel), enc, version))
	if err != nil {
		return t.errorf("program %s: %w", version, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

const programColumns = `flow, version, encoded, numbers, created, active, channel, deployed_by`

// channelOf is a program's channel as stored: "" is "sms".
func channelOf(c string) string {
	if c == "" {
		return "sms"
	}
	return c
}

// routesTable is the table routing a channel's numbers.
func routesTable(channel string) string {
	if channel == "voice" {
		return "call_numbers"
	}
	return "numbers"
}

func (t *Tx) scanProgram(sc interface{ Scan(...any) error }) (store.Program, error) {
	var p store.Program
	err := sc.Scan(&p.Flow, &p.Version, &p.Encoded, t.scanStrs(&p.Numbers), scanTime(&p.Created), &p.Active, &p.Channel, &p.DeployedBy)
	if p.Channel == "sms" {
		p.Channel = "" // as vm.Program has it
	}
	p.Encoded = blob(p.Encoded)
	return p, err
}

func (t *Tx) Program(ctx context.Context, version string) (*store.Program, error) {
	p, err := t.scanProgram(t.queryRow(ctx, `SELECT `+programColumns+` FROM programs WHERE version = ?`, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, t.errorf("program %s: %w", version, err)
	}
	return &p, nil
}

func (t *Tx) programs(ctx context.Context, what, where string, args ...any) ([]store.Program, error) {
	rows, err := t.query(ctx, `SELECT `+programColumns+` FROM programs `+where, args...)
	out, err := collect(rows, err, func(r *sql.Rows) (store.Program, error) { return t.scanProgram(r) })
	if err != nil {
		return nil, t.errorf("%s: %w", what, err)
	}
	return out, nil
}

// Programs lists the flow's versions, newest (by Created) first.
func (t *Tx) Programs(ctx context.Context, flow string) ([]store.Program, error) {
	return t.programs(ctx, "programs of "+flow,
		`WHERE flow = ? ORDER BY created DESC NULLS LAST, `+t.db.d.ProgramsOrder+` DESC`, flow)
}

// ActivePrograms lists the active version of every flow, by flow.
func (t *Tx) ActivePrograms(ctx context.Context) ([]store.Program, error) {
	return t.programs(ctx, "active programs", `WHERE active = true ORDER BY flow`+t.db.d.Bytewise)
}

// lockDeployments takes the deployments' advisory lock, so that
// activations and routing changes from several replicas are applied one
// after the other (SQLite: the write transaction is exclusive already).
func (t *Tx) lockDeployments(ctx context.Context) error {
	return t.lock(ctx, deploymentsKey)
}

// Activate first takes the deployments' lock, so the numbers check below
// cannot be raced.
func (t *Tx) Activate(ctx context.Context, flow, version string, numbers []string, at time.Time) error {
	if err := t.lockDeployments(ctx); err != nil {
		return t.errorf("activate %s: lock: %w", version, err)
	}
	a, err := t.time(at)
	if err != nil {
		return err
	}
	var pflow, channel string
	err = t.queryRow(ctx, `SELECT flow, channel FROM programs WHERE version = ?`, version).Scan(&pflow, &channel)
	if errors.Is(err, sql.ErrNoRows) {
		return t.errorf("activate %s: %w", version, store.ErrNotFound)
	}
	if err != nil {
		return t.errorf("activate %s: %w", version, err)
	}
	if pflow != flow {
		return t.errorf("activate: version %s is of flow %q, not %q", version, pflow, flow)
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
		err := t.queryRow(ctx, `SELECT flow FROM `+routesTable(channel)+` WHERE number = ?`, n).Scan(&other)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return t.errorf("activate: number %s: %w", n, err)
		}
		if other != flow {
			taken := &store.NumberTakenError{Number: n, Flow: other}
			if channel == "voice" {
				taken.Channel = channel
			}
			return taken
		}
	}
	enc, err := t.strs(nums)
	if err != nil {
		return err
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE programs SET active = false WHERE flow = ? AND version <> ? AND active = true`, []any{flow, version}},
		{`UPDATE programs SET active = true, activated = ?, numbers = ? WHERE version = ?`, []any{a, enc, version}},
		// Both tables: a flow whose new version changed its channel
		// leaves the other channel's routes.
		{`DELETE FROM numbers WHERE flow = ?`, []any{flow}},
		{`DELETE FROM call_numbers WHERE flow = ?`, []any{flow}},
	}
	if len(nums) > 0 {
		q := `INSERT INTO ` + routesTable(channel) + ` (number, flow, version) VALUES (?, ?, ?)` + repeat(`, (?, ?, ?)`, len(nums)-1)
		var args []any
		for _, n := range nums {
			args = append(args, n, flow, version)
		}
		stmts = append(stmts, struct {
			q    string
			args []any
		}{q, args})
	}
	for _, s := range stmts {
		if _, err := t.exec(ctx, s.q, s.args...); err != nil {
			return t.errorf("activate %s: %w", version, err)
		}
	}
	return nil
}

func (t *Tx) Route(ctx context.Context, number string) (flow, version string, err error) {
	err = t.queryRow(ctx, `SELECT flow, version FROM numbers WHERE number = ?`, number).Scan(&flow, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", store.ErrNotFound
	}
	if err != nil {
		return "", "", t.errorf("route %s: %w", number, err)
	}
	return flow, version, nil
}

// Drafts.

func (t *Tx) SetDraft(ctx context.Context, d *store.Draft) error {
	var pflow string
	err := t.queryRow(ctx, `SELECT flow FROM programs WHERE version = ?`, d.Version).Scan(&pflow)
	if errors.Is(err, sql.ErrNoRows) {
		return t.errorf("draft %s: %w", d.Version, store.ErrNotFound)
	}
	if err != nil {
		return t.errorf("draft %s: %w", d.Version, err)
	}
	if pflow != d.Flow {
		return t.errorf("draft: version %s is of flow %q, not %q", d.Version, pflow, d.Flow)
	}
	numbers, err := t.strs(nonNil(d.Numbers))
	if err != nil {
		return err
	}
	created, err := t.time(d.Created)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM drafts WHERE flow = ?`, d.Flow); err != nil {
		return t.errorf("draft of %s: %w", d.Flow, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO drafts (flow, version, numbers, created) VALUES (?, ?, ?, ?)`,
		d.Flow, d.Version, numbers, created); err != nil {
		return t.errorf("draft of %s: %w", d.Flow, err)
	}
	if len(d.Contacts) == 0 {
		return nil
	}
	var args []any
	for _, c := range d.Contacts {
		args = append(args, c, d.Flow)
	}
	if _, err := t.exec(ctx, `INSERT INTO draft_contacts (contact, flow) VALUES (?, ?)`+repeat(`, (?, ?)`, len(d.Contacts)-1)+
		` ON CONFLICT DO NOTHING`, args...); err != nil {
		return t.errorf("draft of %s: contacts: %w", d.Flow, err)
	}
	return nil
}

// drafts reads the drafts, then (when there are any) their contacts.
func (t *Tx) drafts(ctx context.Context, where string, args ...any) ([]store.Draft, error) {
	rows, err := t.query(ctx, `SELECT d.flow, d.version, d.numbers, d.created FROM drafts d `+where+` ORDER BY d.flow`+t.db.d.Bytewise, args...)
	out, err := collect(rows, err, func(r *sql.Rows) (store.Draft, error) {
		var d store.Draft
		return d, r.Scan(&d.Flow, &d.Version, t.scanStrs(&d.Numbers), scanTime(&d.Created))
	})
	if err != nil {
		return nil, t.errorf("drafts: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	flows := make([]any, len(out))
	at := map[string]int{}
	for i, d := range out {
		flows[i] = d.Flow
		at[d.Flow] = i
		out[i].Contacts = []string{}
	}
	rows, err = t.query(ctx, `SELECT flow, contact FROM draft_contacts WHERE flow IN `+list(len(flows)), flows...)
	pairs, err := collect(rows, err, func(r *sql.Rows) ([2]string, error) {
		var p [2]string
		return p, r.Scan(&p[0], &p[1])
	})
	if err != nil {
		return nil, t.errorf("drafts: contacts: %w", err)
	}
	for _, p := range pairs {
		out[at[p[0]]].Contacts = append(out[at[p[0]]].Contacts, p[1])
	}
	for i := range out {
		sort.Strings(out[i].Contacts) // bytewise
	}
	return out, nil
}

func (t *Tx) Draft(ctx context.Context, flow string) (*store.Draft, error) {
	ds, err := t.drafts(ctx, `WHERE d.flow = ?`, flow)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, store.ErrNotFound
	}
	return &ds[0], nil
}

func (t *Tx) Drafts(ctx context.Context) ([]store.Draft, error) { return t.drafts(ctx, "") }

func (t *Tx) DraftsFor(ctx context.Context, contact string) ([]store.Draft, error) {
	return t.drafts(ctx, `WHERE d.flow IN (SELECT flow FROM draft_contacts WHERE contact = ?)`, contact)
}

func (t *Tx) DeleteDraft(ctx context.Context, flow string) error {
	if _, err := t.exec(ctx, `DELETE FROM drafts WHERE flow = ?`, flow); err != nil {
		return t.errorf("delete draft of %s: %w", flow, err)
	}
	return nil
}

// Directory versions.

func (t *Tx) DirectoryVersion(ctx context.Context, flow string) (string, error) {
	var v string
	err := t.queryRow(ctx, `SELECT version FROM directory_versions WHERE flow = ?`, flow).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", t.errorf("directory version of %s: %w", flow, err)
	}
	return v, nil
}

func (t *Tx) SetDirectoryVersion(ctx context.Context, flow, version string) error {
	_, err := t.exec(ctx, `INSERT INTO directory_versions (flow, version) VALUES (?, ?)
		ON CONFLICT (flow) DO UPDATE SET version = excluded.version`, flow, version)
	if err != nil {
		return t.errorf("directory version of %s: %w", flow, err)
	}
	return nil
}

// Conversation starts.

// epoch stands for an unknown received time in conversation_starts,
// whose column is NOT NULL.
var epoch = time.Unix(0, 0).UTC()

func (t *Tx) RecordStart(ctx context.Context, sid, flow string, received time.Time) error {
	if received.IsZero() {
		received = epoch
	}
	at, err := t.time(received)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO conversation_starts (sid, flow, received) VALUES (?, ?, ?)
		ON CONFLICT (sid) DO NOTHING`, sid, flow, at); err != nil {
		return t.errorf("record start %s: %w", sid, err)
	}
	return nil
}

// InsertStartingMessage is InsertMessage and RecordStart; with
// Dialect.ModifyingCTE one statement (the start's insert reads the
// message's RETURNING, so it happens only if the message's did), else
// the two.
func (t *Tx) InsertStartingMessage(ctx context.Context, m *store.Message) error {
	if !t.db.d.ModifyingCTE {
		if err := t.InsertMessage(ctx, m); err != nil {
			return err
		}
		return t.RecordStart(ctx, m.SID, m.Flow, m.Received)
	}
	received := m.Received
	if received.IsZero() {
		received = epoch
	}
	at, err := t.time(received)
	if err != nil {
		return err
	}
	// The casts: a SELECT's parameters have no column to take a type from.
	return t.insertMessage(ctx, m, `INSERT INTO conversation_starts (sid, flow, received)
		SELECT sid, CAST(? AS text), CAST(? AS timestamptz) FROM m ON CONFLICT (sid) DO NOTHING`, []any{m.Flow, at})
}

func (t *Tx) ConversationStarts(ctx context.Context, flow string, since time.Time, limit int) ([]store.Message, error) {
	if since.IsZero() {
		since = epoch
	}
	from, err := t.time(since)
	if err != nil {
		return nil, err
	}
	cols := "m." + replaceAll(messageColumns, ", ", ", m.")
	rows, err := t.query(ctx, `SELECT `+cols+`
		FROM conversation_starts s JOIN messages m ON m.sid = s.sid
		WHERE s.flow = ? AND s.received >= ? ORDER BY s.received DESC, s.sid DESC LIMIT ?`, flow, from, limitOrAll(limit))
	out, err := collect(rows, err, func(r *sql.Rows) (store.Message, error) { return t.scanMessage(r, false) })
	if err != nil {
		return nil, t.errorf("conversation starts of %s: %w", flow, err)
	}
	slices.Reverse(out)
	return out, nil
}
