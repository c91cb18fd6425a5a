-- +goose Up
-- DueConversations reads the due conversations in (deadline, contact,
-- number) order: from this index, the first rows of a backlog are read
-- in order. With the deadline alone, every claim of a batch of timers
-- sorted all the conversations due (200,000 due at once: each claim
-- sorted all of them again). PostgreSQL's conversations_deadline has
-- been this index since 00001.
CREATE INDEX conversations_due ON conversations (deadline, contact, number)
    WHERE deadline IS NOT NULL;
DROP INDEX conversations_deadline;

-- +goose Down
CREATE INDEX conversations_deadline ON conversations (deadline)
    WHERE deadline IS NOT NULL;
DROP INDEX conversations_due;
