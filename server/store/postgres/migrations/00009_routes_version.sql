-- +goose Up
-- routes_version counts the changes to the route table (numbers, drafts
-- and their test contacts), so that every replica can keep the table in
-- memory and see, with one tiny read, that a deploy or rollback on
-- another replica changed it. Statement triggers bump it, in the
-- transaction of the change, so no write to those tables can forget to.
CREATE TABLE routes_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO routes_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION bump_routes_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE routes_version SET version = version + 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER numbers_routes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON numbers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_routes_version();
CREATE TRIGGER drafts_routes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON drafts
    FOR EACH STATEMENT EXECUTE FUNCTION bump_routes_version();
CREATE TRIGGER draft_contacts_routes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON draft_contacts
    FOR EACH STATEMENT EXECUTE FUNCTION bump_routes_version();

-- +goose Down
DROP TRIGGER draft_contacts_routes ON draft_contacts;
DROP TRIGGER drafts_routes ON drafts;
DROP TRIGGER numbers_routes ON numbers;
DROP FUNCTION bump_routes_version();
DROP TABLE routes_version;
