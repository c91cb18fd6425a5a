-- +goose Up
-- Per-user API tokens (the Queues issue's agent API): an admin makes one
-- for a directory user (flowc users token NAME) and the user's requests
-- carry it. Only the token's SHA-256 is kept (digest, hex), so a copy of
-- the database holds no usable token; revoked marks it refused from then
-- on (kept, so that the list shows who had which).
CREATE TABLE user_tokens (
    id        INTEGER PRIMARY KEY,
    user_name TEXT NOT NULL,
    digest    TEXT NOT NULL UNIQUE,
    label     TEXT NOT NULL DEFAULT '',
    created   INTEGER NOT NULL,
    revoked   INTEGER
) STRICT;
CREATE INDEX user_tokens_user ON user_tokens (user_name);

-- +goose Down
DROP TABLE user_tokens;
