-- +goose Up
-- What flows change of a contact beyond the tags they add (contact_tags),
-- kept across conversations and read with the contact for every message:
-- the tags removed (`untag`, from the directory's or the added ones), the
-- fields set (`field`; an empty value removes the directory's), and when a
-- once-per-period reply (`reply "…" once per 12h`) was last sent to the
-- contact on a business number.
CREATE TABLE contact_untags (
    contact TEXT NOT NULL,
    tag     TEXT NOT NULL,
    PRIMARY KEY (contact, tag)
);
CREATE TABLE contact_fields (
    contact TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (contact, name)
);
CREATE TABLE reply_marks (
    contact TEXT NOT NULL,
    number  TEXT NOT NULL,
    mark    TEXT NOT NULL,
    sent    INTEGER NOT NULL,
    PRIMARY KEY (contact, number, mark)
);

-- +goose Down
DROP TABLE reply_marks;
DROP TABLE contact_fields;
DROP TABLE contact_untags;
