package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
)

// TestAgentRepliesAreTheContactsHistory: an agent's reply in a queued
// conversation is an interaction with the agent's name, so once the
// conversation is finished the flow routes the contact's next text to
// the agent who last texted them (turboDial's "last user who texted this
// contact"), on both stores.
func TestAgentRepliesAreTheContactsHistory(t *testing.T) {
	const flow = `flow q
numbers "+15550930"
timezone "UTC"
when contact.last_texted_by != nil <
  reply "Welcome back! {{ contact.last_texted_by }} will be with you." then end
>
queue team:support round-robin wait 1h <
  on timeout -> end
>
`
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startFlowAt(t, sc.open(t), "q.flow", flow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
			act := func(user, id, action string, body any) {
				t.Helper()
				if code, out := h.agent(user, "POST", "/conversations/"+id+"/"+action, body); code != http.StatusOK {
					t.Fatalf("%s %s: %d %s", user, action, code, out)
				}
			}
			if got := h.text(ann, "+15550930", "hi"); got != twiml() {
				t.Fatalf("first text: %s, want no answer (queued)", got)
			}
			tk, err := h.store.(store.QueueReader).QueueTicket(context.Background(), ann, "+15550930")
			if err != nil || tk.Offered[0] != "bob" {
				t.Fatalf("ticket %+v, %v: want it offered to bob", tk, err)
			}
			id := server.ConversationID(ann, "+15550930", tk.Started)
			act("bob", id, "accept", nil)
			act("bob", id, "reply", server.AgentAction{Text: "Hi, Bob here."})
			act("bob", id, "finish", nil)
			if got := h.text(ann, "+15550930", "hello again"); got != twiml("Welcome back! bob will be with you.") {
				t.Fatalf("next text: %s, want the flow to see bob as the last to text the contact", got)
			}
		})
	}
}
