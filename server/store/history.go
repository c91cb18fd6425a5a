package store

import (
	"context"
	"time"
)

// Interaction is one text or call between a contact and a business
// number (migration 00010's interactions): what flows read as the
// contact's history (runtime.History).
type Interaction struct {
	ID        int64
	Contact   string
	Number    string // the business number
	At        time.Time
	Kind      string // sms, call
	Direction string // inbound (from the contact), outbound
	// User is who sent, placed or answered it ("": a flow, a campaign or
	// the contact); Campaign the campaign that sent it ("": none), with
	// its reply address (ReplyUser, ReplyEmail; "" when none).
	User, Campaign, ReplyUser, ReplyEmail string
	// SID is the provider's id of the message or call when known (an
	// inbound MessageSid, a reported CallSid; "" for a reply in a
	// webhook's answer): unique per Kind. CauseSID is the inbound message
	// (or timer run) whose step sent it; OutboxID the outbox item that
	// carries it (0: none).
	SID, CauseSID string
	OutboxID      int64
}

// History is what a step reads of a contact's interactions
// (HistoryTx.ContactHistory), from one snapshot.
type History struct {
	Recent []Interaction // newest first, at most the limit asked for
	// The newest outbound SMS with a user, the newest call with a user
	// and the newest campaign send, nil when none: they may be older than
	// every interaction in Recent.
	LastTexted, LastCalled, Campaign *Interaction
}

// ListInfo is one operator-managed list.
type ListInfo struct {
	Name    string `json:"name"`
	Entries int    `json:"entries"`
}

// OutboundRequest is a POST /v1/outbound answered under an idempotency
// key.
type OutboundRequest struct {
	Key      string
	BodyHash string // of the request, so that another body under the key is told apart
	Response string // the JSON answered
	Created  time.Time
}

// HistoryTx is interactions, lists and outbound idempotency keys. A
// store's Tx implements it as well as Tx.
type HistoryTx interface {
	// RecordInteraction stores in and sets its ID; an SID already stored
	// for the kind is ErrConflict (wrapped), and the transaction must be
	// rolled back.
	RecordInteraction(ctx context.Context, in *Interaction) error
	// InteractionBySID is the interaction of the kind with the provider's
	// sid (ErrNotFound if none).
	InteractionBySID(ctx context.Context, kind, sid string) (*Interaction, error)
	// ContactHistory reads the contact's history: its newest limit
	// interactions and the newest of each kind History names, in one
	// statement.
	ContactHistory(ctx context.Context, contact string, limit int) (*History, error)
	// PruneInteractions deletes at most limit (> 0) interactions older
	// than before, oldest first, with the outbound idempotency keys older
	// than before, and says how many interactions it deleted.
	PruneInteractions(ctx context.Context, before time.Time, limit int) (int, error)

	// PutListEntry adds entry to the list (added false: it was there).
	PutListEntry(ctx context.Context, list, entry string, at time.Time) (added bool, err error)
	// DeleteListEntry removes entry from the list (ErrNotFound if absent).
	DeleteListEntry(ctx context.Context, list, entry string) error
	// InList reports whether entry is on the list.
	InList(ctx context.Context, list, entry string) (bool, error)
	// Lists lists the lists with entries, by name.
	Lists(ctx context.Context) ([]ListInfo, error)
	// ListEntries reads a list's entries, sorted bytewise, and the lists'
	// version they are of (ErrConflict, wrapped, when a change committed
	// while it read: read it again).
	ListEntries(ctx context.Context, list string) ([]string, int64, error)

	// OutboundRequest is the request answered under key (ErrNotFound if
	// none); SaveOutboundRequest stores one (a key stored is ErrConflict,
	// wrapped).
	OutboundRequest(ctx context.Context, key string) (*OutboundRequest, error)
	SaveOutboundRequest(ctx context.Context, r *OutboundRequest) error
}

// HistoryReader is a Store that reads a contact's history
// (HistoryTx.ContactHistory) as one statement outside any transaction,
// on its read connections (see StepReader).
type HistoryReader interface {
	ReadHistory(ctx context.Context, contact string, limit int) (*History, error)
}
