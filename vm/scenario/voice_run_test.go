package scenario_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/scenario"
)

func compileIn(t *testing.T, dir, name, src string) *vm.Program {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if all := append(append(diag.List{}, res.Diags...), cd...); all.HasErrors() || len(progs) != 1 {
		t.Fatal(all.Err())
	}
	return progs[0]
}

// TestCallScenariosFailWhereTheCallerWouldNotice: a call scenario's
// failures name what the call did instead: someone else rung, a user
// answering who is not being rung, a text to a call flow, a call to an
// SMS flow.
func TestCallScenariosFailWhereTheCallerWouldNotice(t *testing.T) {
	dir := t.TempDir()
	call := compileIn(t, dir, "line.flow", "channel voice\nnumbers \"+15550100\"\nring team:sales in order then voicemail then inbox team:sales\n")
	sms := compileIn(t, dir, "texts.flow", "numbers \"+15550100\"\nreply \"hi\"\n")
	f, err := scenario.Parse(filepath.Join(dir, "line.flowtest"), `user alice
user bob
team sales alice, bob
test "bob first"
  call
  expect ring in order bob
test "carol answers"
  call
  ringing carol answers
test "a text"
  send "hi"
test "passes"
  call
  expect ring in order alice
  ringing alice no answer
  expect ring in order bob
  ringing bob answers
  expect end
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"bob first":     "expected ring in order bob, got ring alice (team:sales) in order for 20s, wait",
		"carol answers": "expected the call's event to run, got carol is not being rung (ringing: alice)",
		"a text":        "expected a text to an SMS flow, got line is a call flow",
		"passes":        "",
	}
	for _, tc := range f.Tests {
		r := scenario.Run(context.Background(), tc, call)
		got := ""
		for _, fl := range r.Failures {
			got = "expected " + fl.Expected + ", got " + fl.Got
		}
		if w := want[tc.Name]; w == "" && got != "" || !strings.HasPrefix(got, w) {
			t.Errorf("%s: %s, want %s", tc.Name, got, w)
		}
	}
	r := scenario.Run(context.Background(), f.Tests[0], sms)
	if len(r.Failures) != 1 || !strings.Contains(r.Failures[0].Got, "texts handles texts: a call needs a call flow") {
		t.Errorf("a call to an SMS flow: %+v", r.Failures)
	}
}
