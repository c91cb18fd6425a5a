-- +goose Up
-- Pacing of SMS per sending number, shared by every replica: sms_pace
-- holds each business number's next free send slot (Unix nanoseconds,
-- so that one statement advances it on either store), and an outbox
-- item handed back until its slot keeps it in pace_slot, so that the
-- replica that claims it then sends it without taking a second slot.
CREATE TABLE sms_pace (
    number  TEXT PRIMARY KEY,
    next_ns INTEGER NOT NULL
);
ALTER TABLE outbox ADD COLUMN pace_slot INTEGER;

-- +goose Down
ALTER TABLE outbox DROP COLUMN pace_slot;
DROP TABLE sms_pace;
