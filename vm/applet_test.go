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

const routed = `flow f
numbers "+15550100"
applet triage = "triage.js"
run triage(body) as route <
  "oncall" -> inbox team:oncall
  "vip"    -> reply "A specialist will text you." then inbox team:vip
  else     -> inbox team:support
  on error -> reply "Sorry." then inbox team:support
>
`

// TestRunRoutes: the applet's result picks one of the routes the flow
// names (a string, or an object's "route" field), else the else branch.
func TestRunRoutes(t *testing.T) {
	p := compileFlow(t, routed, "triage")
	for _, c := range []struct {
		name   string
		result any
		want   string
	}{
		{"a string names a route", "oncall", `set route = "oncall"; inbox team:oncall; end`},
		{"compared as menu keys are", " VIP. ", `set route = " VIP. "; reply "A specialist will text you."; inbox team:vip; end`},
		{"an object's route field", map[string]any{"route": "vip", "score": 3.0},
			`set route = map[route:vip score:3]; reply "A specialist will text you."; inbox team:vip; end`},
		{"a key no branch names takes else", "webhook:http://attacker.example/x", `set route = "webhook:http://attacker.example/x"; inbox team:support; end`},
		{"a non-string takes else", 42.0, `set route = 42; inbox team:support; end`},
		{"an object without route takes else", map[string]any{"inbox": "team:evil"}, `set route = map[inbox:team:evil]; inbox team:support; end`},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := send(t, p, returning(c.result), vm.Options{}, "hi")
			if got := strings.Join(actions(res), "; "); got != c.want {
				t.Errorf("actions:\n got  %s\n want %s", got, c.want)
			}
		})
	}
}

// TestRunWithoutElseGoesOn: a result naming no route, with no else, goes
// on after the run, and the trace says so.
func TestRunWithoutElseGoesOn(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
applet triage = "triage.js"
run triage(body) < "oncall" -> inbox team:oncall >
reply "Thanks."
`, "triage")
	res := send(t, p, returning("nobody"), vm.Options{}, "hi")
	if got := strings.Join(actions(res), "; "); got != `reply "Thanks."; end` {
		t.Errorf("actions: %s", got)
	}
	if !traceHas(res, `no route for "nobody": going on after the run`) {
		t.Errorf("trace: %+v", res.Trace)
	}
	cov := vm.NewCoverage(p)
	cov.Add(res.Trace)
	un := cov.Uncovered()
	if cov.Covered() != 1 || len(un) != 1 || un[0].Label != `run triage → "oncall"` {
		t.Errorf("coverage: %d covered, uncovered %+v", cov.Covered(), un)
	}
}

func traceHas(res *vm.Result, note string) bool {
	for _, s := range res.Trace {
		if strings.Contains(s.Note, note) {
			return true
		}
	}
	return false
}

// TestRunRoutesCoverage: coverage counts each route, else and on error.
func TestRunRoutesCoverage(t *testing.T) {
	p := compileFlow(t, routed, "triage")
	cov := vm.NewCoverage(p)
	var labels []string
	for _, b := range cov.Branches {
		labels = append(labels, b.Label)
	}
	if got := strings.Join(labels, ", "); got != `run triage → "oncall", run triage → "vip", run triage → else, run triage on error` {
		t.Fatalf("branches: %s", got)
	}
	cov.Add(send(t, p, returning("oncall"), vm.Options{}, "hi").Trace)
	cov.Add(send(t, p, returning("nope"), vm.Options{}, "hi").Trace)
	if got := cov.Covered(); got != 2 {
		t.Errorf("covered %d, want 2 (oncall, else)", got)
	}
	failing := &sim.Env{Clock: time.Now(), Applets: func(context.Context, *vm.Applet, vm.AppletInput) (any, error) {
		return nil, context.Canceled
	}}
	cov.Add(send(t, p, failing, vm.Options{}, "hi").Trace)
	un := cov.Uncovered()
	if len(un) != 1 || un[0].Kind != vm.BranchRoute || un[0].Key != "vip" {
		t.Errorf("uncovered: %+v", un)
	}
	if d := p.Disassemble(); !strings.Contains(d, `triage(body) as route "oncall"→`) || !strings.Contains(d, " else→") {
		t.Errorf("disassembly does not show the routes:\n%s", d)
	}
}
