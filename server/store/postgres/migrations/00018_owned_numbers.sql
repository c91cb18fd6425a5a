-- +goose Up
-- The numbers the business holds at its provider (Voice issue: `flowc
-- numbers sync` reads Twilio's IncomingPhoneNumbers), so that `flowc
-- numbers` lists each with its SMS flow and call flow, and the ones
-- missing, before any text or call reaches it. source is where it was
-- imported from ('twilio'); sms and voice are what it can receive;
-- synced is the sync that last saw it (a number gone from the provider
-- is deleted by the next sync). number sorts bytewise (COLLATE "C"), as
-- the listing pages through it.
CREATE TABLE owned_numbers (
    number text COLLATE "C" PRIMARY KEY,
    name   text NOT NULL DEFAULT '',
    source text NOT NULL,
    sms    boolean NOT NULL,
    voice  boolean NOT NULL,
    synced timestamptz NOT NULL
);

-- +goose Down
DROP TABLE owned_numbers;
