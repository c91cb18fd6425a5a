package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// The store.DeployTx side: drafts, directory versions, conversation
// starts (migration 00005).

var _ store.DeployTx = (*tx)(nil)

func (t *tx) SetDraft(ctx context.Context, d *store.Draft) error {
	var pflow string
	err := t.queryRow(ctx, `SELECT flow FROM programs WHERE version = ?`, d.Version).Scan(&pflow)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite store: draft %s: %w", d.Version, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: draft %s: %w", d.Version, err)
	}
	if pflow != d.Flow {
		return fmt.Errorf("sqlite store: draft: version %s is of flow %q, not %q", d.Version, pflow, d.Flow)
	}
	numbers, err := encStrings(nonNil(d.Numbers))
	if err != nil {
		return err
	}
	created, err := encTime(d.Created)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM drafts WHERE flow = ?`, d.Flow); err != nil {
		return fmt.Errorf("sqlite store: draft of %s: %w", d.Flow, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO drafts (flow, version, numbers, created) VALUES (?, ?, ?, ?)`,
		d.Flow, d.Version, numbers, created); err != nil {
		return fmt.Errorf("sqlite store: draft of %s: %w", d.Flow, err)
	}
	for _, c := range d.Contacts {
		if _, err := t.exec(ctx, `INSERT OR IGNORE INTO draft_contacts (contact, flow) VALUES (?, ?)`, c, d.Flow); err != nil {
			return fmt.Errorf("sqlite store: draft of %s: contact: %w", d.Flow, err)
		}
	}
	return nil
}

func (t *tx) drafts(ctx context.Context, where string, args ...any) ([]store.Draft, error) {
	rows, err := t.query(ctx, `SELECT d.flow, d.version, d.numbers, d.created,
		COALESCE((SELECT json_group_array(contact) FROM (SELECT contact FROM draft_contacts c WHERE c.flow = d.flow ORDER BY contact)), '[]')
		FROM drafts d `+where+` ORDER BY d.flow`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: drafts: %w", err)
	}
	defer rows.Close()
	var out []store.Draft
	for rows.Next() {
		var (
			d                 store.Draft
			numbers, contacts string
			created           sql.NullInt64
		)
		if err := rows.Scan(&d.Flow, &d.Version, &numbers, &created, &contacts); err != nil {
			return nil, fmt.Errorf("sqlite store: drafts: %w", err)
		}
		if d.Numbers, err = decStrings(numbers); err != nil {
			return nil, err
		}
		if d.Contacts, err = decStrings(contacts); err != nil {
			return nil, err
		}
		d.Created = decTime(created)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: drafts: %w", err)
	}
	return out, nil
}

func (t *tx) Draft(ctx context.Context, flow string) (*store.Draft, error) {
	ds, err := t.drafts(ctx, `WHERE d.flow = ?`, flow)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, store.ErrNotFound
	}
	return &ds[0], nil
}

func (t *tx) Drafts(ctx context.Context) ([]store.Draft, error) { return t.drafts(ctx, "") }

func (t *tx) DraftsFor(ctx context.Context, contact string) ([]store.Draft, error) {
	return t.drafts(ctx, `WHERE d.flow IN (SELECT flow FROM draft_contacts WHERE contact = ?)`, contact)
}

func (t *tx) DeleteDraft(ctx context.Context, flow string) error {
	if _, err := t.exec(ctx, `DELETE FROM drafts WHERE flow = ?`, flow); err != nil {
		return fmt.Errorf("sqlite store: delete draft of %s: %w", flow, err)
	}
	return nil
}

func (t *tx) DirectoryVersion(ctx context.Context, flow string) (string, error) {
	var v string
	err := t.queryRow(ctx, `SELECT version FROM directory_versions WHERE flow = ?`, flow).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite store: directory version of %s: %w", flow, err)
	}
	return v, nil
}

func (t *tx) SetDirectoryVersion(ctx context.Context, flow, version string) error {
	_, err := t.exec(ctx, `INSERT INTO directory_versions (flow, version) VALUES (?, ?)
		ON CONFLICT (flow) DO UPDATE SET version = excluded.version`, flow, version)
	if err != nil {
		return fmt.Errorf("sqlite store: directory version of %s: %w", flow, err)
	}
	return nil
}

func (t *tx) RecordStart(ctx context.Context, sid, flow string, received time.Time) error {
	at, err := encTime(received)
	if err != nil {
		return err
	}
	if at == nil {
		at = int64(0)
	}
	if _, err := t.exec(ctx, `INSERT OR IGNORE INTO conversation_starts (sid, flow, received) VALUES (?, ?, ?)`, sid, flow, at); err != nil {
		return fmt.Errorf("sqlite store: record start %s: %w", sid, err)
	}
	return nil
}

func (t *tx) ConversationStarts(ctx context.Context, flow string, since time.Time, limit int) ([]store.Message, error) {
	from, err := encTime(since)
	if err != nil {
		return nil, err
	}
	if from == nil {
		from = int64(0)
	}
	rows, err := t.query(ctx, `
		SELECT m.sid, m.from_number, m.to_number, m.body, m.media, m.flow, m.version, m.outcome, m.response, m.trace, m.received
		FROM conversation_starts s JOIN messages m ON m.sid = s.sid
		WHERE s.flow = ? AND s.received >= ? ORDER BY s.received DESC, s.sid DESC LIMIT ?`, flow, from, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: conversation starts of %s: %w", flow, err)
	}
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		var (
			m        store.Message
			media    string
			received sql.NullInt64
		)
		if err := rows.Scan(&m.SID, &m.From, &m.To, &m.Body, &media, &m.Flow, &m.Version, &m.Outcome, &m.Response, &m.Trace, &received); err != nil {
			return nil, fmt.Errorf("sqlite store: conversation starts of %s: %w", flow, err)
		}
		if m.Media, err = decStrings(media); err != nil {
			return nil, err
		}
		m.Trace = blob(m.Trace)
		m.Received = decTime(received)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: conversation starts of %s: %w", flow, err)
	}
	slices.Reverse(out)
	return out, nil
}

func nonNil(a []string) []string {
	if a == nil {
		return []string{}
	}
	return a
}
