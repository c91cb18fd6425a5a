-- +goose Up
-- Conversation revisions, for optimistic concurrency: the server reads a
-- conversation, runs the flow (applets may take seconds) with no
-- transaction open, and commits only if the revision is still the one it
-- read. A table of its own rather than a column of conversations because
-- a conversation's row is deleted when it ends: a revision reset to 0
-- then would let a step computed before an end and a restart commit over
-- them (the ABA problem).
CREATE TABLE conversation_revisions (
    contact  TEXT NOT NULL,
    number   TEXT NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (contact, number)
) STRICT;

-- +goose Down
DROP TABLE conversation_revisions;
