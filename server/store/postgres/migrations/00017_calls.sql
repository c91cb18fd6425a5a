-- +goose Up
-- The Voice issue: call flows and the calls they answer (see the SQLite
-- migration of the same number for the design).
ALTER TABLE programs ADD COLUMN channel text NOT NULL DEFAULT 'sms';

CREATE TABLE call_numbers (
    number  text PRIMARY KEY,
    flow    text NOT NULL,
    version text NOT NULL REFERENCES programs (version)
);
CREATE INDEX call_numbers_flow ON call_numbers (flow);
CREATE TRIGGER call_numbers_routes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON call_numbers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_routes_version();

CREATE TABLE calls (
    sid         text PRIMARY KEY,
    contact     text NOT NULL,
    number      text NOT NULL,
    flow        text NOT NULL,
    version     text NOT NULL,
    state       bytea,
    step        integer NOT NULL,
    started     timestamptz NOT NULL,
    updated     timestamptz NOT NULL,
    ended       timestamptz,
    answered_by text NOT NULL DEFAULT ''
);
CREATE INDEX calls_contact ON calls (contact, started);
CREATE INDEX calls_updated ON calls (updated);

CREATE TABLE call_steps (
    sid     text NOT NULL,
    step    integer NOT NULL,
    at      timestamptz NOT NULL,
    event   text NOT NULL,
    outcome text NOT NULL,
    twiml   text NOT NULL,
    trace   bytea,
    PRIMARY KEY (sid, step)
);

-- +goose Down
DROP TABLE call_steps;
DROP TABLE calls;
DROP TRIGGER call_numbers_routes ON call_numbers;
DROP TABLE call_numbers;
ALTER TABLE programs DROP COLUMN channel;
