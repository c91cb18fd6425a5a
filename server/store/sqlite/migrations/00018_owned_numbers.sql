-- +goose Up
-- The numbers the business holds at its provider (Voice issue: `flowc
-- numbers sync` reads Twilio's IncomingPhoneNumbers), so that `flowc
-- numbers` lists each with its SMS flow and call flow, and the ones
-- missing, before any text or call reaches it. source is where it was
-- imported from ('twilio'); sms and voice are what it can receive;
-- synced is the sync that last saw it (a number gone from the provider
-- is deleted by the next sync).
CREATE TABLE owned_numbers (
    number TEXT PRIMARY KEY,
    name   TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    sms    INTEGER NOT NULL,
    voice  INTEGER NOT NULL,
    synced INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE owned_numbers;
