-- +goose Up
-- Delivery state of outbox items (the PostgreSQL twin of the SQLite
-- store's 00002), and a key-value table for server settings (the
-- generated admin token, the directory).
ALTER TABLE outbox
    ADD COLUMN status       text NOT NULL DEFAULT 'pending',
    ADD COLUMN attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error   text NOT NULL DEFAULT '',
    ADD COLUMN leased_until timestamptz,
    ADD COLUMN done_at      timestamptz,
    ADD COLUMN contact      text NOT NULL DEFAULT '';

-- ClaimOutbox: the pending items, oldest first.
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
-- OutboxItems by status.
CREATE INDEX outbox_status ON outbox (status, id);

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP INDEX outbox_status;
DROP INDEX outbox_pending;
ALTER TABLE outbox
    DROP COLUMN contact,
    DROP COLUMN done_at,
    DROP COLUMN leased_until,
    DROP COLUMN last_error,
    DROP COLUMN attempts,
    DROP COLUMN status;
