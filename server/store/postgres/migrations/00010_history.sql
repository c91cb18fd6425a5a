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
-- (interactions_contact_campaign). sid is the provider's id of the
-- message or call when known ('' when not: a reply in the webhook's
-- answer), unique per kind so that a reported call is recorded once.
CREATE TABLE interactions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact     text NOT NULL,
    number      text NOT NULL,
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    direction   text NOT NULL,
    user_name   text,
    campaign    text,
    reply_user  text,
    reply_email text,
    sid         text NOT NULL DEFAULT '',
    cause_sid   text NOT NULL DEFAULT '',
    outbox_id   bigint
);
-- The indexes a lookup reads INCLUDE every column it returns, so a
-- contact's history is an index-only scan of one range, not 50 heap
-- fetches from pages shared with every other contact.
CREATE INDEX interactions_contact ON interactions (contact, at, id)
    INCLUDE (kind, direction, number, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id);
CREATE INDEX interactions_contact_user ON interactions (contact, kind, at, id)
    INCLUDE (direction, number, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id) WHERE user_name IS NOT NULL;
CREATE INDEX interactions_contact_campaign ON interactions (contact, at, id)
    INCLUDE (kind, direction, number, user_name, campaign, reply_user, reply_email, sid, cause_sid, outbox_id) WHERE campaign IS NOT NULL;
-- Retention (PruneInteractions) deletes the oldest first.
CREATE INDEX interactions_at ON interactions (at);
CREATE UNIQUE INDEX interactions_sid ON interactions (kind, sid) WHERE sid <> '';

-- Lists the operator manages one entry at a time (PUT/DELETE
-- /v1/admin/lists/NAME/ENTRY). lists_version counts the changes, bumped
-- by statement triggers as routes_version is (00009), so that every
-- replica caches the lists and sees a change with the step's one read.
CREATE TABLE list_entries (
    list  text NOT NULL,
    entry text NOT NULL,
    added timestamptz,
    PRIMARY KEY (list, entry)
);
CREATE TABLE lists_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO lists_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION bump_lists_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lists_version SET version = version + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER list_entries_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON list_entries
    FOR EACH STATEMENT EXECUTE FUNCTION bump_lists_version();

-- POST /v1/outbound's idempotency keys: the request's hash and the
-- answer given, so that the same key and body get the first answer.
CREATE TABLE outbound_requests (
    key       text PRIMARY KEY,
    body_hash text NOT NULL,
    response  text NOT NULL,
    created   timestamptz
);
CREATE INDEX outbound_requests_created ON outbound_requests (created);

-- +goose Down
DROP TABLE outbound_requests;
DROP TRIGGER list_entries_version ON list_entries;
DROP FUNCTION bump_lists_version();
DROP TABLE lists_version;
DROP TABLE list_entries;
DROP TABLE interactions;
