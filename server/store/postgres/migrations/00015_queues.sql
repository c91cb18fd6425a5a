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
-- was made; conversation_notes the agents' notes.
CREATE TABLE queue_tickets (
    contact   text NOT NULL,
    number    text NOT NULL,
    started   timestamptz NOT NULL,
    team      text NOT NULL,
    status    text NOT NULL,
    assignee  text NOT NULL DEFAULT '',
    since     timestamptz NOT NULL,
    updated   timestamptz NOT NULL,
    flow      text NOT NULL DEFAULT '',
    PRIMARY KEY (contact, number)
);
CREATE INDEX queue_tickets_team ON queue_tickets (team, status, since);
CREATE INDEX queue_tickets_assignee ON queue_tickets (assignee) WHERE assignee <> '';
CREATE TABLE queue_offers (
    user_name text NOT NULL,
    contact   text NOT NULL,
    number    text NOT NULL,
    PRIMARY KEY (user_name, contact, number)
);
CREATE INDEX queue_offers_conversation ON queue_offers (contact, number);
CREATE TABLE queue_teams (
    team   text PRIMARY KEY,
    memory text NOT NULL DEFAULT ''
);
CREATE TABLE queue_members (
    user_name text PRIMARY KEY,
    handled   bigint NOT NULL DEFAULT 0,
    last_done timestamptz
);
CREATE TABLE queue_stats (
    team text NOT NULL,
    name text NOT NULL,
    n    bigint NOT NULL,
    PRIMARY KEY (team, name)
);
CREATE TABLE conversation_notes (
    id        bigserial PRIMARY KEY,
    contact   text NOT NULL,
    number    text NOT NULL,
    started   timestamptz NOT NULL,
    user_name text NOT NULL,
    body      text NOT NULL,
    created   timestamptz NOT NULL
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (contact, number, started);

-- +goose Down
DROP TABLE conversation_notes;
DROP TABLE queue_stats;
DROP TABLE queue_members;
DROP TABLE queue_teams;
DROP TABLE queue_offers;
DROP TABLE queue_tickets;
