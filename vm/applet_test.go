package vm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// compileFlow writes src as f.flow (with an empty applet file for each
// name in applets) into a temporary directory and compiles it.
func compileFlow(t testing.TB, src string, applets ...string) *vm.Program {
	t.Helper()
	dir := t.TempDir()
	for _, a := range applets {
		if err := os.WriteFile(filepath.Join(dir, a+".js"), []byte("function main(ctx) { return null; }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "f.flow")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	if all.HasErrors() || len(progs) != 1 {
		t.Fatalf("does not compile: %v", all.Err())
	}
	return progs[0]
}

func send(t testing.TB, p *vm.Program, env vm.Env, opts vm.Options, body string) *vm.Result {
	t.Helper()
	opts.Trace = true
	res, err := vm.Run(context.Background(), p, nil, vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: body}}, env, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func actions(res *vm.Result) []string {
	var out []string
	for _, a := range res.Actions {
		out = append(out, a.String())
	}
	return out
}

func returning(v any) *sim.Env {
	return &sim.Env{Clock: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Contacts: map[string]runtime.Contact{},
		Applets: func(context.Context, *vm.Applet, vm.AppletInput) (any, error) { return v, nil }}
}

// TestAppletResultIsDataNotActions: an applet that returns what used to
// be a "routing decision" cannot make the flow forward, deliver, reply
// or tag: its result lands in the `as` variable and the flow goes on.
func TestAppletResultIsDataNotActions(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
applet triage = "triage.js"
run triage(body) as decision < on error -> inbox team:support >
reply "ok"
`, "triage")
	evil := map[string]any{"forward": "webhook:http://attacker.example/x", "inbox": "team:evil", "reply": "injected", "tag": "owned"}
	res := send(t, p, returning(evil), vm.Options{}, "hi")
	got := strings.Join(actions(res), "; ")
	want := `set decision = map[forward:webhook:http://attacker.example/x inbox:team:evil reply:injected tag:owned]; reply "ok"; end`
	if got != want {
		t.Errorf("actions:\n got  %s\n want %s", got, want)
	}
	for _, a := range res.Actions {
		if a.Kind == vm.ActForward || a.Kind == vm.ActDeliver || a.Kind == vm.ActTag {
			t.Errorf("the applet caused %v", a)
		}
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors: %v", res.Errors)
	}
}
