-- +goose Up
-- UnroutedNumbersPage (flowc numbers) reads the numbers texted while no
-- flow served them from this partial index, in bytewise order (the
-- listing's, whatever the database's collation), instead of scanning
-- every message; NumbersPage reads numbers in the same order.
CREATE INDEX messages_no_flow ON messages (to_number COLLATE "C") WHERE outcome = 'no-flow';
CREATE INDEX numbers_bytewise ON numbers (number COLLATE "C");
-- InboxPage with done items too (flowc inbox --all) reads a target's
-- items from a cursor on, in ID order (inbox_items_target serves the
-- open ones).
CREATE INDEX inbox_items_target_id ON inbox_items (target_kind, target_name, id);
-- Retention (PruneMessages) deletes the oldest messages first.
CREATE INDEX messages_received ON messages (received);

-- +goose Down
DROP INDEX inbox_items_target_id;
DROP INDEX messages_received;
DROP INDEX numbers_bytewise;
DROP INDEX messages_no_flow;
