package postgres_test

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

// TestMigrationKeepsConversationStarts: a conversation in progress when
// 00007 runs starts at its recorded start, or, when none was recorded,
// at its last step; an inbox item from before has no messages.
func TestMigrationKeepsConversationStarts(t *testing.T) {
	u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 6); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	msg := `INSERT INTO messages (sid, from_number, to_number, body, media, flow, version, outcome, response, received)
		VALUES ($1, 'ann', 'n', $2, '{}', 'sales', 'v1', 'routed', '', $3)`
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{msg, []any{"SMold", "an earlier conversation", t0.Add(-time.Hour)}},
		{msg, []any{"SM1", "my order", t0}},
		{msg, []any{"SM2", "x", t0.Add(time.Minute)}},
		{`INSERT INTO conversation_starts (sid, flow, received) VALUES ('SMold', 'sales', $1), ('SM1', 'sales', $2)`, []any{t0.Add(-time.Hour), t0}},
		{`INSERT INTO conversations (contact, number, flow, version, state, updated) VALUES ('ann', 'n', 'sales', 'v1', '\x7b7d', $1),
			('bob', 'n', 'sales', 'v1', '\x7b7d', $2)`, []any{t0.Add(time.Minute), t0.Add(2 * time.Minute)}},
		{`INSERT INTO inbox_items (target_kind, target_name, assignee, message_sid, contact, number, body, flow, created)
			VALUES ('team', 'sales', '', 'SM9', 'cy', 'n', 'old item', 'sales', $1)`, []any{t0}},
	} {
		if _, err := db.ExecContext(t.Context(), q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()

	s, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
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
