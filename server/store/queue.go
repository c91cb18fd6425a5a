package store

import (
	"context"
	"time"
)

// Queues (the Queues issue). A conversation in a team's queue keeps its
// place (vm/queue.Ticket) in its own state; what the store adds is an
// index of those places, written in the step's transaction from the
// state it saves (QueueTicket), and the team-wide memory the pure
// decisions read: the round-robin memory, the members' counters and
// the statistics.

// QueueTicket is one queued conversation as the index keeps it.
type QueueTicket struct {
	Contact, Number string
	Started         time.Time // the conversation's start: with Contact and Number, its id
	Team            string
	Status          string    // waiting, offered, open, transferring
	Assignee        string    // who has it ("" while waiting or offered)
	Offered         []string  // who it is offered to now, sorted
	Since           time.Time // when it entered the queue
	Updated         time.Time // its last change
	Flow            string
	// OffersKept: the caller knows the stored offers are Offered already
	// (the ticket's offers did not change, or a new hold has none), so
	// SaveQueueTicket does not rewrite them.
	OffersKept bool
}

// QueueMember is a member's counters: how many queued conversations it
// finished, and when it last did (zero: never).
type QueueMember struct {
	Handled  int
	LastDone time.Time
}

// QueueTeam is what a step reads of a team's queue: its round-robin
// memory, the members' counters (for the members asked about) and how
// many conversations wait in it (waiting or offered), one conversation
// left out (the step's own).
type QueueTeam struct {
	Memory  string
	Members map[string]QueueMember
	Waiting int
}

// QueueTx is the queues' part of a transaction (server/queue.go).
type QueueTx interface {
	// LockQueue takes team's lock for this transaction (PostgreSQL: an
	// advisory lock; SQLite's writer is exclusive already), so that a
	// decision that read the team (its waiting count, its memory) is
	// checked and written by one replica at a time.
	LockQueue(ctx context.Context, team string) error
	// QueueTeam reads team's memory, its waiting count (the conversation
	// contact/number left out) and the counters of members.
	QueueTeam(ctx context.Context, team string, members []string, contact, number string) (*QueueTeam, error)
	// SaveQueueTicket writes the conversation's ticket (and its offers),
	// replacing any; DeleteQueueTicket removes it (no error when none).
	SaveQueueTicket(ctx context.Context, t *QueueTicket) error
	DeleteQueueTicket(ctx context.Context, contact, number string) error
	// SetQueueMemory stores team's round-robin memory.
	SetQueueMemory(ctx context.Context, team, memory string) error
	// QueueMemberDone counts a finish by user at at.
	QueueMemberDone(ctx context.Context, user string, at time.Time) error
	// AddQueueStats adds each delta to team's counter of that name
	// (the names are vm/inbound's Count*).
	AddQueueStats(ctx context.Context, team string, deltas map[string]int) error
	// AddConversationNote stores a note on the conversation started at
	// started.
	AddConversationNote(ctx context.Context, n *ConversationNote) error
	// InboxItemHolder is the inbox item id's target, assignee, contact
	// and number; ErrNotFound when there is none.
	InboxItemHolder(ctx context.Context, id int64) (*InboxItem, error)
}

// QueueReader reads the queues for the agent and admin APIs (on
// SQLite's read connections, never the writer's).
type QueueReader interface {
	// QueueTicket is the conversation's ticket; ErrNotFound when it is
	// in no queue.
	QueueTicket(ctx context.Context, contact, number string) (*QueueTicket, error)
	// UserTickets are the tickets offered to user or assigned to user,
	// oldest first.
	UserTickets(ctx context.Context, user string) ([]QueueTicket, error)
	// TeamTickets are team's tickets, oldest first; waiting only when
	// waitingOnly (waiting or offered).
	TeamTickets(ctx context.Context, team string, waitingOnly bool, limit int) ([]QueueTicket, error)
	// QueueStats are every team's counters, by team and name.
	QueueStats(ctx context.Context) (map[string]map[string]int64, error)
	// ConversationNotes are the notes of the conversation started at
	// started, oldest first.
	ConversationNotes(ctx context.Context, contact, number string, started time.Time) ([]ConversationNote, error)
}

// ConversationNote is an agent's note on a conversation.
type ConversationNote struct {
	ID      int64     `json:"id"`
	Contact string    `json:"contact"`
	Number  string    `json:"number"`
	Started time.Time `json:"-"`
	User    string    `json:"user"`
	Body    string    `json:"text"`
	Created time.Time `json:"created"`
}
