package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/vm"
)

// TestRouteTableCachedAcrossReplicas: each server keeps the route table in
// memory; a deploy, a rollback and a draft made through replica A are
// seen by replica B's next message, although B read (and cached) the
// table before each of them. Two Server instances on one store: one
// PostgreSQL schema, or one SQLite file opened twice (as two processes).
func TestRouteTableCachedAcrossReplicas(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			open := reopenable(t, sc.name)
			stA, stB := open(), open()
			defer stA.Close()
			defer stB.Close()
			dir := flowDir(t, map[string]string{"greet.flow": greeter("one")})
			a := serveDir(t, stA, dir)
			b := serveDir(t, stB, dir)
			v1 := a.results["greet"].Version
			b.greets("one") // B has read the route table now
			b.greets("one") // and routes from memory

			if code, out, body := a.deploy("greet.flow", greeter("two")); code != http.StatusCreated || out.Status != server.StatusCreated {
				t.Fatalf("deploy on A: %d %s", code, body)
			}
			b.greets("two")
			a.greets("two")

			a.rollback("greet", v1)
			b.greets("one")

			code, out, body := a.deploy("greet.flow", greeter("three"), func(r *server.DeployRequest) { r.Draft, r.TestContacts = true, []string{tester} })
			if code != http.StatusCreated || out.Status != server.StatusDraft {
				t.Fatalf("draft deploy on A: %d %s", code, body)
			}
			if got := b.text(tester, "+15550300", "hi"); got != twiml("three") {
				t.Fatalf("B answers the draft's test contact %s, want the draft's %q", got, "three")
			}
			b.greets("one") // everyone else: the active version
		})
	}
}

// TestDeployRacingAFirstMessage: a conversation's first message is
// routed when its step reads, and its commit checks the route still
// holds. A deploy of another flow while the step runs changes the route
// table but not this number's route: the step commits at once (its
// applet ran once). A deploy of the message's own flow does: the step
// runs again, on the new version.
func TestDeployRacingAFirstMessage(t *testing.T) {
	cases := []struct {
		name      string
		files     map[string]string
		wantRuns  int32
		wantReply string
	}{
		{"another flow", map[string]string{"greet.flow": greeter("hello")}, 1, "done slow"},
		{"the same flow", map[string]string{"slow.flow": strings.Replace(mustRead(t, "testdata/slow.flow"), `"done {{r}}"`, `"v2 {{r}}"`, 1),
			"wait.js": mustRead(t, "testdata/wait.js")}, 2, "v2 slow"},
	}
	for _, sc := range stores {
		for _, c := range cases {
			t.Run(sc.name+"/"+c.name, func(t *testing.T) {
				var runs atomic.Int32
				entered, release := make(chan struct{}), make(chan struct{})
				applets := func(ctx context.Context, _ *vm.Applet, in vm.AppletInput) (any, error) {
					if runs.Add(1) == 1 {
						close(entered)
						<-release
					}
					return "slow", nil
				}
				h := startWith(t, setup{token: authToken, store: sc.open(t), applets: applets}, "testdata/slow.flow")
				done := make(chan string)
				go func() {
					code, body := h.postForm(h.form("SMrace", ann, "+15550950", "hi"))
					done <- fmt.Sprint(code, " ", body)
				}()
				<-entered
				res, err := lang.Load([]string{flowDir(t, c.files)})
				if err != nil {
					t.Fatal(err)
				}
				progs, cd := compiler.All(res)
				if res.Diags.HasErrors() || cd.HasErrors() {
					t.Fatalf("%v %v", res.Diags.Err(), cd.Err())
				}
				if err := h.srv.Deploy(context.Background(), progs); err != nil {
					t.Fatal(err)
				}
				close(release)
				if got, want := <-done, fmt.Sprint("200 ", twiml(c.wantReply)); got != want {
					t.Fatalf("answered %q, want %q", got, want)
				}
				if n := runs.Load(); n != c.wantRuns {
					t.Fatalf("the step ran %d times, want %d", n, c.wantRuns)
				}
			})
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
