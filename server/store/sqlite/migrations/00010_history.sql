-- +goose Up
-- The History issue: interactions (every text and call between a contact
-- and a business number, read by flows as contact.last_texted_by …),
-- operator-managed lists (list("blocked"), the outbound blacklist) and the
-- idempotency keys of POST /v1/outbound.
--
-- interactions is read per message, newest first, for one contact: the
-- newest MaxInteractions (interactions_contact), the newest with a user of
-- each kind (interactions_contact_user: last_texted_by, last_called_by,
-- which may be older than those) and the newest campaign send
-- (interactions_contact_campaign). Times are unix nanoseconds, as
-- everywhere in this store. sid is the provider's id of the message or
-- call when known ('' when not: a reply in the webhook's answer), unique
-- per kind so that a reported call is recorded once.
CREATE TABLE interactions (
    id          INTEGER PRIMARY KEY,
    contact     TEXT NOT NULL,
    number      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    direction   TEXT NOT NULL,
    user_name   TEXT,
    campaign    TEXT,
    reply_user  TEXT,
    reply_email TEXT,
    sid         TEXT NOT NULL DEFAULT '',
    cause_sid   TEXT NOT NULL DEFAULT '',
    outbox_id   INTEGER
) STRICT;
-- The indexes a lookup reads hold every column it returns (SQLite has no
-- INCLUDE: they are appended to the key), so a contact's history is read
-- from one index range and never from the table, where its rows lie
-- scattered among every other contact's (50 random page reads otherwise).
CREATE INDEX interactions_contact ON interactions (contact, at, id,
    kind, direction, number, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id);
CREATE INDEX interactions_contact_user ON interactions (contact, kind, at, id,
    direction, number, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id) WHERE user_name IS NOT NULL;
CREATE INDEX interactions_contact_campaign ON interactions (contact, at, id,
    kind, direction, number, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id) WHERE campaign IS NOT NULL;
-- Retention (PruneInteractions) deletes the oldest first.
CREATE INDEX interactions_at ON interactions (at);
CREATE UNIQUE INDEX interactions_sid ON interactions (kind, sid) WHERE sid <> '';

-- Lists the operator manages one entry at a time (PUT/DELETE
-- /v1/admin/lists/NAME/ENTRY). lists_version counts the changes, bumped
-- by triggers as routes_version is (00009), so that servers cache the
-- lists and see a change with the step's one read.
CREATE TABLE list_entries (
    list  TEXT NOT NULL,
    entry TEXT NOT NULL,
    added INTEGER,
    PRIMARY KEY (list, entry)
) STRICT, WITHOUT ROWID;
CREATE TABLE lists_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO lists_version (id, version) VALUES (1, 1);
-- +goose StatementBegin
CREATE TRIGGER list_entries_insert AFTER INSERT ON list_entries BEGIN UPDATE lists_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER list_entries_update AFTER UPDATE ON list_entries BEGIN UPDATE lists_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER list_entries_delete AFTER DELETE ON list_entries BEGIN UPDATE lists_version SET version = version + 1; END;
-- +goose StatementEnd

-- POST /v1/outbound's idempotency keys: the request's hash and the
-- answer given, so that the same key and body get the first answer.
CREATE TABLE outbound_requests (
    key       TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    response  TEXT NOT NULL,
    created   INTEGER
) STRICT;
CREATE INDEX outbound_requests_created ON outbound_requests (created);

-- +goose Down
DROP TABLE outbound_requests;
DROP TRIGGER list_entries_insert;
DROP TRIGGER list_entries_update;
DROP TRIGGER list_entries_delete;
DROP TABLE lists_version;
DROP TABLE list_entries;
DROP TABLE interactions;
