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

// TestQueueStrategiesInFlowtest: the strategies as a .flowtest sees
// them, with members, availability and weights from directory.json.
func TestQueueStrategiesInFlowtest(t *testing.T) {
	flow := func(strategy string) string {
		return "flow f\nnumbers \"+15550100\"\ntimezone \"UTC\"\nqueue team:t " + strategy + " wait 10m < on timeout -> end ; on done -> reply \"bye\" >\n"
	}
	dirJSON := `{"users":[{"name":"a","weight":1},{"name":"b","weight":1000},{"name":"c"}],"teams":[{"name":"t","members":["a","b","c"]}]}`
	for strategy, flowtest := range map[string]string{
		"wrandom": `test "the heavy member"
  send "hi"
  expect queue offered b`,
		"ringall": `test "all at once, the first to accept"
  agent c away
  send "hi"
  expect queue offered a, b
  agent b accepts
  expect queue assignee b
  agent a accepts
  expect refused`,
		"linear": `test "always the first available"
  send "hi"
  expect queue offered a
  agent a accepts
  agent a finishes
  expect reply "bye"
  send "again"
  expect queue offered a`,
		"fewestcalls": `test "who finished fewest"
  send "hi"
  expect queue offered a
  agent a accepts
  agent a finishes
  send "again"
  expect queue offered b`,
		"leastrecent": `test "who finished longest ago (never first)"
  send "hi"
  agent a accepts
  agent a finishes
  send "again"
  expect queue offered b
  agent b accepts
  agent b finishes
  send "and again"
  expect queue offered c`,
	} {
		dir, p := compileDir(t, map[string]string{"f.flow": flow(strategy), "directory.json": dirJSON})
		runTests(t, dir, p, "at 2026-11-23T10:00\nfrom +15557654321\n\n"+flowtest+"\n")
	}
}
