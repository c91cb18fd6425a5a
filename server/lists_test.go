package server_test

import (
	"net/http"
	"testing"
)

// blockedFlow is the inbound blacklist as a flow rule.
const blockedFlow = `flow most-recent
numbers "+15550700"
timezone "UTC"

when (from in list("blocked")) < reply "You are blocked." > else reply "Hello!"
`

// TestListEntriesChangeRoutingWithoutRedeploy: an entry added through
// PUT /v1/admin/lists/blocked/NUMBER blocks that sender's next text, and
// removing it with DELETE lets the one after through, with the flow
// deployed once, on both stores.
func TestListEntriesChangeRoutingWithoutRedeploy(t *testing.T) {
	const sender, other = "+15551230001", "+15551230002"
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startHistoryFlow(t, sc.open(t), blockedFlow, nil)
			if got := h.text(sender, histNumber, "hi"); got != twiml("Hello!") {
				t.Fatalf("before any entry: %s", got)
			}
			if code, body := h.admin(http.MethodPut, "/v1/admin/lists/blocked/%2B15551230001", adminToken, nil); code/100 != 2 {
				t.Fatalf("PUT entry: %d %s", code, body)
			}
			if got := h.text(sender, histNumber, "hi again"); got != twiml("You are blocked.") {
				t.Errorf("after PUT: %s", got)
			}
			if got := h.text(other, histNumber, "hi"); got != twiml("Hello!") {
				t.Errorf("another sender after PUT: %s", got)
			}
			if code, body := h.admin(http.MethodDelete, "/v1/admin/lists/blocked/%2B15551230001", adminToken, nil); code/100 != 2 {
				t.Fatalf("DELETE entry: %d %s", code, body)
			}
			if got := h.text(sender, histNumber, "and again"); got != twiml("Hello!") {
				t.Errorf("after DELETE: %s", got)
			}
		})
	}
}
