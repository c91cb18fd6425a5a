package server_test

import (
	"testing"

	"github.com/flowc-dev/flowc/server"
)

// queueFlow queues on line 3, column 1.
const queueFlow = "flow q\nnumbers \"+15550178\"\nqueue team:support wait 10m <\n  on timeout -> reply \"Nobody is free, we'll text you.\"\n>\n"

// TestQueueFlowsDeployStrictly: the server serves queues (agents take
// them through the agent API), so a flow with a queue step deploys even
// with --strict: no "not served here" warning is left.
func TestQueueFlowsDeployStrictly(t *testing.T) {
	h, tok := adminHarness(t)
	code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "q.flow", Source: queueFlow, Strict: true})
	if code/100 != 2 {
		t.Fatalf("strict deploy of a queue flow: %d %s, want it deployed", code, body)
	}
}
