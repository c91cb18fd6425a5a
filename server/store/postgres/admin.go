package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/flowc-dev/flowc/server/store"
)

var _ store.AdminTx = (*tx)(nil)

// Numbers lists every routed number, sorted bytewise (as SQLite's BINARY
// collation, whatever the database's collation).
func (t *tx) Numbers(ctx context.Context) ([]store.NumberRoute, error) {
	rows, err := t.tx.Query(ctx, `SELECT number, flow, version FROM numbers ORDER BY number COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres store: numbers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.NumberRoute, error) {
		var n store.NumberRoute
		err := r.Scan(&n.Number, &n.Flow, &n.Version)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres store: numbers: %w", err)
	}
	return out, nil
}

// UnroutedNumbers lists numbers texted while no flow served them, and
// still served by none, sorted bytewise.
func (t *tx) UnroutedNumbers(ctx context.Context) ([]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT DISTINCT to_number COLLATE "C" AS n FROM messages AS m
		WHERE outcome = 'no-flow' AND NOT EXISTS (SELECT 1 FROM numbers WHERE number = m.to_number)
		ORDER BY n`)
	if err != nil {
		return nil, fmt.Errorf("postgres store: unrouted numbers: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres store: unrouted numbers: %w", err)
	}
	return out, nil
}

// lockDeployments takes the deployments' advisory lock (as Activate does),
// so that routing changes from several replicas, and activations, are
// applied one after the other.
func (t *tx) lockDeployments(ctx context.Context) error {
	_, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, deploymentsKey)
	return err
}

// AssignNumber routes number to flow's active version (ErrNotFound if the
// flow has none), taking it from any other flow.
func (t *tx) AssignNumber(ctx context.Context, number, flow string) error {
	if err := t.lockDeployments(ctx); err != nil {
		return fmt.Errorf("postgres store: assign %s: lock: %w", number, err)
	}
	var version string
	err := t.tx.QueryRow(ctx, `SELECT version FROM programs WHERE flow = $1 AND active`, flow).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("flow %q has no active version: %w", flow, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres store: assign %s: %w", number, err)
	}
	_, err = t.tx.Exec(ctx, `INSERT INTO numbers (number, flow, version) VALUES ($1, $2, $3)
		ON CONFLICT (number) DO UPDATE SET flow = excluded.flow, version = excluded.version`, number, flow, version)
	if err != nil {
		return fmt.Errorf("postgres store: assign %s: %w", number, err)
	}
	return nil
}

// UnassignNumber stops routing number (ErrNotFound if it was not).
func (t *tx) UnassignNumber(ctx context.Context, number string) error {
	if err := t.lockDeployments(ctx); err != nil {
		return fmt.Errorf("postgres store: unassign %s: lock: %w", number, err)
	}
	tag, err := t.tx.Exec(ctx, `DELETE FROM numbers WHERE number = $1`, number)
	if err != nil {
		return fmt.Errorf("postgres store: unassign %s: %w", number, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("number %s is not routed: %w", number, store.ErrNotFound)
	}
	return nil
}
