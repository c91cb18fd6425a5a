-- The initial schema. Conventions:
--   * times are INTEGER unix nanoseconds (UTC by definition); NULL is the
--     zero time.Time;
--   * Media and Numbers are JSON arrays (TEXT), Trace, State and Encoded
--     are BLOBs stored byte for byte;
--   * booleans are INTEGER 0/1.
-- Every table is STRICT, so a value of the wrong type is an error rather
-- than silently stored.

-- +goose Up
CREATE TABLE messages (
    sid         TEXT PRIMARY KEY,
    from_number TEXT NOT NULL,
    to_number   TEXT NOT NULL,
    body        TEXT NOT NULL,
    media       TEXT NOT NULL,
    flow        TEXT NOT NULL,
    version     TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    response    TEXT NOT NULL,
    trace       BLOB,
    received    INTEGER
) STRICT;

CREATE TABLE conversations (
    contact  TEXT NOT NULL,
    number   TEXT NOT NULL,
    flow     TEXT NOT NULL,
    version  TEXT NOT NULL,
    state    BLOB,
    deadline INTEGER,
    updated  INTEGER,
    PRIMARY KEY (contact, number)
) STRICT;

CREATE INDEX conversations_deadline ON conversations (deadline)
    WHERE deadline IS NOT NULL;

CREATE TABLE opt_outs (
    contact   TEXT NOT NULL,
    number    TEXT NOT NULL,
    opted_out INTEGER NOT NULL,
    updated   INTEGER,
    PRIMARY KEY (contact, number)
) STRICT;

CREATE TABLE contact_tags (
    contact TEXT NOT NULL,
    tag     TEXT NOT NULL,
    PRIMARY KEY (contact, tag)
) STRICT;

CREATE TABLE inbox_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    target_kind TEXT NOT NULL,
    target_name TEXT NOT NULL,
    assignee    TEXT NOT NULL,
    message_sid TEXT NOT NULL,
    contact     TEXT NOT NULL,
    number      TEXT NOT NULL,
    body        TEXT NOT NULL,
    flow        TEXT NOT NULL,
    created     INTEGER,
    done        INTEGER NOT NULL DEFAULT 0,
    done_at     INTEGER
) STRICT;

CREATE INDEX inbox_items_target ON inbox_items (target_kind, target_name, done, id);
CREATE INDEX inbox_items_open_assignee ON inbox_items (assignee) WHERE done = 0;

CREATE TABLE round_robin (
    team    TEXT PRIMARY KEY,
    counter INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    to_addr     TEXT NOT NULL,
    from_addr   TEXT NOT NULL,
    body        TEXT NOT NULL,
    message_sid TEXT NOT NULL,
    created     INTEGER,
    not_before  INTEGER
) STRICT;

CREATE TABLE programs (
    version   TEXT PRIMARY KEY,
    flow      TEXT NOT NULL,
    encoded   BLOB NOT NULL,
    numbers   TEXT NOT NULL,
    created   INTEGER,
    active    INTEGER NOT NULL DEFAULT 0,
    activated INTEGER
) STRICT;

CREATE INDEX programs_flow_created ON programs (flow, created);
-- At most one active version per flow.
CREATE UNIQUE INDEX programs_one_active ON programs (flow) WHERE active = 1;

CREATE TABLE numbers (
    number  TEXT PRIMARY KEY,
    flow    TEXT NOT NULL,
    version TEXT NOT NULL REFERENCES programs (version)
) STRICT;

CREATE INDEX numbers_flow ON numbers (flow);

-- +goose Down
DROP TABLE numbers;
DROP TABLE programs;
DROP TABLE outbox;
DROP TABLE round_robin;
DROP TABLE inbox_items;
DROP TABLE contact_tags;
DROP TABLE opt_outs;
DROP TABLE conversations;
DROP TABLE messages;
