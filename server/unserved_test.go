package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/flowc-dev/flowc/server"
)

// queueFlow queues on line 3, column 1.
const queueFlow = "flow q\nnumbers \"+15550178\"\nqueue team:support wait 10m <\n  on timeout -> reply \"Nobody is free, we'll text you.\"\n>\n"

// TestDeployWarnsOfUnservedQueues: a flow with a queue step deploys with
// a warning at the step (this server stores queued conversations but
// offers them to nobody yet), and a strict deploy is refused with it.
func TestDeployWarnsOfUnservedQueues(t *testing.T) {
	h, tok := adminHarness(t)
	code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "q.flow", Source: queueFlow, Strict: true})
	var e deployError
	json.Unmarshal(body, &e)
	if code != http.StatusUnprocessableEntity || len(e.Diagnostics) != 1 || e.Diagnostics[0].Code != "flow/server-queue" ||
		e.Diagnostics[0].Range.Start.Line != 3 || e.Diagnostics[0].Range.Start.Column != 1 {
		t.Fatalf("strict deploy of a queue flow: %d %s, want 422 with flow/server-queue at 3:1", code, body)
	}
	code, body = h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "q.flow", Source: queueFlow})
	var ok struct {
		Warnings []struct{ Code string }
	}
	json.Unmarshal(body, &ok)
	if code/100 != 2 || len(ok.Warnings) != 1 || ok.Warnings[0].Code != "flow/server-queue" {
		t.Fatalf("deploy of a queue flow: %d %s, want it deployed with the flow/server-queue warning", code, body)
	}
}
