package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// What flows change of a contact (store.EditsTx, migration 00011): the
// tables contact_untags, contact_fields and reply_marks.

var (
	_ store.EditsTx     = (*Tx)(nil)
	_ store.EditsReader = (*DB)(nil)
)

// editsQuery reads a contact's edits in one statement: one row per
// mark of the number, removed tag and set field. The marks come first:
// PostgreSQL types a UNION's NULL column by the first branch with a type.
const editsQuery = `
	SELECT 'm', mark, '', sent FROM reply_marks WHERE contact = ? AND number = ?
	UNION ALL SELECT 'u', tag, '', NULL FROM contact_untags WHERE contact = ?
	UNION ALL SELECT 'f', name, value, NULL FROM contact_fields WHERE contact = ?`

func scanEdits(rows *sql.Rows, err error) (*store.ContactEdits, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	e := &store.ContactEdits{}
	for rows.Next() {
		var kind, name, value string
		var at time.Time
		if err := rows.Scan(&kind, &name, &value, scanTime(&at)); err != nil {
			return nil, err
		}
		switch kind {
		case "u":
			e.Untags = append(e.Untags, name)
		case "f":
			if e.Fields == nil {
				e.Fields = map[string]string{}
			}
			e.Fields[name] = value
		case "m":
			if e.Marks == nil {
				e.Marks = map[string]time.Time{}
			}
			e.Marks[name] = at
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Strings(e.Untags)
	return e, nil
}

// ReadContactEdits reads the edits on the read pool (store.EditsReader).
func (db *DB) ReadContactEdits(ctx context.Context, contact, number string) (*store.ContactEdits, error) {
	rows, err := db.r.QueryContext(ctx, db.rebind(editsQuery), contact, number, contact, contact)
	e, err := scanEdits(rows, err)
	if err != nil {
		return nil, errors.Join(errors.New(db.d.Name+": edits of "+contact), err)
	}
	return e, nil
}

// ContactEdits reads the edits in this transaction.
func (t *Tx) ContactEdits(ctx context.Context, contact, number string) (*store.ContactEdits, error) {
	rows, err := t.query(ctx, editsQuery, contact, number, contact, contact)
	e, err := scanEdits(rows, err)
	if err != nil {
		return nil, t.errorf("edits of %s: %w", contact, err)
	}
	return e, nil
}

// UntagContact removes tag from the added tags and records it removed.
func (t *Tx) UntagContact(ctx context.Context, contact, tag string) error {
	if _, err := t.exec(ctx, `DELETE FROM contact_tags WHERE contact = ? AND tag = ?`, contact, tag); err != nil {
		return t.errorf("untag %q of %s: %w", tag, contact, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO contact_untags (contact, tag) VALUES (?, ?) ON CONFLICT DO NOTHING`, contact, tag); err != nil {
		return t.errorf("untag %q of %s: %w", tag, contact, err)
	}
	return nil
}

// KeepTag forgets an untag of tag.
func (t *Tx) KeepTag(ctx context.Context, contact, tag string) error {
	if _, err := t.exec(ctx, `DELETE FROM contact_untags WHERE contact = ? AND tag = ?`, contact, tag); err != nil {
		return t.errorf("keep tag %q of %s: %w", tag, contact, err)
	}
	return nil
}

// SetContactField sets (or, with "", removes) a field over the directory's.
func (t *Tx) SetContactField(ctx context.Context, contact, name, value string) error {
	_, err := t.exec(ctx, `
		INSERT INTO contact_fields (contact, name, value) VALUES (?, ?, ?)
		ON CONFLICT (contact, name) DO UPDATE SET value = excluded.value`, contact, name, value)
	if err != nil {
		return t.errorf("set field %q of %s: %w", name, contact, err)
	}
	return nil
}

// ClearContactEdits forgets the flows' edits of the fields named and,
// with tags, of the tags.
func (t *Tx) ClearContactEdits(ctx context.Context, contact string, fields []string, tags bool) error {
	for _, f := range fields {
		if _, err := t.exec(ctx, `DELETE FROM contact_fields WHERE contact = ? AND name = ?`, contact, f); err != nil {
			return t.errorf("clear field %q of %s: %w", f, contact, err)
		}
	}
	if tags {
		for _, q := range []string{`DELETE FROM contact_tags WHERE contact = ?`, `DELETE FROM contact_untags WHERE contact = ?`} {
			if _, err := t.exec(ctx, q, contact); err != nil {
				return t.errorf("clear tags of %s: %w", contact, err)
			}
		}
	}
	return nil
}

// MarkReply records when a once-per-period reply was sent.
func (t *Tx) MarkReply(ctx context.Context, contact, number, mark string, at time.Time) error {
	a, err := t.time(at)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `
		INSERT INTO reply_marks (contact, number, mark, sent) VALUES (?, ?, ?, ?)
		ON CONFLICT (contact, number, mark) DO UPDATE SET sent = excluded.sent`, contact, number, mark, a)
	if err != nil {
		return t.errorf("mark reply %s for %s/%s: %w", mark, contact, number, err)
	}
	return nil
}
