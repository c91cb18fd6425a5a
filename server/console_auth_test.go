package server_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/console"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// TestPublicSignInDoesNotCompareTheAdminToken: on the public listener
// (admin false) the console backend refuses the admin token as it
// refuses any token that is not an agent's, without comparing it or
// computing a session proof (which a correct guess alone would cost, ~40
// ms of scrypt: a timing oracle); on the admin listener it signs the
// admin in, with a proof.
func TestPublicSignInDoesNotCompareTheAdminToken(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const token = "flowc_test_admin_token_0123456789"
	srv := server.New(server.Config{AdminToken: token, Logger: quiet}, st)
	if _, _, err := srv.EnsureAdminToken(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{token, "flowc_test_wrong"} {
		p, refusal, err := server.ConsoleAuthenticate(srv, ctx, tok, false)
		if err != nil || refusal != console.WrongToken || p.Role != 0 {
			t.Errorf("public listener, token %q: %+v, %q, %v; want the wrong token's refusal", tok, p, refusal, err)
		}
	}
	if n := server.AdminProofs(srv); n != 0 {
		t.Errorf("the public listener computed %d admin proofs, want none", n)
	}
	p, refusal, err := server.ConsoleAuthenticate(srv, ctx, token, true)
	if err != nil || refusal != "" || p.Role != console.RoleAdmin {
		t.Fatalf("admin listener: %+v, %q, %v; want the admin signed in", p, refusal, err)
	}
	if n := server.AdminProofs(srv); n != 1 {
		t.Errorf("%d admin proofs after an admin sign-in, want 1", n)
	}
}
