-- +goose Up
-- UnroutedNumbersPage (flowc numbers) reads the numbers texted while no
-- flow served them from this partial index, in bytewise order (the
-- listing's, whatever the database's collation), instead of scanning
-- every message; NumbersPage reads numbers in the same order.
CREATE INDEX messages_no_flow ON messages (to_number COLLATE "C") WHERE outcome = 'no-flow';
CREATE INDEX numbers_bytewise ON numbers (number COLLATE "C");
-- Retention (PruneMessages) deletes the oldest messages first.
CREATE INDEX messages_received ON messages (received);

-- +goose Down
DROP INDEX messages_received;
DROP INDEX numbers_bytewise;
DROP INDEX messages_no_flow;
