package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Per-user tokens (store.UsersTx, store.UsersReader; migration 00016).

var (
	_ store.UsersTx     = (*Tx)(nil)
	_ store.UsersReader = (*DB)(nil)
)

var directoryKey = LockKey("flowc directory")

// AddUserToken stores a token's digest.
func (t *Tx) AddUserToken(ctx context.Context, u *store.UserToken, digest string) error {
	c, err := t.time(u.Created)
	if err != nil {
		return err
	}
	id, err := t.insert(ctx, `INSERT INTO user_tokens (user_name, digest, label, created) VALUES (?, ?, ?, ?)`, u.User, digest, u.Label, c)
	if err != nil {
		return t.errorf("token of %s: %w", u.User, err)
	}
	u.ID = id
	return nil
}

// RevokeUserToken revokes one of user's tokens.
func (t *Tx) RevokeUserToken(ctx context.Context, user string, id int64, at time.Time) error {
	a, err := t.time(at)
	if err != nil {
		return err
	}
	n, err := affected(t.exec(ctx, `UPDATE user_tokens SET revoked = ? WHERE id = ? AND user_name = ? AND revoked IS NULL`, a, id, user))
	if err != nil {
		return t.errorf("revoke token %d of %s: %w", id, user, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// RevokeAllUserTokens revokes every token of user still in force.
func (t *Tx) RevokeAllUserTokens(ctx context.Context, user string, at time.Time) error {
	a, err := t.time(at)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE user_tokens SET revoked = ? WHERE user_name = ? AND revoked IS NULL`, a, user); err != nil {
		return t.errorf("revoke the tokens of %s: %w", user, err)
	}
	return nil
}

// LockDirectory takes the directory's advisory lock.
func (t *Tx) LockDirectory(ctx context.Context) error {
	if err := t.lock(ctx, directoryKey); err != nil {
		return t.errorf("lock the directory: %w", err)
	}
	return nil
}

func scanToken(r interface{ Scan(...any) error }) (store.UserToken, error) {
	var u store.UserToken
	return u, r.Scan(&u.ID, &u.User, &u.Label, scanTime(&u.Created), scanTime(&u.Revoked))
}

// UserTokens reads user's tokens.
func (db *DB) UserTokens(ctx context.Context, user string) ([]store.UserToken, error) {
	rows, err := db.r.QueryContext(ctx, db.rebind(`SELECT id, user_name, label, created, revoked FROM user_tokens WHERE user_name = ? ORDER BY id`), user)
	ts, err := collect(rows, err, func(r *sql.Rows) (store.UserToken, error) { return scanToken(r) })
	if err != nil {
		return nil, db.readErr("tokens of "+user, err)
	}
	return ts, nil
}

// TokenByDigest finds a token by its digest.
func (db *DB) TokenByDigest(ctx context.Context, digest string) (*store.UserToken, error) {
	u, err := scanToken(db.r.QueryRowContext(ctx, db.rebind(`SELECT id, user_name, label, created, revoked FROM user_tokens WHERE digest = ?`), digest))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, db.readErr("token", err)
	}
	return &u, nil
}

// StoredDirectoryVersion reads directory_version (migration 00014).
func (db *DB) StoredDirectoryVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := db.r.QueryRowContext(ctx, `SELECT version FROM directory_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, db.readErr("directory version", err)
	}
	return v, nil
}
