package scenario

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := `# defaults
at 2026-11-23T10:00   # Monday
from +15551112222
applet crm returns {"tier": "gold", "n": 1}

test "one"   # comment after a string
  contact name "Ann" tags "vip", "new" field plan "pro"
  send "hi # not a comment"
  expect reply ~ "^Reply \d"
  expect forward webhook:"https://x.example/h?a=1#frag"
  expect inbox team:sales by round-robin
  expect var n = 3
  expect var s = "x"
  wait 15m
  expect wait until 2026-11-23T10:30
  expect nothing else

test "two"
  flow other.flow
  to +15550100
  send ` + "`raw \"text\"`" + `
  expect nothing
`
	f, err := Parse("dir/sales_menu.flowtest", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tests) != 2 {
		t.Fatalf("tests: %d", len(f.Tests))
	}
	one, two := f.Tests[0], f.Tests[1]
	if one.Flow != filepath.Join("dir", "sales.flow") || two.Flow != filepath.Join("dir", "other.flow") {
		t.Errorf("flows: %q %q", one.Flow, two.Flow)
	}
	if one.Pos.Line != 6 || one.At != "2026-11-23T10:00" || one.From != "+15551112222" || two.To != "+15550100" {
		t.Errorf("one: %+v", one)
	}
	if c := one.Contact; c == nil || c.Name != "Ann" || strings.Join(c.Tags, ",") != "vip,new" || c.Fields["plan"] != "pro" {
		t.Errorf("contact: %+v", one.Contact)
	}
	if m := one.Applets["crm"].Returns.(map[string]any); m["tier"] != "gold" {
		t.Errorf("applet: %+v", one.Applets)
	}
	s := one.Steps
	if s[0].Body != "hi # not a comment" || s[1].Exp.Re == nil || s[1].Pos.Line != 9 {
		t.Errorf("steps: %+v %+v", s[0], s[1])
	}
	if s[2].Exp.Text != "webhook:https://x.example/h?a=1#frag" {
		t.Errorf("forward target %q", s[2].Exp.Text)
	}
	if s[3].Exp.Strategy != "round-robin" || s[4].Exp.Value != float64(3) || s[5].Exp.Value != "x" {
		t.Errorf("expects: %+v %+v %+v", s[3].Exp, s[4].Exp, s[5].Exp)
	}
	if s[6].Kind != StepWait || s[6].Dur.Minutes() != 15 || s[7].Exp.Until != "2026-11-23T10:30" || s[8].Exp.Kind != ExpNothingElse {
		t.Errorf("wait steps: %+v %+v %+v", s[6], s[7], s[8])
	}
	if two.Steps[0].Body != `raw "text"` || two.Steps[1].Exp.Kind != ExpNothing {
		t.Errorf("two: %+v", two.Steps)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"send \"x\"\n", `t.flowtest:1: send outside a test`},
		{"test \"a\"\n  expect end\n", `t.flowtest:2: expect before any send or wait`},
		{"test \"a\"\n  send \"x\"\n  expect reply \"x\n", `t.flowtest:3: unterminated string`},
		{"test \"a\"\n  send \"x\"\n  expect reply ~ \"(\"\n", `t.flowtest:3: bad regexp`},
		{"test \"a\"\n  send \"x\"\n  expect inbox sales\n", `t.flowtest:3: want a target KIND:NAME`},
		{"test \"a\"\n  wait 5 minutes\n", `t.flowtest:2: want: wait DURATION`},
		{"at tomorrow\n", `t.flowtest:1: cannot read "tomorrow" as a time`},
		{"test \"a\"\n  send \"x\"\ntest \"a\"\n  send \"y\"\n", `t.flowtest:3: test "a" already defined at t.flowtest:1`},
		{"# nothing\n", `t.flowtest:1: no tests`},
		{"test \"a\"\n", `t.flowtest:1: test "a" has no steps`},
	} {
		_, err := Parse("t.flowtest", tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.src, err, tc.want)
		}
	}
}
