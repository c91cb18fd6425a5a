-- +goose Up
-- Conversation revisions (the PostgreSQL twin of the SQLite store's
-- 00003), for optimistic concurrency: the server reads a conversation,
-- runs the flow (applets may take seconds) with no transaction open, and
-- commits only if the revision is still the one it read. A table of its
-- own because a conversation's row is deleted when it ends: a revision
-- reset to 0 then would let a step computed before an end and a restart
-- commit over them (the ABA problem).
CREATE TABLE conversation_revisions (
    contact  text NOT NULL,
    number   text NOT NULL,
    revision bigint NOT NULL,
    PRIMARY KEY (contact, number)
);

-- +goose Down
DROP TABLE conversation_revisions;
