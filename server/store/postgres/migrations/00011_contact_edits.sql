-- +goose Up
-- What flows change of a contact beyond the tags they add (contact_tags),
-- kept across conversations and read with the contact for every message:
-- the tags removed (`untag`, from the directory's or the added ones), the
-- fields set (`field`; an empty value removes the directory's), and when a
-- once-per-period reply (`reply "…" once per 12h`) was last sent to the
-- contact on a business number.
CREATE TABLE contact_untags (
    contact text NOT NULL,
    tag     text NOT NULL,
    PRIMARY KEY (contact, tag)
);
CREATE TABLE contact_fields (
    contact text NOT NULL,
    name    text NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (contact, name)
);
CREATE TABLE reply_marks (
    contact text NOT NULL,
    number  text NOT NULL,
    mark    text NOT NULL,
    sent    timestamptz NOT NULL,
    PRIMARY KEY (contact, number, mark)
);

-- +goose Down
DROP TABLE reply_marks;
DROP TABLE contact_fields;
DROP TABLE contact_untags;
