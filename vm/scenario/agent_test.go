package scenario

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/vm/inbound"
)

func TestParseAgentLines(t *testing.T) {
	f, err := Parse("t.flowtest", `queue team:support waiting 3
test "a"
  send "x"
  agent bob accepts
  expect queue status open
  agent bob replies "Hi there"
  agent bob transfers to team:billing
  agent carol away
  agent bob finishes
  expect queue offered alice, bob
  expect queue offered nobody
  expect queue position 2
  expect refused
`)
	if err != nil {
		t.Fatal(err)
	}
	s := f.Tests[0].Steps
	if s[0].Kind != StepQueueWaiting || s[0].Agent.Team != "support" || s[0].Agent.Waiting != 3 {
		t.Errorf("queue waiting line: %+v", s[0])
	}
	want := []inbound.AgentEvent{
		{Kind: inbound.AgentAccept, User: "bob"},
		{Kind: inbound.AgentReply, User: "bob", Text: "Hi there"},
		{Kind: inbound.AgentTransfer, User: "bob", To: "team:billing"},
	}
	for i, w := range want {
		st := []Step{s[2], s[4], s[5]}[i]
		if st.Kind != StepAgent || st.Agent.Event != w {
			t.Errorf("step %q: %+v, want %+v", st.Text, st.Agent, w)
		}
	}
	if s[6].Kind != StepAvailability || s[6].Agent.Available || s[6].Agent.Event.User != "carol" {
		t.Errorf("away line: %+v", s[6])
	}
	if e := s[8].Exp; e.Kind != ExpQueueOffered || strings.Join(e.Tags, ",") != "alice,bob" {
		t.Errorf("offered: %+v", e)
	}
	if e := s[9].Exp; e.Kind != ExpQueueOffered || len(e.Tags) != 0 {
		t.Errorf("offered nobody: %+v", e)
	}
	if e := s[10].Exp; e.Kind != ExpQueuePosition || e.Value != 2 {
		t.Errorf("position: %+v", e)
	}
	if s[11].Exp.Kind != ExpRefused {
		t.Errorf("refused: %+v", s[11].Exp)
	}
}

func TestParseAgentErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"agent bob accepts\n", `t.flowtest:1: agent outside a test`},
		{"test \"a\"\n  send \"x\"\n  agent bob replies\n", `t.flowtest:3: want: agent NAME accepts`},
		{"test \"a\"\n  send \"x\"\n  agent bob transfers bob\n", `t.flowtest:3: want: agent NAME accepts`},
		{"test \"a\"\n  send \"x\"\n  agent bob dances\n", `t.flowtest:3: want: agent NAME accepts`},
		{"queue support waiting 3\n", `t.flowtest:1: want: queue team:NAME waiting N`},
		{"test \"a\"\n  send \"x\"\n  expect queue status lost\n", `t.flowtest:3: unknown queue status "lost"`},
		{"test \"a\"\n  send \"x\"\n  expect queue position many\n", `t.flowtest:3: want: expect queue team:NAME`},
	} {
		_, err := Parse("t.flowtest", tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.src, err, tc.want)
		}
	}
}
