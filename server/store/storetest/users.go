package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// testUserTokens: store.UsersTx and store.UsersReader. A token is found
// by its digest; a user's tokens list oldest first; a revoked token is
// still found, with its revocation time, and revoking it again (or
// another user's) is ErrNotFound; two tokens cannot share a digest.
func testUserTokens(t *testing.T, s store.Store) {
	ur, ok := s.(store.UsersReader)
	if !ok {
		t.Fatalf("store %T is not a store.UsersReader", s)
	}
	ctx := context.Background()
	bob1 := &store.UserToken{User: "bob", Label: "laptop", Created: T0}
	bob2 := &store.UserToken{User: "bob", Created: T0.Add(time.Hour)}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		ut := tx.(store.UsersTx)
		if err := ut.LockDirectory(ctx); err != nil {
			return err
		}
		for i, tok := range []*store.UserToken{bob1, bob2, {User: "carol", Created: T0}} {
			if err := ut.AddUserToken(ctx, tok, fmt.Sprintf("d%d", i+1)); err != nil {
				return err
			}
		}
		return nil
	})
	if bob1.ID == 0 || bob1.ID == bob2.ID {
		t.Fatalf("ids %d, %d", bob1.ID, bob2.ID)
	}
	v1, err := ur.StoredDirectoryVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.(store.OutboxTx).SetSetting(ctx, "directory", `{"users": []}`)
	})
	if v2, err := ur.StoredDirectoryVersion(ctx); err != nil || v2 <= v1 {
		t.Errorf("StoredDirectoryVersion after a directory change: %d (before %d), %v; want it higher", v2, v1, err)
	}
	got, err := ur.TokenByDigest(ctx, "d2")
	if err != nil || got.User != "bob" || got.ID != bob2.ID || !got.Revoked.IsZero() {
		t.Fatalf("TokenByDigest(d2) = %+v, %v", got, err)
	}
	if _, err := ur.TokenByDigest(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown digest: %v, want ErrNotFound", err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.(store.UsersTx).RevokeUserToken(ctx, "bob", bob1.ID, T0.Add(2*time.Hour))
	})
	list, err := ur.UserTokens(ctx, "bob")
	if err != nil || len(list) != 2 || list[0].ID != bob1.ID || list[0].Label != "laptop" || !sameTime(list[0].Revoked, T0.Add(2*time.Hour)) || !list[1].Revoked.IsZero() {
		t.Errorf("UserTokens(bob) = %+v, %v", list, err)
	}
	for _, c := range []struct {
		user string
		id   int64
	}{{"bob", bob1.ID}, {"carol", bob2.ID}} {
		err := s.InTx(ctx, func(tx store.Tx) error { return tx.(store.UsersTx).RevokeUserToken(ctx, c.user, c.id, T0) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke %s's %d: %v, want ErrNotFound", c.user, c.id, err)
		}
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.(store.UsersTx).AddUserToken(ctx, &store.UserToken{User: "dave", Created: T0}, "d1")
	})
	if err == nil {
		t.Error("a second token with the same digest was stored")
	}
}
