-- +goose Up
-- Safer deploys (the PostgreSQL twin of the SQLite store's 00004).
--
-- drafts: at most one draft version per flow, served only to its test
-- contacts (draft_contacts) until it is promoted. numbers are the draft
-- program's declared numbers (it may serve them before any flow does).
CREATE TABLE drafts (
    flow    text PRIMARY KEY,
    version text NOT NULL REFERENCES programs (version),
    numbers text[] NOT NULL,
    created timestamptz
);

CREATE TABLE draft_contacts (
    contact text NOT NULL,
    flow    text NOT NULL REFERENCES drafts (flow) ON DELETE CASCADE,
    PRIMARY KEY (contact, flow)
);

-- directory_versions: the version `flowc serve DIR` last deployed of
-- each flow from its directory, so that a restart with an unchanged file
-- does not undo a deploy or rollback made through the admin API since.
CREATE TABLE directory_versions (
    flow    text PRIMARY KEY,
    version text NOT NULL
);

-- conversation_starts: the messages that started a conversation (the
-- flow ran from its top), for `flowc deploy --diff` to replay.
CREATE TABLE conversation_starts (
    sid      text PRIMARY KEY,
    flow     text NOT NULL,
    received timestamptz NOT NULL
);

CREATE INDEX conversation_starts_flow ON conversation_starts (flow, received);

-- +goose Down
DROP TABLE conversation_starts;
DROP TABLE directory_versions;
DROP TABLE draft_contacts;
DROP TABLE drafts;
