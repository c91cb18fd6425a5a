-- +goose Up
-- Who saved each program version (the Console issue: a flow's versions
-- "with who and when"): what `flowc deploy` sends (the OS user and host
-- it ran on, or --by), "flowc serve" for a deploy of serve's directory,
-- "" for versions saved before this migration.
ALTER TABLE programs ADD COLUMN deployed_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE programs DROP COLUMN deployed_by;
