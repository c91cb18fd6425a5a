package store

import (
	"context"
	"time"
)

// UserToken is a per-user API token as the store keeps it: never the
// token itself, only its SHA-256 (Digest, hex).
type UserToken struct {
	ID      int64     `json:"id"`
	User    string    `json:"user"`
	Label   string    `json:"label,omitempty"`
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"` // zero: in force
}

// UsersTx makes and revokes per-user tokens, and locks the directory for
// a read-modify-write of one user (server/users.go).
type UsersTx interface {
	// AddUserToken stores a token by its digest; sets t.ID.
	AddUserToken(ctx context.Context, t *UserToken, digest string) error
	// RevokeUserToken revokes user's token id at at: ErrNotFound when
	// user has no such token (or it was revoked before).
	RevokeUserToken(ctx context.Context, user string, id int64, at time.Time) error
	// RevokeAllUserTokens revokes every token of user in force at at (the
	// user left the directory: a new user of the same name gets none).
	RevokeAllUserTokens(ctx context.Context, user string, at time.Time) error
	// LockDirectory takes the directory's lock for this transaction
	// (PostgreSQL: an advisory lock; SQLite's writer is exclusive), so
	// that two replicas changing two users do not lose one change.
	LockDirectory(ctx context.Context) error
}

// UsersReader reads the tokens outside any transaction (on SQLite's
// read connections).
type UsersReader interface {
	// UserTokens are user's tokens, oldest first, revoked ones included.
	UserTokens(ctx context.Context, user string) ([]UserToken, error)
	// TokenByDigest is the token whose digest this is; ErrNotFound when
	// none (a revoked one is returned, with Revoked set).
	TokenByDigest(ctx context.Context, digest string) (*UserToken, error)
	// StoredDirectoryVersion is the stored directory's version (the one
	// StepState carries), so that a request can tell, with one small read,
	// whether another replica changed the directory.
	StoredDirectoryVersion(ctx context.Context) (int64, error)
}
