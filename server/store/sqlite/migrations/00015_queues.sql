-- +goose Up
-- The Queues issue: a conversation in a team's queue has a ticket, kept
-- in its vm.State; queue_tickets is an index of those tickets, written
-- in the same transaction as the state (server/queue.go), so that the
-- agent API lists "my offered and open conversations" and the queue's
-- waiting count without reading every conversation's state.
-- queue_offers holds who each ticket is offered to (one row a member).
-- queue_teams keeps each team's round-robin memory; queue_members each
-- member's finished count and last finish (fewest-handled,
-- least-recent); queue_stats the statistics' counters since the store
-- was made; conversation_notes the agents' notes. Times are unix
-- nanoseconds.
CREATE TABLE queue_tickets (
    contact   TEXT NOT NULL,
    number    TEXT NOT NULL,
    started   INTEGER NOT NULL,
    team      TEXT NOT NULL,
    status    TEXT NOT NULL,
    assignee  TEXT NOT NULL DEFAULT '',
    since     INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    flow      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (contact, number)
) STRICT;
CREATE INDEX queue_tickets_team ON queue_tickets (team, status, since);
CREATE INDEX queue_tickets_assignee ON queue_tickets (assignee) WHERE assignee <> '';
CREATE TABLE queue_offers (
    user_name TEXT NOT NULL,
    contact   TEXT NOT NULL,
    number    TEXT NOT NULL,
    PRIMARY KEY (user_name, contact, number)
) STRICT;
CREATE INDEX queue_offers_conversation ON queue_offers (contact, number);
CREATE TABLE queue_teams (
    team   TEXT PRIMARY KEY,
    memory TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE TABLE queue_members (
    user_name TEXT PRIMARY KEY,
    handled   INTEGER NOT NULL DEFAULT 0,
    last_done INTEGER
) STRICT;
CREATE TABLE queue_stats (
    team TEXT NOT NULL,
    name TEXT NOT NULL,
    n    INTEGER NOT NULL,
    PRIMARY KEY (team, name)
) STRICT;
CREATE TABLE conversation_notes (
    id        INTEGER PRIMARY KEY,
    contact   TEXT NOT NULL,
    number    TEXT NOT NULL,
    started   INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    body      TEXT NOT NULL,
    created   INTEGER NOT NULL
) STRICT;
CREATE INDEX conversation_notes_conversation ON conversation_notes (contact, number, started);

-- +goose Down
DROP TABLE conversation_notes;
DROP TABLE queue_stats;
DROP TABLE queue_members;
DROP TABLE queue_teams;
DROP TABLE queue_offers;
DROP TABLE queue_tickets;
