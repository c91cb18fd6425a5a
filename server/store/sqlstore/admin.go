package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/flowc-dev/flowc/server/store"
)

// Numbers lists every routed number, sorted bytewise.
func (t *Tx) Numbers(ctx context.Context) ([]store.NumberRoute, error) {
	return t.NumbersPage(ctx, "", 0)
}

// NumbersPage lists at most limit (0: all) routed numbers after the
// number after, sorted bytewise, from the primary key's index.
func (t *Tx) NumbersPage(ctx context.Context, after string, limit int) ([]store.NumberRoute, error) {
	rows, err := t.query(ctx, `SELECT number, flow, version FROM numbers WHERE number`+t.db.d.Bytewise+` > ?
		ORDER BY number`+t.db.d.Bytewise+` LIMIT ?`, after, limitOrAll(limit))
	out, err := collect(rows, err, func(r *sql.Rows) (store.NumberRoute, error) {
		var n store.NumberRoute
		return n, r.Scan(&n.Number, &n.Flow, &n.Version)
	})
	if err != nil {
		return nil, t.errorf("numbers: %w", err)
	}
	return out, nil
}

// UnroutedNumbers lists numbers texted while no flow served them, and
// still served by none, sorted bytewise.
func (t *Tx) UnroutedNumbers(ctx context.Context) ([]string, error) {
	return t.UnroutedNumbersPage(ctx, "", 0)
}

// UnroutedNumbersPage lists at most limit (0: all) unrouted numbers after
// the number after, sorted bytewise. It reads the partial index on the
// no-flow messages' to_number (migration 00008), never the rest of the
// messages.
func (t *Tx) UnroutedNumbersPage(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := t.query(ctx, UnroutedNumbersQuery(t.db.d), after, limitOrAll(limit))
	out, err := collect(rows, err, func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
	if err != nil {
		return nil, t.errorf("unrouted numbers: %w", err)
	}
	return out, nil
}

// UnroutedNumbersQuery is UnroutedNumbersPage's query (arguments: after,
// limit), with ? placeholders; the stores' tests check its plan. It is a
// loose index scan of the partial index messages_no_flow: one seek per
// distinct number texted with no flow (the next number above the last),
// so its cost grows with those numbers, not with the no-flow messages
// (a DISTINCT over the index read all 20,000 entries of 1M messages to
// return 30 numbers: 17.6 ms on SQLite and 31 ms on PostgreSQL, against
// 0.43 and 0.60 ms; docs/benchmarks.md, "Admin reads at 1M rows").
func UnroutedNumbersQuery(d Dialect) string {
	c := d.Bytewise
	return `WITH RECURSIVE u(n) AS (
			SELECT (SELECT to_number` + c + ` FROM messages WHERE outcome = 'no-flow' AND to_number` + c + ` > ?
				ORDER BY to_number` + c + ` LIMIT 1)
			UNION ALL
			SELECT (SELECT to_number` + c + ` FROM messages WHERE outcome = 'no-flow' AND to_number` + c + ` > u.n
				ORDER BY to_number` + c + ` LIMIT 1)
			FROM u WHERE u.n IS NOT NULL)
		SELECT n FROM u WHERE n IS NOT NULL AND NOT EXISTS (SELECT 1 FROM numbers WHERE number = u.n)
		ORDER BY n` + c + ` LIMIT ?`
}

// AssignNumber routes number to flow's active version (ErrNotFound if the
// flow has none), in the routes of the flow's channel, taking it from
// any other flow of that channel.
func (t *Tx) AssignNumber(ctx context.Context, number, flow string) (string, error) {
	if err := t.lockDeployments(ctx); err != nil {
		return "", t.errorf("assign %s: lock: %w", number, err)
	}
	var version, channel string
	err := t.queryRow(ctx, `SELECT version, channel FROM programs WHERE flow = ? AND active = true`, flow).Scan(&version, &channel)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("flow %q has no active version: %w", flow, store.ErrNotFound)
	}
	if err != nil {
		return "", t.errorf("assign %s: %w", number, err)
	}
	channel = channelOf(channel)
	_, err = t.exec(ctx, `INSERT INTO `+routesTable(channel)+` (number, flow, version) VALUES (?, ?, ?)
		ON CONFLICT (number) DO UPDATE SET flow = excluded.flow, version = excluded.version`, number, flow, version)
	if err != nil {
		return "", t.errorf("assign %s: %w", number, err)
	}
	return channel, nil
}

// UnassignNumber stops routing number's texts or calls (ErrNotFound if
// they were not).
func (t *Tx) UnassignNumber(ctx context.Context, number, channel string) error {
	if err := t.lockDeployments(ctx); err != nil {
		return t.errorf("unassign %s: lock: %w", number, err)
	}
	n, err := affected(t.exec(ctx, `DELETE FROM `+routesTable(channel)+` WHERE number = ?`, number))
	if err != nil {
		return t.errorf("unassign %s: %w", number, err)
	}
	if n == 0 {
		what := "texts"
		if channel == "voice" {
			what = "calls"
		}
		return fmt.Errorf("the %s of number %s are not routed: %w", what, number, store.ErrNotFound)
	}
	return nil
}

// CallNumbersPage lists at most limit (0: all) numbers routed to call
// flows after the number after, sorted bytewise.
func (t *Tx) CallNumbersPage(ctx context.Context, after string, limit int) ([]store.NumberRoute, error) {
	rows, err := t.query(ctx, `SELECT number, flow, version FROM call_numbers WHERE number`+t.db.d.Bytewise+` > ?
		ORDER BY number`+t.db.d.Bytewise+` LIMIT ?`, after, limitOrAll(limit))
	out, err := collect(rows, err, func(r *sql.Rows) (store.NumberRoute, error) {
		var n store.NumberRoute
		return n, r.Scan(&n.Number, &n.Flow, &n.Version)
	})
	if err != nil {
		return nil, t.errorf("call numbers: %w", err)
	}
	return out, nil
}
