-- +goose Up
-- directory_version counts the changes to the directory the admin API
-- stores (the settings row 'directory'), bumped by triggers as
-- routes_version is (00009), so that every replica sees a PATCH or PUT
-- made through another with the step's one read, and loads it again.
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);
-- +goose StatementBegin
CREATE TRIGGER settings_directory_insert AFTER INSERT ON settings WHEN NEW.key = 'directory'
BEGIN UPDATE directory_version SET version = version + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER settings_directory_update AFTER UPDATE ON settings WHEN NEW.key = 'directory'
BEGIN UPDATE directory_version SET version = version + 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER settings_directory_update;
DROP TRIGGER settings_directory_insert;
DROP TABLE directory_version;
