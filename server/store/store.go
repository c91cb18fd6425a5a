// Package store is the server's persistence: deployed program versions,
// number assignments, conversations, processed messages (for exactly-once
// webhooks), inbox items, the outbox, opt-outs and contact tags.
//
// Everything an inbound message changes is written inside one Tx, so the
// webhook answers only after the message, the conversation's new state,
// the inbox items and any outgoing messages have committed together: a
// crash before the commit means the provider retries; a crash after it
// means the retry finds the stored answer (StepState's Answered) and
// changes nothing. The server reads in one statement (StepState, outside
// any Tx on a StepReader), runs the flow with no Tx open, and writes in a
// Tx that first checks, with AdvanceRevision (AdvanceRevisionRouted for a
// conversation's first message, which checks the route table's version
// too), that the conversation did not change in between; the message's
// INSERT, unique by SID, is what makes it exactly once.
//
// Store is an interface so the embedded SQLite store (the default) and the
// PostgreSQL store (for several replicas) pass one conformance suite.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is returned by lookups that find nothing.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned (wrapped) when a write finds that what it was
// computed from changed meanwhile: AdvanceRevision on a revision another
// step advanced, InsertMessage of a MessageSid another transaction stored.
// The transaction is then unusable; the caller rolls it back and starts
// over from its reads.
var ErrConflict = errors.New("store: conflict")

// NumberTakenError is returned by Activate when one of the numbers is
// routed to another flow: a number has exactly one SMS flow.
type NumberTakenError struct {
	Number  string // the number asked for
	Flow    string // the flow that serves it now
	Channel string // whose routes: "" (texts) or "voice" (calls)
}

func (e *NumberTakenError) Error() string {
	return fmt.Sprintf("store: number %s is already served by flow %q", e.Number, e.Flow)
}

// VersionConflictError is returned by SaveProgram when the version is
// already saved for another flow.
type VersionConflictError struct {
	Version string
	Flow    string // the flow it is saved for
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("store: version %s is already saved for flow %q", e.Version, e.Flow)
}

// Store is a transactional database.
type Store interface {
	// InTx runs fn in one transaction and commits it if fn returns nil.
	// Writers are serialised per conversation: Conversation locks the
	// conversation's row until the transaction ends. fn may be retried on
	// a serialisation failure, so it must have no effects outside tx.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Ping checks the database is reachable (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// Tx is what one transaction can read and write.
type Tx interface {
	// LockConversation serialises transactions of one conversation
	// (contact + business number), across processes too, until this
	// transaction ends. The server takes it first in a step's commit, so
	// two deliveries of one message, or two messages of one conversation,
	// never interleave. (SQLite: every write transaction is
	// already exclusive; PostgreSQL: a transaction-scoped advisory lock.)
	LockConversation(ctx context.Context, contact, number string) error

	// Messages (exactly once).
	MessageBySID(ctx context.Context, sid string) (*Message, error) // ErrNotFound if new
	// InsertMessage stores m; an SID already stored is ErrConflict
	// (wrapped), and the transaction must be rolled back.
	InsertMessage(ctx context.Context, m *Message) error

	// Revisions: optimistic concurrency for conversations. A
	// conversation's revision counts the steps (messages, timers)
	// committed to it; it survives DeleteConversation, so a conversation
	// that ended and started again between a read and a commit is seen
	// to have changed. ConversationRevision is 0 for a (contact, number)
	// never advanced. AdvanceRevision moves it from `from` to from+1, or
	// fails with ErrConflict (wrapped) when it is no longer `from`.
	ConversationRevision(ctx context.Context, contact, number string) (int64, error)
	AdvanceRevision(ctx context.Context, contact, number string, from int64) error
	// AdvanceRevisionRouted is AdvanceRevision and, in the same
	// statement, a check that the route table's version is still routes
	// (RoutesVersion): a commit that starts a conversation checks both at
	// the cost of one. When the revision is still from but the version
	// moved, it advances the revision all the same and says routesMoved,
	// for the caller to check the route itself.
	AdvanceRevisionRouted(ctx context.Context, contact, number string, from, routes int64) (routesMoved bool, err error)

	// Conversations: one per (contact, number). Conversation locks the row
	// (SELECT … FOR UPDATE on PostgreSQL) and returns ErrNotFound when
	// there is no conversation in progress.
	Conversation(ctx context.Context, contact, number string) (*Conversation, error)
	SaveConversation(ctx context.Context, c *Conversation) error
	DeleteConversation(ctx context.Context, contact, number string) error
	// DueConversations lists conversations whose deadline is at or before
	// now (for the timer scheduler), at most limit.
	DueConversations(ctx context.Context, now time.Time, limit int) ([]Conversation, error)

	// StepState reads, in one statement (one snapshot, no lock), what a
	// step of the conversation (contact, number) depends on: the
	// conversation, its revision, the opt-out, the contact's tags, the
	// message stored under sid ("": not looked up) and the route table's
	// version. The commit's AdvanceRevision is what makes it safe to act
	// on: see StepState.
	StepState(ctx context.Context, contact, number, sid string) (*StepState, error)
	// RoutesVersion is the route table's version (see RouteTable): it
	// grows with every change to a number's route or to a draft, in the
	// transaction of the change.
	RoutesVersion(ctx context.Context) (int64, error)

	// Opt-outs (STOP / START), per contact and number.
	OptedOut(ctx context.Context, contact, number string) (bool, error)
	SetOptOut(ctx context.Context, contact, number string, out bool, at time.Time) error

	// Contacts' tags, added by `tag`.
	AddContactTag(ctx context.Context, contact, tag string) error
	ContactTags(ctx context.Context, contact string) ([]string, error)

	// Inbox.
	AddInboxItem(ctx context.Context, it *InboxItem) error // sets it.ID
	InboxItems(ctx context.Context, targetKind, targetName string, includeDone bool) ([]InboxItem, error)
	MarkInboxDone(ctx context.Context, id int64, at time.Time) error
	// ContactMessages lists what contact wrote to number at or after
	// since: the stored messages from contact to number, without timers'
	// runs (Outcome "timer"), the newest limit of them, oldest first, and
	// how many there are in all. It reads an index on (from, to,
	// received), for an inbox item's messages (InboxItem.Messages).
	ContactMessages(ctx context.Context, contact, number string, since time.Time, limit int) ([]InboxMessage, int, error)
	// OpenItemCounts counts not-done items per user (for least-busy).
	OpenItemCounts(ctx context.Context, users []string) (map[string]int, error)
	// NextRoundRobin returns the index of the member to pick next for
	// team (0..n-1) and advances the team's counter.
	NextRoundRobin(ctx context.Context, team string, n int) (int, error)

	// Outbox: messages and forwards to send after the commit.
	Enqueue(ctx context.Context, o *OutboxItem) error // sets o.ID

	// Deployments.
	//
	// SaveProgram is idempotent by Version: a version is a hash of what
	// the program does (compiler version, flow name, source, applets), so
	// saving a version again stores nothing, even when its encoding
	// differs in what does not change behaviour (the file's path); the
	// first encoding saved is kept. A version already saved for another
	// flow is *VersionConflictError, and nothing is changed.
	SaveProgram(ctx context.Context, p *Program) error
	Program(ctx context.Context, version string) (*Program, error)
	Programs(ctx context.Context, flow string) ([]Program, error) // newest first
	// Activate makes version the active one of its flow and routes the
	// given numbers to it (a number has exactly one SMS flow and one call
	// flow: the program's Channel says which it is). The numbers
	// replace the flow's: a number the flow served that is not listed is
	// no longer routed, and the program's Numbers become numbers. A number
	// routed to another flow is refused with *NumberTakenError (nothing is
	// changed). ErrNotFound if version was never saved.
	Activate(ctx context.Context, flow, version string, numbers []string, at time.Time) error
	// Route returns the active flow and version serving number.
	Route(ctx context.Context, number string) (flow, version string, err error)
	// ActivePrograms lists the active version of every flow.
	ActivePrograms(ctx context.Context) ([]Program, error)
}

// AdminTx is what the admin API needs beyond Tx: the number routing
// table. A store's Tx implements it as well as Tx.
type AdminTx interface {
	// Numbers lists every routed number, sorted.
	Numbers(ctx context.Context) ([]NumberRoute, error)
	// UnroutedNumbers lists numbers that received messages while no flow
	// served them, and still have none.
	UnroutedNumbers(ctx context.Context) ([]string, error)
	// AssignNumber routes number to flow's active version (ErrNotFound if
	// the flow has none), taking it from any other flow of the same
	// channel: its texts for an SMS flow, its calls for a call flow. It
	// returns the flow's channel ("sms" or "voice").
	AssignNumber(ctx context.Context, number, flow string) (channel string, err error)
	// UnassignNumber stops routing number's texts (channel "sms") or
	// calls ("voice"); ErrNotFound if they were not routed.
	UnassignNumber(ctx context.Context, number, channel string) error

	// Pages, for listings that may be long: at most limit (0: all) of
	// them, after the cursor after (the last number of the page before;
	// "" for the first page), in the order of the full listing.
	NumbersPage(ctx context.Context, after string, limit int) ([]NumberRoute, error)
	// CallNumbersPage is NumbersPage for the numbers routed to call
	// flows.
	CallNumbersPage(ctx context.Context, after string, limit int) ([]NumberRoute, error)
	UnroutedNumbersPage(ctx context.Context, after string, limit int) ([]string, error)
	// InboxPage lists at most limit (> 0) of the target's items with an
	// ID above after, oldest first, and the cursor of the next page (the
	// last ID listed; 0 when there are no more).
	InboxPage(ctx context.Context, targetKind, targetName string, includeDone bool, after int64, limit int) ([]InboxItem, int64, error)
}

// RetentionTx deletes history past its retention. A store's Tx
// implements it as well as Tx.
type RetentionTx interface {
	// PruneMessages deletes at most limit (> 0) of the stored messages
	// received before before (their traces with them), oldest first,
	// with the conversation starts that name them, and says how many
	// messages it deleted. A message with no received time is kept.
	PruneMessages(ctx context.Context, before time.Time, limit int) (int, error)
}

// Reader is a Store that can run read-only transactions apart from the
// writers (on SQLite, a read-only connection in WAL mode, so that an
// admin listing never holds the write connection). fn must only read.
type Reader interface {
	InReadTx(ctx context.Context, fn func(tx Tx) error) error
}

// StepReader is a Store that reads a step's state (Tx.StepState) in one
// statement outside any transaction, on its read connections: one round
// trip, and on SQLite not the writers' connection (a WAL reader sees
// every transaction committed before it starts).
type StepReader interface {
	ReadStep(ctx context.Context, contact, number, sid string) (*StepState, error)
}

// ConversationTryLocker is a Tx that can take the locks of several
// conversations (LockConversation's) in one statement without waiting:
// the server's group commit (server/commit.go) takes a batch's locks so,
// and commits the conversations whose lock another transaction holds
// apart, each waiting for its own lock, so that one held lock never
// stalls the batch's other conversations. It says, for each
// conversation in the order given, whether this transaction now holds
// its lock (a lock it held before counts as taken). Where every write
// transaction is exclusive (SQLite) all are taken.
type ConversationTryLocker interface {
	TryLockConversations(ctx context.Context, convs []ConversationKey) ([]bool, error)
}

// ConversationKey names a conversation: its contact and business number.
type ConversationKey struct{ Contact, Number string }

// DueExcepter is a Tx's DueConversations leaving out the conversations
// of except (the timer scheduler's own in flight, still due until their
// steps commit): neither returned nor locked (on PostgreSQL a claim's
// conversation locks, though held only until its transaction ends, sent
// a batch's steps of those conversations to commit apart), limit
// counted past them.
type DueExcepter interface {
	DueConversationsExcept(ctx context.Context, now time.Time, limit int, except []ConversationKey) ([]Conversation, error)
}

// StepState is what a step reads of a conversation (Tx.StepState), all
// from one snapshot.
type StepState struct {
	Conversation *Conversation // in progress; nil when none
	Revision     int64         // the conversation's revision (0: never advanced)
	OptedOut     bool          // the contact sent STOP to the number
	Tags         []string      // the contact's tags, sorted bytewise
	// Answered is the message stored under the SID asked for (nil: none),
	// with its From, To, Version and Response only.
	Answered *Message
	// RoutesVersion is the route table's version at the snapshot.
	RoutesVersion int64
	// ListsVersion is the operator lists' version at the snapshot
	// (HistoryTx.ListEntries).
	ListsVersion int64
	// DirectoryVersion is the stored directory's version at the snapshot
	// (directory_version, bumped when the admin API saves it): a replica
	// whose directory is older loads the stored one again.
	DirectoryVersion int64
	// History and Edits are the contact's history and edits, read in
	// the same statement when StepReads asked for them (StepReaderWith);
	// nil when not asked.
	History *History
	Edits   *ContactEdits
}

// StepReads is what a StepReaderWith reads beyond StepState's own
// parts: the contact's history, its newest HistoryLimit interactions
// (HistoryReader.ReadHistory's), and its edits with the number's marks
// (EditsReader.ReadContactEdits').
type StepReads struct {
	History      bool
	HistoryLimit int
	Edits        bool
}

// StepReaderWith is a StepReader that also reads, in the same statement
// (one round trip instead of three), the contact's history and edits.
type StepReaderWith interface {
	ReadStepWith(ctx context.Context, contact, number, sid string, with StepReads) (*StepState, error)
}

// RouteTable is every number's route and every draft, as of Version
// (DeployTx.RouteTable): what a server keeps in memory to route first
// messages, reloading it when RoutesVersion moves past Version.
type RouteTable struct {
	Version int64
	Numbers []NumberRoute // sorted by number
	Calls   []NumberRoute // the numbers routed to call flows, sorted by number
	Drafts  []Draft       // by flow
}

// NumberRoute is one routed number.
type NumberRoute struct {
	Number  string `json:"number"`
	Flow    string `json:"flow"`
	Version string `json:"version"`
}

// Message is one processed inbound message and the answer given to it.
type Message struct {
	SID      string // provider's message id (Twilio MessageSid)
	From     string // the contact
	To       string // the business number
	Body     string
	Media    []string
	Flow     string // the flow that handled it ("" when none)
	Version  string // the program version that handled it
	Outcome  string // routed, opted-out, opt-in, help, no-flow, error
	Response string // the exact body answered to the provider (TwiML or JSON)
	Trace    []byte // JSON trace of the steps taken
	Received time.Time
	Details  []byte // the provider's other parameters as JSON (AccountSid, FromCity, …); nil when none
}

// Conversation is a suspended conversation's state.
type Conversation struct {
	Contact  string
	Number   string
	Flow     string
	Version  string    // the program version it started on
	State    []byte    // the vm.State as JSON
	Deadline time.Time // zero: no timer
	Updated  time.Time
	// Started is when the conversation's first message was received (its
	// Received), so that an inbox item can show every message of the
	// conversation (ContactMessages since Started).
	Started time.Time
}

// InboxItem is a message delivered to a user's or team's inbox.
type InboxItem struct {
	ID         int64
	TargetKind string // user or team
	TargetName string
	Assignee   string // the member chosen by the strategy ("" for all)
	MessageSID string
	Contact    string
	Number     string
	Body       string // the message that caused the delivery ("" for a timer)
	Flow       string
	Created    time.Time
	Done       bool
	DoneAt     time.Time

	// Messages is what the contact wrote in the conversation up to the
	// delivery, oldest first (the last is the message that caused it),
	// as the server bounds it; MessagesOmitted counts the conversation's
	// earlier messages left out by those bounds. Items stored before the
	// server kept them have none.
	Messages        []InboxMessage
	MessagesOmitted int
}

// InboxMessage is one message from the contact, as an inbox item keeps it.
type InboxMessage struct {
	SID      string
	Body     string
	Media    []string
	Received time.Time
	// Clipped: Body or Media was cut to fit the item's bound (a single
	// message longer than the bound).
	Clipped bool `json:",omitempty"`
}

// inboxMessageJSON is how a store keeps InboxMessage in its column: times
// as unix nanoseconds, so that it does not depend on a time format.
type inboxMessageJSON struct {
	SID      string   `json:"sid"`
	Body     string   `json:"body"`
	Media    []string `json:"media,omitempty"`
	Received int64    `json:"received"`
	Clipped  bool     `json:"clipped,omitempty"`
}

// EncodeInboxMessages is the stores' encoding of InboxItem.Messages (a
// JSON array).
func EncodeInboxMessages(ms []InboxMessage) (string, error) {
	out := make([]inboxMessageJSON, len(ms))
	for i, m := range ms {
		out[i] = inboxMessageJSON{SID: m.SID, Body: m.Body, Media: m.Media, Clipped: m.Clipped}
		if !m.Received.IsZero() {
			out[i].Received = m.Received.UnixNano()
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// DecodeInboxMessages reverses EncodeInboxMessages; Media is never nil.
// An empty array is nil.
func DecodeInboxMessages(s string) ([]InboxMessage, error) {
	var in []inboxMessageJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("store: inbox item messages: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]InboxMessage, len(in))
	for i, m := range in {
		out[i] = InboxMessage{SID: m.SID, Body: m.Body, Media: m.Media, Clipped: m.Clipped}
		if out[i].Media == nil {
			out[i].Media = []string{}
		}
		if m.Received != 0 {
			out[i].Received = time.Unix(0, m.Received).UTC()
		}
	}
	return out, nil
}

// OutboxItem is something to send after the commit.
type OutboxItem struct {
	ID         int64
	Kind       string // sms, email, webhook
	To         string // phone number, e-mail address or URL
	From       string // for sms: the business number
	Body       string // text, or JSON for webhooks
	MessageSID string // the inbound message that caused it ("" for a timer)
	Contact    string // the contact it concerns (never sent to if opted out)
	Created    time.Time
	NotBefore  time.Time

	// Destination groups the items one endpoint receives (OutboxDestination):
	// set by Enqueue, used by ClaimOutbox to keep a slow endpoint's items
	// from taking every sender.
	Destination string

	// PaceSlot is the send slot the item was handed back until
	// (DeferOutbox); zero when it has none. Claimed at its slot, it is
	// sent without taking another.
	PaceSlot time.Time

	// Delivery state (read back by ClaimOutbox and OutboxItems).
	Status    string // pending, sent, dropped
	Attempts  int
	LastError string
	DoneAt    time.Time

	// ProviderSID is the provider's id of the sent message (Twilio's
	// Messages API answer), "" until sent or for e-mail and webhooks.
	ProviderSID string
	// The provider's latest delivery report for ProviderSID (its status
	// callbacks, RecordDeliveryStatus): "" when none came yet.
	DeliveryStatus string
	DeliveryError  string // the provider's error code, e.g. "30003"
	DeliveryAt     time.Time
}

// OutboxDestination is the endpoint an item goes to: every SMS to the one
// provider ("sms"), every e-mail to the one SMTP server ("email"), a
// webhook to its URL's host ("webhook:host:port", lower case).
func OutboxDestination(kind, to string) string {
	if kind != "webhook" {
		return kind
	}
	host := to
	if _, rest, ok := strings.Cut(to, "://"); ok {
		host = rest
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	return "webhook:" + strings.ToLower(host)
}

// OutboxClaim is what ClaimOutbox leases.
type OutboxClaim struct {
	Now   time.Time
	Lease time.Duration
	Limit int // at most this many items (0: no limit)
	// Skip leaves out the items of these destinations (their senders are
	// all busy).
	Skip []string
	// OnePerDestination claims at most one item of each destination, so
	// the caller can bound how many deliveries one endpoint holds.
	OnePerDestination bool
}

// DeliveryStatus is one delivery report from the provider.
type DeliveryStatus struct {
	ProviderSID string
	Status      string // queued, sent, delivered, undelivered, failed, …
	// Rank orders statuses along a message's life (queued before sent
	// before delivered): a report is kept only over one of lower rank, so
	// reports arriving late or twice change nothing.
	Rank      int
	ErrorCode string
	At        time.Time
}

// OutboxBacklog is the pending part of the outbox for one kind.
type OutboxBacklog struct {
	Kind    string
	Pending int
	Oldest  time.Time // Created of the oldest pending item
}

// OutboxTx is the delivery side of the outbox and server settings. A
// store's Tx implements it as well as Tx.
type OutboxTx interface {
	// ClaimOutbox leases up to limit pending items whose NotBefore is
	// due and whose lease has expired, for lease, counting an attempt,
	// oldest first. A claimed item is not claimed again until its lease
	// runs out (a sender that dies mid-send leaves it to be retried).
	// Skip and OnePerDestination restrict it (see OutboxClaim).
	ClaimOutbox(ctx context.Context, c OutboxClaim) ([]OutboxItem, error)
	// MarkOutboxSent records a delivery, and the provider's id of the
	// message ("" when it has none).
	MarkOutboxSent(ctx context.Context, id int64, providerSID string, at time.Time) error
	// RecordDeliveryStatus keeps a delivery report for d.ProviderSID
	// unless one of the same or a higher Rank is kept already (reports
	// are idempotent and may arrive in any order). A report may come
	// before the send that caused it is recorded: it is kept by SID.
	RecordDeliveryStatus(ctx context.Context, d DeliveryStatus) error
	// OutboxByProviderSID is the item sent as the provider's message sid
	// (ErrNotFound if none).
	OutboxByProviderSID(ctx context.Context, sid string) (*OutboxItem, error)
	// OutboxByMessage lists the items an inbound message (or a timer's
	// run) caused, oldest first.
	OutboxByMessage(ctx context.Context, messageSID string) ([]OutboxItem, error)
	// OutboxByMessages is OutboxByMessage for many messages in one read
	// (an inbox page's): the items by message sid, each list oldest
	// first; a message with none has no entry.
	OutboxByMessages(ctx context.Context, messageSIDs []string) (map[string][]OutboxItem, error)
	// OutboxBacklog counts pending items per kind (kinds with none are
	// left out), sorted by kind.
	OutboxBacklog(ctx context.Context) ([]OutboxBacklog, error)
	// RetryOutbox releases an item to be tried again at notBefore.
	RetryOutbox(ctx context.Context, id int64, notBefore time.Time, lastErr string) error
	// DeferOutbox hands a claimed item back to be claimed at notBefore,
	// the claim's attempt not counted (the server's pacing of SMS per
	// sending number): notBefore is its pace slot (OutboxItem.PaceSlot).
	DeferOutbox(ctx context.Context, id int64, notBefore time.Time) error
	// ReservePace takes the first free send slot of the sending number
	// at or after now and moves the number's next free slot one pace
	// (every) past it, atomically across replicas: consecutive
	// reservations are every apart, and one after an idle spell is now.
	ReservePace(ctx context.Context, number string, now time.Time, every time.Duration) (time.Time, error)
	// DropOutbox gives up on an item (opted out, or too many attempts).
	DropOutbox(ctx context.Context, id int64, reason string, at time.Time) error
	// OutboxItems lists items in a status ("" for all), oldest first, at
	// most limit (0: all).
	OutboxItems(ctx context.Context, status string, limit int) ([]OutboxItem, error)

	// Setting reads a server setting (ErrNotFound when unset).
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	// DeleteSetting removes a setting (none is not an error).
	DeleteSetting(ctx context.Context, key string) error
	// SettingsPrefixed lists the settings whose keys start with prefix,
	// in key order (bytewise).
	SettingsPrefixed(ctx context.Context, prefix string) ([]Setting, error)
}

// Setting is a server setting's key and value.
type Setting struct{ Key, Value string }

// Program is a deployed program version.
type Program struct {
	Flow    string
	Version string
	Encoded []byte // vm.Program.Encode output
	// Numbers are the numbers the program serves: its texts' for an SMS
	// flow, its calls' for a call flow (Channel "voice").
	Numbers []string
	Created time.Time
	Active  bool
	// Channel is the flow's (vm.Program.Channel): "" (sms) or
	// "voice". Activate routes a call flow's numbers for calls.
	Channel string
	// DeployedBy is who saved the version ("" when unknown): the first
	// save's, like the encoding.
	DeployedBy string
}

// DeployTx is what safer deploys need beyond Tx: drafts served to test
// contacts, the version `flowc serve DIR` last deployed from its
// directory, and the record of which messages started a conversation
// (replayed by `flowc deploy --diff`). A store's Tx implements it as well
// as Tx.
type DeployTx interface {
	// SetProgramChannel sets a saved version's channel and numbers: a
	// call flow saved before call flows were routed (migration 00017)
	// was stored as an SMS flow serving no number (ErrNotFound if the
	// version was never saved).
	SetProgramChannel(ctx context.Context, version, channel string, numbers []string) error
	// SetDraft makes d the flow's draft, replacing any earlier one and
	// its test contacts (ErrNotFound if d.Version was never saved).
	SetDraft(ctx context.Context, d *Draft) error
	// Draft is the flow's draft (ErrNotFound when it has none).
	Draft(ctx context.Context, flow string) (*Draft, error)
	// Drafts lists every draft, by flow.
	Drafts(ctx context.Context) ([]Draft, error)
	// DraftsFor lists the drafts that list contact as a test contact.
	DraftsFor(ctx context.Context, contact string) ([]Draft, error)
	// DeleteDraft removes the flow's draft (none is not an error).
	DeleteDraft(ctx context.Context, flow string) error
	// RouteTable reads the whole route table, consistent with its
	// Version even at READ COMMITTED (ErrConflict, wrapped, when a change
	// committed while it read: read it again).
	RouteTable(ctx context.Context) (*RouteTable, error)

	// DirectoryVersion is the version `flowc serve DIR` last deployed of
	// flow from its directory ("" when it never did).
	DirectoryVersion(ctx context.Context, flow string) (string, error)
	SetDirectoryVersion(ctx context.Context, flow, version string) error

	// RecordStart notes that the message sid (stored in the same
	// transaction) started a conversation of flow.
	RecordStart(ctx context.Context, sid, flow string, received time.Time) error
	// InsertStartingMessage is InsertMessage(m) then RecordStart(m.SID,
	// m.Flow, m.Received), in one statement where the database allows it
	// (PostgreSQL: one round trip fewer); a stored SID is ErrConflict
	// (wrapped), as for InsertMessage.
	InsertStartingMessage(ctx context.Context, m *Message) error
	// ConversationStarts lists the stored messages that started a
	// conversation of flow at or after since, the latest limit of them,
	// oldest first.
	ConversationStarts(ctx context.Context, flow string, since time.Time, limit int) ([]Message, error)
}

// Draft is a version of a flow served only to its test contacts until
// it is promoted.
type Draft struct {
	Flow     string
	Version  string
	Contacts []string // sorted
	Numbers  []string // the draft program's declared numbers
	Created  time.Time
}

// PipelineTx is a Tx that can send its writes to the database in
// pipelines instead of one round trip each (PostgreSQL, through pgx's
// batches): after PipelineStep, a write whose only answer is an error,
// a count of rows or an inserted row's id (the conversation's lock, the
// revision's compare-and-swap, the message, the inbox item, the outbox
// item, the interactions, the conversation's save or delete) is queued,
// and the queue is sent, in order, in one round trip at the next
// statement that must answer at once (a read) or at Flush. The
// statements run in the same order as without a pipeline, in the same
// transaction, so what is committed is the same; only their errors come
// later: at the read that sent them or at Flush, as a *StepError naming
// the step that queued the statement that failed, so a group commit
// fails that step alone. An id an insert sets (InboxItem.ID,
// OutboxItem.ID, Interaction.ID) is set when its statement is sent, so
// code that reads it before calling Flush gets 0. Where the database
// has no pipelines, both are no-ops and every write answers at once.
type PipelineTx interface {
	// PipelineStep queues the writes that follow, tagged as the step's
	// (the index of a step in a group commit).
	PipelineStep(step int)
	// Flush sends what is queued and checks each answer; a failure is a
	// *StepError, and every later Flush or read returns it again.
	Flush(ctx context.Context) error
}

// StepError is a queued write's failure (PipelineTx): Err, of the write
// the step numbered Step queued.
type StepError struct {
	Step int
	Err  error
}

func (e *StepError) Error() string { return e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// RoutedRevisionTx is a Tx whose AdvanceRevisionRouted can be queued in
// a pipeline (PipelineTx): instead of answering routesMoved at once, it
// runs moved (in the transaction, once what was queued has been sent)
// when the revision was still from but the route table's version had
// moved, for the caller to check the route itself, as it would have
// after AdvanceRevisionRouted answered routesMoved.
type RoutedRevisionTx interface {
	AdvanceRevisionRoutedThen(ctx context.Context, contact, number string, from, routes int64, moved func(context.Context) error) error
}

// StepKey names what one step reads (StepBatchReader): its conversation
// and the MessageSid looked up with it.
type StepKey struct{ Contact, Number, SID string }

// StepBatchReader is a StepReader that reads the StepState of several
// steps in one statement (PostgreSQL: one round trip for a whole batch
// of due timers or concurrent webhooks). Each state is what ReadStep
// would have returned at the statement's snapshot, in the order of keys.
type StepBatchReader interface {
	ReadSteps(ctx context.Context, keys []StepKey) ([]*StepState, error)
}

// ContactMessagesKey is one Tx.ContactMessages read: its arguments.
type ContactMessagesKey struct {
	Contact, Number string
	Since           time.Time
	Limit           int
}

// ContactMessagesPrefetcher is a Tx that reads several ContactMessages
// in one statement (PostgreSQL): a later ContactMessages with the same
// arguments in the transaction answers what was read then, without a
// statement (once; a key not read, or asked a second time, is read as
// usual). A group commit reads its batch's so, once it holds their
// conversations' locks: no other transaction can add messages of those
// conversations before its commit, and no step of the batch writes
// another's.
type ContactMessagesPrefetcher interface {
	PrefetchContactMessages(ctx context.Context, keys []ContactMessagesKey) error
}
