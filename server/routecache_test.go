package server_test

import (
	"net/http"
	"testing"

	"github.com/flowc-dev/flowc/server"
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
