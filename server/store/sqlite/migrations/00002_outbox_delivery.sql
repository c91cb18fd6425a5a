-- +goose Up
-- Delivery state of outbox items, and a key-value table for server
-- settings (the generated admin token).
ALTER TABLE outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN leased_until INTEGER;
ALTER TABLE outbox ADD COLUMN done_at INTEGER;
ALTER TABLE outbox ADD COLUMN contact TEXT NOT NULL DEFAULT '';

CREATE INDEX outbox_pending ON outbox (not_before, id) WHERE status = 'pending';

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE settings;
DROP INDEX outbox_pending;
ALTER TABLE outbox DROP COLUMN contact;
ALTER TABLE outbox DROP COLUMN done_at;
ALTER TABLE outbox DROP COLUMN leased_until;
ALTER TABLE outbox DROP COLUMN last_error;
ALTER TABLE outbox DROP COLUMN attempts;
ALTER TABLE outbox DROP COLUMN status;
