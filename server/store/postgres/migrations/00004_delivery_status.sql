-- +goose Up
-- Delivery reports and per-destination claiming of outbox items (the
-- PostgreSQL twin of the SQLite store's 00004). destination is
-- store.OutboxDestination(kind, to_addr); rows queued before this
-- migration get the same value (webhooks: the URL's authority,
-- lower-cased; a user-info part is kept, which only makes such an old
-- item its own destination).
ALTER TABLE outbox
    ADD COLUMN destination  text NOT NULL DEFAULT '',
    ADD COLUMN provider_sid text NOT NULL DEFAULT '';
UPDATE outbox SET destination = kind WHERE kind <> 'webhook';
UPDATE outbox SET destination = 'webhook:' || lower(split_part(split_part(to_addr, '://', 2), '/', 1))
WHERE kind = 'webhook';
CREATE INDEX outbox_provider_sid ON outbox (provider_sid) WHERE provider_sid <> '';
CREATE INDEX outbox_message_sid ON outbox (message_sid);

-- The provider's latest report per message sid; kept by sid, not on the
-- outbox row, because a report can arrive before the send is recorded.
CREATE TABLE delivery_status (
    provider_sid text PRIMARY KEY,
    status       text NOT NULL,
    rank         integer NOT NULL,
    error_code   text NOT NULL,
    updated      timestamptz
);

-- +goose Down
DROP TABLE delivery_status;
DROP INDEX outbox_message_sid;
DROP INDEX outbox_provider_sid;
ALTER TABLE outbox DROP COLUMN provider_sid, DROP COLUMN destination;
