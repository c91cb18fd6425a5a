package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/flowc-dev/flowc/server"
)

const greetFlow = `flow most-recent
numbers "+15550700"
timezone "UTC"
reply "Hi {{contact.name ?? 'there'}}"
`

// TestDirectoryChangeReachesOtherReplicas: a contact patched through one
// replica is seen by another replica's next message, with no restart
// (the stored directory's version is read with each step), on both
// stores.
func TestDirectoryChangeReachesOtherReplicas(t *testing.T) {
	const contact = "+15551230009"
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			a := startHistoryFlow(t, sc.open(t), greetFlow, nil)
			d, err := server.LoadDirectory("../examples/directory.json")
			if err != nil {
				t.Fatal(err)
			}
			srv := server.New(server.Config{TwilioAuthToken: authToken, Directory: d, Now: a.clock.Now, Logger: quiet}, a.store)
			srv.SetReady(true)
			hs := httptest.NewServer(srv.Handler())
			defer hs.Close()
			b := &harness{t: t, srv: srv, http: hs, store: a.store, clock: a.clock, seq: 1000}
			if got := b.text(contact, histNumber, "hello"); got != twiml("Hi there") {
				t.Fatalf("before the patch, replica B: %s", got)
			}
			if code, body := a.admin(http.MethodPatch, "/v1/admin/contacts/+15551230009", adminToken, map[string]any{"name": "Zed"}); code/100 != 2 {
				t.Fatalf("PATCH through replica A: %d %s", code, body)
			}
			if got := b.text(contact, histNumber, "hello again"); got != twiml("Hi Zed") {
				t.Errorf("after the patch through A, replica B: %s", got)
			}
		})
	}
}
