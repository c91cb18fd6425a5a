package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// adminServer is a server for the client commands' tests: a fresh SQLite
// store, the flows under one path deployed, the examples' directory unless
// cfg names one, behind an httptest listener, with its admin token.
type adminServer struct {
	srv   *server.Server
	url   string
	token string
	store store.Store
}

func startAdminServer(t *testing.T, flows string, cfg server.Config) *adminServer {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := lang.Load([]string{flows})
	if err != nil {
		t.Fatal(err)
	}
	progs, _ := compiler.All(res)
	if cfg.Directory == nil {
		if cfg.Directory, err = server.LoadDirectory("../../examples/directory.json"); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := server.New(cfg, st)
	if err := srv.Deploy(context.Background(), progs); err != nil {
		t.Fatal(err)
	}
	token, _, err := srv.EnsureAdminToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &adminServer{srv: srv, url: hs.URL, token: token, store: st}
}

// flowc runs a client command against the server, with its URL and token.
func (a *adminServer) flowc(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(append(args, "--server", a.url, "--token", a.token), nil, &out, &errOut)
	return code, out.String(), errOut.String()
}
