package inbound_test

import (
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/sim"
)

// TestInteractionsOfAStep: a message and its replies are interactions, a
// timer's replies too, and the answers to STOP, START and HELP are not
// (the server and the simulator both record exactly these).
func TestInteractionsOfAStep(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	kinds := func(xs []runtime.Interaction) (s string) {
		for _, x := range xs {
			s += x.Direction[:1]
			if x.User != nil {
				s += "(" + *x.User + ")"
			}
		}
		return s
	}
	done := &vm.Result{}
	for _, c := range []struct {
		timer   bool
		agent   *inbound.AgentEvent
		outcome string
		replies int
		result  *vm.Result
		want    string
	}{
		{false, nil, inbound.OutcomeRouted, 2, done, "ioo"},
		{false, nil, inbound.OutcomeHelp, 1, nil, "i"},
		{false, nil, inbound.OutcomeOptOut, 1, nil, "i"},
		{false, nil, inbound.OutcomeOptIn, 1, nil, "i"},
		{false, nil, inbound.OutcomeOptedOut, 0, nil, "i"},
		{true, nil, inbound.OutcomeTimer, 1, done, "o"},
		{false, &inbound.AgentEvent{Kind: inbound.AgentReply, User: "bob"}, inbound.OutcomeAgent, 1, nil, "o(bob)"},
		{false, &inbound.AgentEvent{Kind: inbound.AgentFinish, User: "bob"}, inbound.OutcomeAgent, 1, done, "o"}, // on done's survey: the flow's
		{false, &inbound.AgentEvent{Kind: inbound.AgentAccept, User: "bob"}, inbound.OutcomeAgent, 0, nil, ""},
	} {
		in := &inbound.Input{Timer: c.timer, Agent: c.agent, Msg: vm.Message{To: "+15550100"}, Now: at}
		p := &inbound.Plan{Record: true, Outcome: c.outcome, Replies: make([]string, c.replies), Result: c.result}
		if got := kinds(inbound.Interactions(in, p)); got != c.want {
			t.Errorf("timer %v, agent %v, %s with %d replies: %q, want %q", c.timer, c.agent, c.outcome, c.replies, got, c.want)
		}
	}
}

// TestSimulatorKeepsTheNewestCampaign: a scenario's campaign lines in
// any order leave the newest as contact.campaign, as the server's
// newest-first lookup does.
func TestSimulatorKeepsTheNewestCampaign(t *testing.T) {
	env := &sim.Env{}
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	env.SetCampaign("+15557654321", "+15550100", runtime.Campaign{Name: "spring", At: at.Add(-time.Hour)})
	env.SetCampaign("+15557654321", "+15550100", runtime.Campaign{Name: "winter", At: at.Add(-30 * 24 * time.Hour)})
	if got := env.Campaigns["+15557654321"].Name; got != "spring" {
		t.Errorf("contact.campaign is %q, want the newest, spring", got)
	}
}
