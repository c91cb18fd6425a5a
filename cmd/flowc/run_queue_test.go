package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// `flowc run` takes the agent steps of a .flowtest as `:agent …` lines,
// through the same stage: the contact's texts join the queued
// conversation, an offer not accepted moves on, only the assignee may
// act, and finishing runs the survey.
func TestRunTakesAgentEvents(t *testing.T) {
	in := "hi\nbilling\nstill there?\n:wait 1m\n:agent bob accepts\n:agent carol accepts\n:agent carol replies \"Carol here\"\n:state\n:agent carol finishes\n5\n:agent carol bogus\n"
	code, out, errs := runWithInput(t, in, "run", "--at", "2026-11-23T10:00", filepath.Join("..", "..", "examples", "sms-channel.flow"))
	if code != exitUsage || !strings.Contains(errs, "line 11: want: agent NAME accepts") {
		t.Fatalf("a bad agent line: exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"  (queue team:support: entered, offered to bob)\n",
		"> still there?\n  (queue team:support: joined)\n",
		"  (timer fired)\n  (queue team:support: reoffered, offered to carol)\n",
		": agent bob accepts\n  ! refused: agent bob cannot accept: queue: the conversation is not yours\n",
		": agent carol accepts\n  (queue team:support: accepted, after 1m0s in the queue)\n",
		"  reply \"Carol here\"\n",
		"in the queue of team:support (open, with carol)",
		": agent carol finishes\n  reply \"Thanks for contacting us! How satisfied were you, from 1 to 5?\"\n",
		"> 5\n  set score = \"5\"\n  reply \"Thank you for your feedback!\"\n  end\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
