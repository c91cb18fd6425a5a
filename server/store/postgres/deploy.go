package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/flowc-dev/flowc/server/store"
)

// The store.DeployTx side: drafts, directory versions, conversation
// starts (migration 00005).

var _ store.DeployTx = (*tx)(nil)

func (t *tx) SetDraft(ctx context.Context, d *store.Draft) error {
	var pflow string
	err := t.tx.QueryRow(ctx, `SELECT flow FROM programs WHERE version = $1`, d.Version).Scan(&pflow)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres store: draft %s: %w", d.Version, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres store: draft %s: %w", d.Version, err)
	}
	if pflow != d.Flow {
		return fmt.Errorf("postgres store: draft: version %s is of flow %q, not %q", d.Version, pflow, d.Flow)
	}
	if _, err := t.tx.Exec(ctx, `DELETE FROM drafts WHERE flow = $1`, d.Flow); err != nil {
		return fmt.Errorf("postgres store: draft of %s: %w", d.Flow, err)
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO drafts (flow, version, numbers, created) VALUES ($1, $2, $3, $4)`,
		d.Flow, d.Version, strs(d.Numbers), encTime(d.Created)); err != nil {
		return fmt.Errorf("postgres store: draft of %s: %w", d.Flow, err)
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO draft_contacts (contact, flow) SELECT DISTINCT c, $2 FROM unnest($1::text[]) AS c`,
		strs(d.Contacts), d.Flow); err != nil {
		return fmt.Errorf("postgres store: draft of %s: contacts: %w", d.Flow, err)
	}
	return nil
}

func (t *tx) drafts(ctx context.Context, where string, args ...any) ([]store.Draft, error) {
	rows, err := t.tx.Query(ctx, `SELECT d.flow, d.version, d.numbers, d.created,
		COALESCE((SELECT array_agg(contact ORDER BY contact COLLATE "C") FROM draft_contacts c WHERE c.flow = d.flow), '{}')
		FROM drafts d `+where+` ORDER BY d.flow COLLATE "C"`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres store: drafts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Draft, error) {
		var (
			d       store.Draft
			created pgtype.Timestamptz
		)
		err := r.Scan(&d.Flow, &d.Version, &d.Numbers, &created, &d.Contacts)
		d.Created = decTime(created)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres store: drafts: %w", err)
	}
	return out, nil
}

func (t *tx) Draft(ctx context.Context, flow string) (*store.Draft, error) {
	ds, err := t.drafts(ctx, `WHERE d.flow = $1`, flow)
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
	return t.drafts(ctx, `WHERE d.flow IN (SELECT flow FROM draft_contacts WHERE contact = $1)`, contact)
}

func (t *tx) DeleteDraft(ctx context.Context, flow string) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM drafts WHERE flow = $1`, flow); err != nil {
		return fmt.Errorf("postgres store: delete draft of %s: %w", flow, err)
	}
	return nil
}

func (t *tx) DirectoryVersion(ctx context.Context, flow string) (string, error) {
	var v string
	err := t.tx.QueryRow(ctx, `SELECT version FROM directory_versions WHERE flow = $1`, flow).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres store: directory version of %s: %w", flow, err)
	}
	return v, nil
}

func (t *tx) SetDirectoryVersion(ctx context.Context, flow, version string) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO directory_versions (flow, version) VALUES ($1, $2)
		ON CONFLICT (flow) DO UPDATE SET version = excluded.version`, flow, version)
	if err != nil {
		return fmt.Errorf("postgres store: directory version of %s: %w", flow, err)
	}
	return nil
}

func (t *tx) RecordStart(ctx context.Context, sid, flow string, received time.Time) error {
	if _, err := t.tx.Exec(ctx, `INSERT INTO conversation_starts (sid, flow, received) VALUES ($1, $2, $3)
		ON CONFLICT (sid) DO NOTHING`, sid, flow, received); err != nil {
		return fmt.Errorf("postgres store: record start %s: %w", sid, err)
	}
	return nil
}

func (t *tx) ConversationStarts(ctx context.Context, flow string, since time.Time, limit int) ([]store.Message, error) {
	rows, err := t.tx.Query(ctx, `
		SELECT m.sid, m.from_number, m.to_number, m.body, m.media, m.flow, m.version, m.outcome, m.response, m.trace, m.received
		FROM conversation_starts s JOIN messages m ON m.sid = s.sid
		WHERE s.flow = $1 AND s.received >= $2 ORDER BY s.received DESC, s.sid DESC LIMIT $3`, flow, since, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres store: conversation starts of %s: %w", flow, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Message, error) {
		var (
			m        store.Message
			received pgtype.Timestamptz
		)
		err := r.Scan(&m.SID, &m.From, &m.To, &m.Body, &m.Media, &m.Flow, &m.Version, &m.Outcome, &m.Response, &m.Trace, &received)
		m.Trace = blob(m.Trace)
		m.Received = decTime(received)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres store: conversation starts of %s: %w", flow, err)
	}
	slices.Reverse(out)
	return out, nil
}
