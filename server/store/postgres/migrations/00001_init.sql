-- The initial schema, the PostgreSQL twin of the SQLite store's. Conventions:
--   * times are timestamptz (microseconds); NULL is the zero time.Time;
--   * Media and Numbers are text[]; Trace, State and Encoded are bytea
--     stored byte for byte;
--   * IDs are identity columns.

-- +goose Up
CREATE TABLE messages (
    sid         text PRIMARY KEY,
    from_number text NOT NULL,
    to_number   text NOT NULL,
    body        text NOT NULL,
    media       text[] NOT NULL,
    flow        text NOT NULL,
    version     text NOT NULL,
    outcome     text NOT NULL,
    response    text NOT NULL,
    trace       bytea,
    received    timestamptz
);

CREATE TABLE conversations (
    contact  text NOT NULL,
    number   text NOT NULL,
    flow     text NOT NULL,
    version  text NOT NULL,
    state    bytea,
    deadline timestamptz,
    updated  timestamptz,
    PRIMARY KEY (contact, number)
);

-- DueConversations: the timers, in the order they are claimed.
CREATE INDEX conversations_deadline ON conversations (deadline, contact, number)
    WHERE deadline IS NOT NULL;

CREATE TABLE opt_outs (
    contact   text NOT NULL,
    number    text NOT NULL,
    opted_out boolean NOT NULL,
    updated   timestamptz,
    PRIMARY KEY (contact, number)
);

CREATE TABLE contact_tags (
    contact text NOT NULL,
    tag     text NOT NULL,
    PRIMARY KEY (contact, tag)
);

CREATE TABLE inbox_items (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target_kind text NOT NULL,
    target_name text NOT NULL,
    assignee    text NOT NULL,
    message_sid text NOT NULL,
    contact     text NOT NULL,
    number      text NOT NULL,
    body        text NOT NULL,
    flow        text NOT NULL,
    created     timestamptz,
    done        boolean NOT NULL DEFAULT false,
    done_at     timestamptz
);

CREATE INDEX inbox_items_target ON inbox_items (target_kind, target_name, done, id);
CREATE INDEX inbox_items_open_assignee ON inbox_items (assignee) WHERE NOT done;

CREATE TABLE round_robin (
    team    text PRIMARY KEY,
    counter bigint NOT NULL
);

CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL,
    to_addr     text NOT NULL,
    from_addr   text NOT NULL,
    body        text NOT NULL,
    message_sid text NOT NULL,
    created     timestamptz,
    not_before  timestamptz
);

CREATE TABLE programs (
    version   text PRIMARY KEY,
    seq       bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- insertion order (SQLite's rowid)
    flow      text NOT NULL,
    encoded   bytea NOT NULL,
    numbers   text[] NOT NULL,
    created   timestamptz,
    active    boolean NOT NULL DEFAULT false,
    activated timestamptz
);

CREATE INDEX programs_flow_created ON programs (flow, created);
-- At most one active version per flow.
CREATE UNIQUE INDEX programs_one_active ON programs (flow) WHERE active;

CREATE TABLE numbers (
    number  text PRIMARY KEY,
    flow    text NOT NULL,
    version text NOT NULL REFERENCES programs (version)
);

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
