package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
)

func adminSetting(t *testing.T, st store.Store) string {
	t.Helper()
	var v string
	err := st.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.(store.OutboxTx).Setting(context.Background(), "admin_token")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAdminTokenIsStoredHashed: the store holds the SHA-256 of a
// generated token, never the token, and a later start (a new Server on
// the same store) accepts the token without being able to show it.
func TestAdminTokenIsStoredHashed(t *testing.T) {
	h, tok := adminHarness(t)
	sum := sha256.Sum256([]byte(tok))
	if got, want := adminSetting(t, h.store), "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("stored admin token setting %q, want %q", got, want)
	}
	later := server.New(server.Config{Logger: quiet}, h.store)
	shown, generated, err := later.EnsureAdminToken(context.Background())
	if err != nil || shown != "" || generated {
		t.Fatalf("later start: token %q generated=%v err=%v", shown, generated, err)
	}
	h.srv = later
	h.http.Config.Handler = later.Handler()
	if code, body := h.admin("GET", "/v1/admin/flows", tok, nil); code != http.StatusOK {
		t.Fatalf("the generated token after a restart: %d %s", code, body)
	}
	if code, _ := h.admin("GET", "/v1/admin/flows", "sha256:"+hex.EncodeToString(sum[:]), nil); code != http.StatusUnauthorized {
		t.Fatalf("the stored hash itself is accepted as a token: %d", code)
	}
}

// TestPlaintextAdminTokenIsRehashed: a token an earlier version stored
// as is keeps working, and the store then holds only its hash.
func TestPlaintextAdminTokenIsRehashed(t *testing.T) {
	h := start(t, authToken, "../examples")
	const old = "flowc_0123456789abcdef0123456789abcdef0123456789abcdef"
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		return tx.(store.OutboxTx).SetSetting(context.Background(), "admin_token", old)
	})
	if err != nil {
		t.Fatal(err)
	}
	if shown, generated, err := h.srv.EnsureAdminToken(context.Background()); err != nil || shown != "" || generated {
		t.Fatalf("start over a plaintext token: token %q generated=%v err=%v", shown, generated, err)
	}
	sum := sha256.Sum256([]byte(old))
	if got := adminSetting(t, h.store); got != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("after the start the store holds %q, want the token's hash", got)
	}
	if code, body := h.admin("GET", "/v1/admin/flows", old, nil); code != http.StatusOK {
		t.Fatalf("the earlier plaintext token: %d %s", code, body)
	}
	// And again: the hash is read as a hash, not hashed twice.
	if _, _, err := h.srv.EnsureAdminToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := h.admin("GET", "/v1/admin/flows", old, nil); code != http.StatusOK {
		t.Fatalf("the token after a second start: %d", code)
	}
}
