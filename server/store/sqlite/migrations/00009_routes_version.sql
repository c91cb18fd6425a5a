-- +goose Up
-- routes_version counts the changes to the route table (numbers, drafts
-- and their test contacts), so that a server can keep the table in memory
-- and see, with one tiny read, that a deploy or rollback (of any process
-- on this file) changed it. Triggers bump it, so no write to those tables
-- can forget to.
CREATE TABLE routes_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO routes_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE TRIGGER numbers_routes_insert AFTER INSERT ON numbers BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER numbers_routes_update AFTER UPDATE ON numbers BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER numbers_routes_delete AFTER DELETE ON numbers BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER drafts_routes_insert AFTER INSERT ON drafts BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER drafts_routes_update AFTER UPDATE ON drafts BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER drafts_routes_delete AFTER DELETE ON drafts BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER draft_contacts_routes_insert AFTER INSERT ON draft_contacts BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER draft_contacts_routes_update AFTER UPDATE ON draft_contacts BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER draft_contacts_routes_delete AFTER DELETE ON draft_contacts BEGIN UPDATE routes_version SET version = version + 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER numbers_routes_insert;
DROP TRIGGER numbers_routes_update;
DROP TRIGGER numbers_routes_delete;
DROP TRIGGER drafts_routes_insert;
DROP TRIGGER drafts_routes_update;
DROP TRIGGER drafts_routes_delete;
DROP TRIGGER draft_contacts_routes_insert;
DROP TRIGGER draft_contacts_routes_update;
DROP TRIGGER draft_contacts_routes_delete;
DROP TABLE routes_version;
