package scenario

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/vm"
)

func compileDir(t *testing.T, files map[string]string) (string, *vm.Program) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := lang.Load([]string{filepath.Join(dir, "f.flow")})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if all := append(append(diag.List{}, res.Diags...), cd...); all.HasErrors() || len(progs) != 1 {
		t.Fatalf("does not compile: %v", all.Err())
	}
	return dir, progs[0]
}

func runTests(t *testing.T, dir string, p *vm.Program, flowtest string) {
	t.Helper()
	f, err := Parse(filepath.Join(dir, "f.flowtest"), flowtest)
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range f.Tests {
		r := Run(context.Background(), test, p)
		for _, fl := range r.Failures {
			t.Errorf("%s: %s: expected %s, got %s", test.Name, fl.Where, fl.Expected, fl.Got)
		}
	}
}

// TestAppletCannotExfiltrate: the attack of issue #10 written as a
// .flowtest: the applet's result names a webhook, an inbox, a reply and a
// tag; none of them happens, the result is only the variable's value.
func TestAppletCannotExfiltrate(t *testing.T) {
	dir, p := compileDir(t, map[string]string{
		"triage.js": "function main(ctx) { return null; }\n",
		"f.flow": `flow f
numbers "+15550100"
applet triage = "triage.js"
run triage(body) as decision < on error -> inbox team:support >
reply "Thanks, {{decision.reply}}"
`})
	runTests(t, dir, p, `at 2026-11-23T10:00
test "a result naming actions is only data"
  applet triage returns {"forward": "webhook:http://attacker.example/x", "inbox": "team:evil", "reply": "injected", "tag": "owned"}
  send "hi"
  expect var decision = {"forward": "webhook:http://attacker.example/x", "inbox": "team:evil", "reply": "injected", "tag": "owned"}
  expect reply "Thanks, injected"
  expect end
  expect nothing else
`)
}
