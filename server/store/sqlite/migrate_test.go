package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/flowc-dev/flowc/server/store"
)

// TestMigrationKeepsConversationStarts: a conversation in progress when
// 00007 runs starts at its recorded start (so its inbox item shows its
// messages from then on), or, when none was recorded, at its last step;
// an inbox item from before has no messages and lists as before.
func TestMigrationKeepsConversationStarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flowc.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 6); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ns := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, received)
			VALUES (?, 'ann', 'n', ?, '[]', 'sales', 'v1', 'routed', '', ?)`, []any{"SMold", "an earlier conversation", ns(-time.Hour)}},
		{`INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, received)
			VALUES (?, 'ann', 'n', ?, '[]', 'sales', 'v1', 'routed', '', ?)`, []any{"SM1", "my order", ns(0)}},
		{`INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, received)
			VALUES (?, 'ann', 'n', ?, '[]', 'sales', 'v1', 'routed', '', ?)`, []any{"SM2", "x", ns(time.Minute)}},
		{`INSERT INTO conversation_starts (sid, flow, received) VALUES ('SMold', 'sales', ?), ('SM1', 'sales', ?)`, []any{ns(-time.Hour), ns(0)}},
		{`INSERT INTO conversations (contact, number, flow, version, state, updated) VALUES ('ann', 'n', 'sales', 'v1', x'7b7d', ?),
			('bob', 'n', 'sales', 'v1', x'7b7d', ?)`, []any{ns(time.Minute), ns(2 * time.Minute)}},
		{`INSERT INTO inbox_items (target_kind, target_name, assignee, message_sid, contact, number, body, flow, created)
			VALUES ('team', 'sales', '', 'SM9', 'cy', 'n', 'old item', 'sales', ?)`, []any{ns(0)}},
	} {
		if _, err := db.ExecContext(t.Context(), q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	err = s.InTx(t.Context(), func(tx store.Tx) error {
		for who, want := range map[string]time.Time{"ann": t0, "bob": t0.Add(2 * time.Minute)} {
			c, err := tx.Conversation(t.Context(), who, "n")
			if err != nil {
				return err
			}
			if !c.Started.Equal(want) {
				t.Errorf("%s's conversation started %s, want %s", who, c.Started, want)
			}
		}
		items, err := tx.InboxItems(t.Context(), "team", "sales", true)
		if err != nil {
			return err
		}
		if len(items) != 1 || items[0].Body != "old item" || items[0].Messages != nil || items[0].MessagesOmitted != 0 {
			t.Errorf("old item: %+v", items)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
