-- +goose Up
-- What the provider tells about a message beyond its ids, body and media
-- (AccountSid, MessagingServiceSid, NumSegments, the media content types,
-- the sender's city, state, country and zip), as the JSON the server
-- writes; NULL when it told nothing. One column rather than one per
-- parameter: they are read back whole, never queried by.
ALTER TABLE messages ADD COLUMN details BLOB;

-- +goose Down
ALTER TABLE messages DROP COLUMN details;
