-- +goose Up
-- UnroutedNumbersPage (flowc numbers) reads the numbers texted while no
-- flow served them from this partial index, in order, instead of
-- scanning every message.
CREATE INDEX messages_no_flow ON messages (to_number) WHERE outcome = 'no-flow';
-- Retention (PruneMessages) deletes the oldest messages first.
CREATE INDEX messages_received ON messages (received);

-- +goose Down
DROP INDEX messages_received;
DROP INDEX messages_no_flow;
