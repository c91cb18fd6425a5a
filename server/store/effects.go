package store

import (
	"context"
	"time"
)

// ContactEdits is what flows changed of a contact beyond the tags they
// added (Tx.AddContactTag): the tags they removed, the fields they set
// ("" removes the directory's), and when each once-per-period reply was
// last sent to the contact on one business number. The server reads it
// with the contact for every message, so that an edit made in one
// conversation is seen by the next.
type ContactEdits struct {
	Untags []string             // sorted bytewise
	Fields map[string]string    // nil when none
	Marks  map[string]time.Time // by mark, for the number asked about; nil when none
}

// EditsReader reads a contact's edits outside any transaction (on
// SQLite's read connection), beside the step's one-statement read.
type EditsReader interface {
	ReadContactEdits(ctx context.Context, contact, number string) (*ContactEdits, error)
}

// EditsTx writes the edits in the step's transaction (server/effects.go)
// and the admin API's (PATCH /v1/admin/contacts/{phone}).
type EditsTx interface {
	// ContactEdits is ReadContactEdits in this transaction.
	ContactEdits(ctx context.Context, contact, number string) (*ContactEdits, error)
	// UntagContact removes tag: from the added tags, and from the
	// directory's as the contact is seen.
	UntagContact(ctx context.Context, contact, tag string) error
	// KeepTag undoes an untag of tag (a flow or the operator tagged it
	// again).
	KeepTag(ctx context.Context, contact, tag string) error
	// SetContactField sets the field name; "" removes it.
	SetContactField(ctx context.Context, contact, name, value string) error
	// ClearContactEdits forgets what flows set of the fields named (the
	// operator's value is the truth again) and, with tags, every tag flows
	// added or removed.
	ClearContactEdits(ctx context.Context, contact string, fields []string, tags bool) error
	// MarkReply records that the once-per-period reply mark was sent to
	// contact on number at at.
	MarkReply(ctx context.Context, contact, number, mark string, at time.Time) error
}
