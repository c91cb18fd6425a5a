-- +goose Up
-- What the contact wrote, on inbox items: an item keeps the messages of
-- its conversation from the contact up to the delivery (a JSON array,
-- store.EncodeInboxMessages), so the inbox listing reads no other table.
-- Items stored before this migration have none ('[]'; their body is the
-- message that caused them, as before).
ALTER TABLE inbox_items ADD COLUMN messages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE inbox_items ADD COLUMN messages_omitted INTEGER NOT NULL DEFAULT 0;

-- When a conversation's first message was received, and the index the
-- server reads a conversation's messages by (at a delivery, never at a
-- listing).
ALTER TABLE conversations ADD COLUMN started INTEGER;
CREATE INDEX messages_from_to_received ON messages (from_number, to_number, received);

-- A conversation in progress started at the latest recorded start of its
-- flow by this contact to this number before its last step; one that
-- started before starts were recorded, at its last step.
UPDATE conversations SET started = COALESCE(
    (SELECT max(m.received) FROM messages m JOIN conversation_starts cs ON cs.sid = m.sid
     WHERE m.from_number = conversations.contact AND m.to_number = conversations.number
       AND cs.flow = conversations.flow AND m.received <= conversations.updated),
    updated);

-- +goose Down
ALTER TABLE conversations DROP COLUMN started;
DROP INDEX messages_from_to_received;
ALTER TABLE inbox_items DROP COLUMN messages_omitted;
ALTER TABLE inbox_items DROP COLUMN messages;
