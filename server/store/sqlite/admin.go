package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/flowc-dev/flowc/server/store"
)

var _ store.AdminTx = (*tx)(nil)

// Numbers lists every routed number.
func (t *tx) Numbers(ctx context.Context) ([]store.NumberRoute, error) {
	rows, err := t.query(ctx, `SELECT number, flow, version FROM numbers ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: numbers: %w", err)
	}
	defer rows.Close()
	var out []store.NumberRoute
	for rows.Next() {
		var r store.NumberRoute
		if err := rows.Scan(&r.Number, &r.Flow, &r.Version); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UnroutedNumbers lists numbers texted while no flow served them.
func (t *tx) UnroutedNumbers(ctx context.Context) ([]string, error) {
	rows, err := t.query(ctx, `SELECT DISTINCT to_number FROM messages
		WHERE outcome = 'no-flow' AND to_number NOT IN (SELECT number FROM numbers) ORDER BY to_number`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: unrouted numbers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// AssignNumber routes number to flow's active version.
func (t *tx) AssignNumber(ctx context.Context, number, flow string) error {
	var version string
	err := t.queryRow(ctx, `SELECT version FROM programs WHERE flow = ? AND active = 1`, flow).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("flow %q has no active version: %w", flow, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: assign %s: %w", number, err)
	}
	_, err = t.exec(ctx, `INSERT INTO numbers (number, flow, version) VALUES (?, ?, ?)
		ON CONFLICT (number) DO UPDATE SET flow = excluded.flow, version = excluded.version`, number, flow, version)
	if err != nil {
		return fmt.Errorf("sqlite store: assign %s: %w", number, err)
	}
	return nil
}

// UnassignNumber stops routing number.
func (t *tx) UnassignNumber(ctx context.Context, number string) error {
	res, err := t.exec(ctx, `DELETE FROM numbers WHERE number = ?`, number)
	if err != nil {
		return fmt.Errorf("sqlite store: unassign %s: %w", number, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("number %s is not routed: %w", number, store.ErrNotFound)
	}
	return nil
}
