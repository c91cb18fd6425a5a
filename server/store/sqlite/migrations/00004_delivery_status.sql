-- +goose Up
-- Delivery reports and per-destination claiming of outbox items.
-- destination is store.OutboxDestination(kind, to_addr); rows queued
-- before this migration get it too (webhooks: the URL's
-- authority, lower-cased; a user-info part is kept, which only makes
-- such an old item its own destination).
ALTER TABLE outbox ADD COLUMN destination TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN provider_sid TEXT NOT NULL DEFAULT '';
UPDATE outbox SET destination = kind WHERE kind <> 'webhook';
UPDATE outbox SET destination = 'webhook:' || lower(
    CASE WHEN instr(substr(to_addr, instr(to_addr, '://') + 3), '/') > 0
         THEN substr(substr(to_addr, instr(to_addr, '://') + 3), 1, instr(substr(to_addr, instr(to_addr, '://') + 3), '/') - 1)
         ELSE substr(to_addr, instr(to_addr, '://') + 3) END)
WHERE kind = 'webhook';
CREATE INDEX outbox_provider_sid ON outbox (provider_sid) WHERE provider_sid <> '';
CREATE INDEX outbox_message_sid ON outbox (message_sid);

-- The provider's latest report per message sid; kept by sid, not on the
-- outbox row, because a report can arrive before the send is recorded.
CREATE TABLE delivery_status (
    provider_sid TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    rank         INTEGER NOT NULL,
    error_code   TEXT NOT NULL,
    updated      INTEGER
) STRICT;

-- +goose Down
DROP TABLE delivery_status;
DROP INDEX outbox_message_sid;
DROP INDEX outbox_provider_sid;
ALTER TABLE outbox DROP COLUMN provider_sid;
ALTER TABLE outbox DROP COLUMN destination;
