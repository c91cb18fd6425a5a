// Package sqlstore is the store's logic, written once over database/sql
// for both databases: the embedded SQLite store (server/store/sqlite,
// modernc.org/sqlite) and the PostgreSQL store (server/store/postgres,
// pgx through its database/sql adapter). Those packages open the
// database, migrate it and describe it; everything a transaction reads or
// writes is here, in the SQL both databases accept, and a Dialect says
// what truly differs:
//
//   - placeholders (? or $1), times (SQLite: INTEGER unix nanoseconds;
//     PostgreSQL: timestamptz), string lists (a JSON array or text[]),
//     the collation that sorts bytewise;
//   - locking: PostgreSQL serialises a conversation's writers with a
//     transaction-scoped advisory lock and claims timers and outbox rows
//     FOR UPDATE SKIP LOCKED; SQLite has a single writer (every write
//     transaction is exclusive), so its Dialect has no locks at all;
//   - how errors are classified: a duplicate key (InsertMessage's
//     ErrConflict), a transient failure worth running the transaction
//     again (SQLITE_BUSY, a serialisation failure or deadlock), a
//     connection found dead before anything was sent;
//   - the tie-break that stands for insertion order (SQLite's rowid,
//     PostgreSQL's programs.seq, or the message SID where PostgreSQL has
//     no sequence).
//
// Booleans are written as Go bools and compared with true/false, which
// both databases accept (SQLite stores 1 and 0); upserts are
// INSERT … ON CONFLICT in both. An inserted row's id comes back with
// RETURNING on PostgreSQL and LastInsertId on SQLite (as the SQLite
// store always did: a profile showed RETURNING opening a statement
// journal there).
//
// Where the dialect has pipelines (PostgreSQL), a transaction runs on a
// connection of its own (database/sql's Conn, whose Raw gives pgx's),
// and after PipelineStep its writes are queued and sent together
// (pipeline.go); every statement that answers at once sends the queue
// first, so the statements run in the order written.
//
// A DB may have a second *sql.DB for read-only transactions (InReadTx):
// SQLite's admin reads use a pool of read-only WAL connections, so a long
// listing never holds the single write connection. A step's read
// (ReadStep, step.go) runs there too, as one statement outside any
// transaction: a WAL reader sees every transaction committed before the
// statement starts, so it sees the previous step of the conversation.
//
// The route table's version (routes_version) is bumped by triggers on
// numbers, drafts and draft_contacts (migration 00009), in the
// transaction of the change, so no writer can forget it; servers cache
// the table and read the version with every step.
//
// Interactions, the operator's lists and POST /v1/outbound's idempotency
// keys are migration 00010's (history.go): a contact's history is one
// statement of four index range reads (the newest interactions, the
// newest outbound SMS with a user, call with a user, campaign send), and
// lists_version is bumped by triggers on list_entries as routes_version
// is, so servers cache lists the same way.
package sqlstore
