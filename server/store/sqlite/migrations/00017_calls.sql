-- +goose Up
-- The Voice issue: call flows and the calls they answer.
--
-- programs.channel is the flow's channel ('sms', 'voice'): Activate routes
-- an SMS flow's numbers in numbers and a call flow's in call_numbers, so a
-- number has at most one flow of each (smrtPhone: exactly one SMS flow
-- and one call flow). call_numbers bumps routes_version as numbers does,
-- so every replica's route table in memory sees a change.
--
-- calls holds a call in progress: its flow's suspended state between two
-- of the provider's callbacks, and step, the number of callbacks answered
-- so far. Each answer is kept in call_steps under (sid, step), so that a
-- callback the provider retries is answered as it was the first time and
-- changes nothing (the Voice issue's "idempotent by CallSid + step"), and
-- `flowc trace CALLSID` can tell a call step by step. ended is when the
-- call was over (NULL: live); a call's row is kept after its end, with
-- state NULL, for the trace, until retention prunes it with its steps.
ALTER TABLE programs ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';

CREATE TABLE call_numbers (
    number  TEXT PRIMARY KEY,
    flow    TEXT NOT NULL,
    version TEXT NOT NULL REFERENCES programs (version)
) STRICT;
CREATE INDEX call_numbers_flow ON call_numbers (flow);

-- +goose StatementBegin
CREATE TRIGGER call_numbers_routes_insert AFTER INSERT ON call_numbers BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER call_numbers_routes_update AFTER UPDATE ON call_numbers BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER call_numbers_routes_delete AFTER DELETE ON call_numbers BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd

CREATE TABLE calls (
    sid         TEXT PRIMARY KEY,
    contact     TEXT NOT NULL,
    number      TEXT NOT NULL,
    flow        TEXT NOT NULL,
    version     TEXT NOT NULL,
    state       BLOB,
    step        INTEGER NOT NULL,
    started     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    ended       INTEGER,
    answered_by TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX calls_contact ON calls (contact, started);
CREATE INDEX calls_updated ON calls (updated);

CREATE TABLE call_steps (
    sid     TEXT NOT NULL,
    step    INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    event   TEXT NOT NULL,
    outcome TEXT NOT NULL,
    twiml   TEXT NOT NULL,
    trace   BLOB,
    PRIMARY KEY (sid, step)
) STRICT;

-- +goose Down
DROP TABLE call_steps;
DROP TABLE calls;
DROP TRIGGER call_numbers_routes_insert;
DROP TRIGGER call_numbers_routes_update;
DROP TRIGGER call_numbers_routes_delete;
DROP TABLE call_numbers;
ALTER TABLE programs DROP COLUMN channel;
