package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// Deploy round trips: what `flowc serve DIR` does at start
// (DeployDirectory) after deploys, rollbacks and edits of the served
// files, on both stores. A "restart" is a new server over the store
// reopened, deploying the directory as serve does.

const adminToken = "test-admin-token-0123456789"

// reopenable returns a function opening the same database again.
func reopenable(t *testing.T, kind string) func() store.Store {
	t.Helper()
	var open func() (store.Store, error)
	switch kind {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "flowc.db")
		open = func() (store.Store, error) { return sqlite.Open(context.Background(), path) }
	case "postgres":
		u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
		open = func() (store.Store, error) { return postgres.Open(context.Background(), u) }
	}
	return func() store.Store {
		st, err := open()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}

// deployment is one run of the server over a flows directory.
type deployment struct {
	*harness
	results map[string]server.DirectoryDeploy
}

var restarts int

// serveDir starts a server on st over dir as `flowc serve dir` does.
func serveDir(t *testing.T, st store.Store, dir string) *deployment {
	t.Helper()
	res, err := lang.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() {
		t.Fatalf("flows do not compile: %v %v", res.Diags.Err(), cd.Err())
	}
	d, err := server.LoadDirectory("../examples/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, ny)}
	srv := server.New(server.Config{TwilioAuthToken: authToken, AdminToken: adminToken, Directory: d, Now: clk.Now, Logger: quiet}, st)
	if _, _, err := srv.EnsureAdminToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	results, err := srv.DeployDirectory(context.Background(), progs)
	if err != nil {
		t.Fatalf("the server does not start: %v", err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	restarts++
	out := &deployment{harness: &harness{t: t, srv: srv, http: hs, store: st, clock: clk, seq: restarts * 1000}, results: map[string]server.DirectoryDeploy{}}
	for _, r := range results {
		out.results[r.Flow] = r
	}
	return out
}

// flowDir writes files into a fresh directory.
func flowDir(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func greeter(text string) string {
	return "flow greet\nnumbers \"+15550300\"\nreply \"" + text + "\"\n"
}

func (d *deployment) deploy(file, src string, extra ...func(*server.DeployRequest)) (int, server.DeployResponse, string) {
	d.t.Helper()
	req := server.DeployRequest{File: file, Source: src}
	for _, f := range extra {
		f(&req)
	}
	code, body := d.admin("POST", "/v1/admin/flows", adminToken, req)
	var out server.DeployResponse
	json.Unmarshal(body, &out)
	return code, out, string(body)
}

func (d *deployment) greets(want string) {
	d.t.Helper()
	if got := d.text(ann, "+15550300", "hi"); got != twiml(want) {
		d.t.Fatalf("the flow answers %s, want %q", got, want)
	}
}

func (d *deployment) rollback(flow, version string) {
	d.t.Helper()
	if code, body := d.admin("POST", "/v1/admin/flows/"+flow+"/rollback", adminToken, map[string]string{"version": version}); code != http.StatusOK {
		d.t.Fatalf("rollback: %d %s", code, body)
	}
}

func (d *deployment) status(flow, want string) {
	d.t.Helper()
	if got := d.results[flow].Status; got != want {
		d.t.Fatalf("at start, %s: %+v, want status %s", flow, d.results[flow], want)
	}
}

// TestServeThenDeployTheSameFileIsUnchanged: `flowc serve examples/`
// then `flowc deploy examples/sales.flow`, as docs/server.md shows: the
// deploy is "unchanged" (200), not a 503, and the restart starts.
func TestServeThenDeployTheSameFileIsUnchanged(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			open := reopenable(t, sc.name)
			st := open()
			d := serveDir(t, st, "../examples")
			d.status("sales", server.StatusCreated)
			src, _ := os.ReadFile("../examples/sales.flow")
			code, out, body := d.deploy("sales.flow", string(src))
			if code != http.StatusOK || out.Status != server.StatusUnchanged || out.Version != d.results["sales"].Version {
				t.Fatalf("deploy of the served file: %d %s", code, body)
			}
			// Again: still unchanged.
			if code, out, body := d.deploy("sales.flow", string(src)); code != http.StatusOK || out.Status != server.StatusUnchanged {
				t.Fatalf("second identical deploy: %d %s", code, body)
			}
			st.Close()
			st = open()
			defer st.Close()
			d = serveDir(t, st, "../examples")
			d.status("sales", server.StatusUnchanged)
			if got := d.text(ann, "+15550100", "hi"); got != twiml("Reply 1 for sales, 2 for support") {
				t.Fatalf("after the restart: %s", got)
			}
		})
	}
}

// TestRestartAfterDeploysAndEdits: deploy a changed flow, put the same
// file into the served directory, restart: it starts (it used to refuse)
// and serves it. A restart with the file unchanged keeps what the admin
// API deployed; an edited file wins.
func TestRestartAfterDeploysAndEdits(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			open := reopenable(t, sc.name)
			dir := flowDir(t, map[string]string{"greet.flow": greeter("one")})
			st := open()
			d := serveDir(t, st, dir)
			d.greets("one")

			// deploy two; restart with the directory still at one: two is kept.
			code, two, body := d.deploy("greet.flow", greeter("two"))
			if code != http.StatusCreated || two.Status != server.StatusCreated {
				t.Fatalf("deploy two: %d %s", code, body)
			}
			d.greets("two")
			st.Close()
			st = open()
			d = serveDir(t, st, dir)
			d.status("greet", server.StatusKept)
			d.greets("two")

			// The deployed file put into the directory: starts, unchanged.
			writeFiles(t, dir, map[string]string{"greet.flow": greeter("two")})
			st.Close()
			st = open()
			d = serveDir(t, st, dir)
			d.status("greet", server.StatusUnchanged)
			d.greets("two")

			// The file edited: the directory wins.
			writeFiles(t, dir, map[string]string{"greet.flow": greeter("three")})
			st.Close()
			st = open()
			d = serveDir(t, st, dir)
			d.status("greet", server.StatusCreated)
			d.greets("three")

			// Edited back to an earlier version: that version is active again.
			writeFiles(t, dir, map[string]string{"greet.flow": greeter("one")})
			st.Close()
			st = open()
			defer func() { st.Close() }()
			d = serveDir(t, st, dir)
			d.status("greet", server.StatusActivated)
			d.greets("one")
		})
	}
}

// TestRestartAfterRollback: a rollback survives a restart with the file
// unchanged, and a rollback to the directory's own version restarts as
// unchanged.
func TestRestartAfterRollback(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			open := reopenable(t, sc.name)
			dir := flowDir(t, map[string]string{"greet.flow": greeter("one")})
			st := open()
			d := serveDir(t, st, dir)
			one := d.results["greet"].Version
			// The file edited to two and served.
			writeFiles(t, dir, map[string]string{"greet.flow": greeter("two")})
			st.Close()
			st = open()
			d = serveDir(t, st, dir)
			d.status("greet", server.StatusCreated)
			two := d.results["greet"].Version
			// Rolled back to one through the API; the restart keeps one.
			d.rollback("greet", one[:12])
			d.greets("one")
			st.Close()
			st = open()
			d = serveDir(t, st, dir)
			d.status("greet", server.StatusKept)
			d.greets("one")
			// Rolled forward to the directory's two: unchanged at restart.
			d.rollback("greet", two[:12])
			st.Close()
			st = open()
			defer func() { st.Close() }()
			d = serveDir(t, st, dir)
			d.status("greet", server.StatusUnchanged)
			d.greets("two")
		})
	}
}

// TestRestartWithAConflictingFileStarts: the directory's edited flow
// claims a number another flow took through the admin API meanwhile: the
// server still starts, says why that flow was not deployed, and keeps
// serving what was active.
func TestRestartWithAConflictingFileStarts(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			open := reopenable(t, sc.name)
			dir := flowDir(t, map[string]string{"greet.flow": greeter("one")})
			st := open()
			d := serveDir(t, st, dir)
			// greet moves to another number, and flow other takes +15550300.
			moved := "flow greet\nnumbers \"+15550301\"\nreply \"moved\"\n"
			if code, _, body := d.deploy("greet.flow", moved); code != http.StatusCreated {
				t.Fatalf("move greet: %d %s", code, body)
			}
			if code, _, body := d.deploy("other.flow", "flow other\nnumbers \"+15550300\"\nreply \"other\"\n"); code != http.StatusCreated {
				t.Fatalf("deploy other: %d %s", code, body)
			}
			writeFiles(t, dir, map[string]string{"greet.flow": greeter("edited")})
			st.Close()
			st = open()
			defer func() { st.Close() }()
			d = serveDir(t, st, dir)
			r := d.results["greet"]
			if r.Status != server.StatusRefused || !strings.Contains(r.Reason, "+15550300") || !strings.Contains(r.Reason, `"other"`) {
				t.Fatalf("conflicting file at start: %+v", r)
			}
			d.greets("other")
			if got := d.text(ann, "+15550301", "hi"); got != twiml("moved") {
				t.Fatalf("greet after the refused start: %s", got)
			}
		})
	}
}

// TestDeployConflictsAre409: a number served by another flow, a version
// saved for another flow and a version saved with other content are
// 409s with a message, never a 503, and change nothing.
func TestDeployConflictsAre409(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			open := reopenable(t, sc.name)
			st := open()
			defer st.Close()
			d := serveDir(t, st, flowDir(t, map[string]string{"greet.flow": greeter("one")}))
			code, _, body := d.deploy("other.flow", "flow other\nnumbers \"+15550300\"\nreply \"other\"\n")
			if code != http.StatusConflict || !strings.Contains(body, "+15550300") || !strings.Contains(body, `\"greet\"`) {
				t.Fatalf("number of another flow: %d %s", code, body)
			}

			// Versions taken in the store under what the new content hashes to.
			for i, stored := range []store.Program{
				{Flow: "intruder", Encoded: []byte("x")},
				{Flow: "greet", Encoded: encoded(t, greeter("something else"))},
			} {
				src := greeter([]string{"two", "three"}[i])
				stored.Version = versionOf(t, "greet.flow", src)
				if err := st.InTx(context.Background(), func(tx store.Tx) error { return tx.SaveProgram(context.Background(), &stored) }); err != nil {
					t.Fatal(err)
				}
				code, _, body := d.deploy("greet.flow", src)
				want := []string{`already saved for flow \"intruder\"`, "different content"}[i]
				if code != http.StatusConflict || !strings.Contains(body, want) {
					t.Fatalf("version conflict %d: %d %s, want 409 %q", i, code, body, want)
				}
			}
			d.greets("one")
		})
	}
}

func compileOne(t *testing.T, file, src string) *lang.Result {
	t.Helper()
	dir := flowDir(t, map[string]string{file: src})
	res, err := lang.Load([]string{filepath.Join(dir, file)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func versionOf(t *testing.T, file, src string) string {
	progs, _ := compiler.All(compileOne(t, file, src))
	if len(progs) != 1 {
		t.Fatal("does not compile")
	}
	return progs[0].Version
}

func encoded(t *testing.T, src string) []byte {
	progs, _ := compiler.All(compileOne(t, "greet.flow", src))
	var b strings.Builder
	if err := progs[0].Encode(&b); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}
