-- +goose Up
-- Who saved each program version (see the SQLite migration of the same
-- number).
ALTER TABLE programs ADD COLUMN deployed_by text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE programs DROP COLUMN deployed_by;
