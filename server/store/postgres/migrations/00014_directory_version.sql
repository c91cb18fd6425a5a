-- +goose Up
-- directory_version counts the changes to the directory the admin API
-- stores (the settings row 'directory'), bumped by a trigger as
-- routes_version is (00009), so that every replica sees a PATCH or PUT
-- made through another with the step's one read, and loads it again.
CREATE TABLE directory_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION bump_directory_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_version SET version = version + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER settings_directory_version AFTER INSERT OR UPDATE ON settings
    FOR EACH ROW WHEN (NEW.key = 'directory') EXECUTE FUNCTION bump_directory_version();

-- +goose Down
DROP TRIGGER settings_directory_version ON settings;
DROP FUNCTION bump_directory_version();
DROP TABLE directory_version;
