package inbound_test

import (
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime"
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
		}
		return s
	}
	for _, c := range []struct {
		timer   bool
		outcome string
		replies int
		want    string
	}{
		{false, inbound.OutcomeRouted, 2, "ioo"},
		{false, inbound.OutcomeHelp, 1, "i"},
		{false, inbound.OutcomeOptOut, 1, "i"},
		{false, inbound.OutcomeOptIn, 1, "i"},
		{false, inbound.OutcomeOptedOut, 0, "i"},
		{true, inbound.OutcomeTimer, 1, "o"},
	} {
		if got := kinds(inbound.Interactions(c.timer, c.outcome, c.replies, "+15550100", at)); got != c.want {
			t.Errorf("timer %v, %s with %d replies: %q, want %q", c.timer, c.outcome, c.replies, got, c.want)
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
