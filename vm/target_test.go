package vm_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/sim"
)

func historyDirectory() *directory.Directory {
	return &directory.Directory{
		Users: []directory.User{{Name: "alice"}, {Name: "bob"}, {Name: "carol"}},
		Teams: []directory.Team{{Name: "sales", Members: []string{"alice", "bob"}}},
		Numbers: []directory.Number{{Number: "+15550100", BackupEmail: "desk@example.com",
			Settings: map[string]string{"team": "sales"}}},
	}
}

func targetEnv(c runtime.Contact) *sim.Env {
	env := contactEnv(c, nil)
	env.Directory = historyDirectory()
	return env
}

func notes(res *vm.Result) string {
	var b strings.Builder
	for _, s := range res.Trace {
		b.WriteString(s.Note + "\n")
	}
	return b.String()
}

// TestComputedTargets: inbox user:(EXPR), team:(EXPR) and forward
// email:(EXPR) deliver to the name the expression gives; a value that
// names nobody takes `on error`, or records an error and goes on, and
// the trace says why.
func TestComputedTargets(t *testing.T) {
	const flow = `flow f
numbers "+15550100"
inbox user:(contact.owner) < on error -> forward email:(number.backup_email) < on error -> inbox team:(number.settings.team) > >
`
	p := compileFlow(t, flow)
	for _, tc := range []struct {
		name    string
		contact runtime.Contact
		dir     *directory.Directory
		want    []string
		errs    string
		note    string
	}{
		{"owner", runtime.KnownContact("Ann", "carol", nil, nil), historyDirectory(),
			[]string{"inbox user:carol", "end"}, "", "contact.owner → user:carol"},
		{"no owner", runtime.Contact{}, historyDirectory(),
			[]string{`forward email:"desk@example.com"`, "end"}, "", `names nobody: user:(contact.owner): the expression gave no user (nil or "")`},
		{"owner not in the directory", runtime.KnownContact("Ann", "zed", nil, nil), historyDirectory(),
			[]string{`forward email:"desk@example.com"`, "end"}, "", `user:(contact.owner): no user named "zed" in the directory; taking on error`},
		{"no number settings: the innermost step, without on error, fails", runtime.Contact{}, &directory.Directory{Users: []directory.User{{Name: "carol"}}},
			[]string{"end"}, `f.flow:3:92: team:\(number.settings.team\): the expression gave no team`, "names nobody: email:(number.backup_email)"},
		{"without a directory any name is taken", runtime.KnownContact("Ann", "zed", nil, nil), nil,
			[]string{"inbox user:zed", "end"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := contactEnv(tc.contact, nil)
			env.Directory = tc.dir
			res := send(t, p, env, vm.Options{}, "hi")
			if got := actions(res); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("actions %q, want %q (errors %q)", got, tc.want, res.Errors)
			}
			errs := strings.Join(res.Errors, "\n")
			if tc.errs == "" && errs != "" || tc.errs != "" && !regexpMatch(tc.errs, errs) {
				t.Errorf("errors %q, want %q", errs, tc.errs)
			}
			if !strings.Contains(notes(res), tc.note) {
				t.Errorf("trace %q lacks %q", notes(res), tc.note)
			}
		})
	}
}

// TestComputedTargetWithoutOnError: the step fails, the error says why,
// and the flow goes on with the next step.
func TestComputedTargetWithoutOnError(t *testing.T) {
	p := compileFlow(t, "flow f\nnumbers \"+15550100\"\nset n = 3\ninbox user:(n) then reply \"Thanks\"\nforward email:(\"not an address\") then inbox team:(\"sales\") by round-robin\n")
	res := send(t, p, targetEnv(ann()), vm.Options{}, "hi")
	want := []string{"set n = 3", `reply "Thanks"`, "inbox team:sales by round-robin", "end"}
	if got := actions(res); !reflect.DeepEqual(got, want) {
		t.Errorf("actions %q, want %q", got, want)
	}
	wantErrs := []string{"f.flow:4:13: a target's name must be a string, but this is a number",
		`f.flow:5:1: email:("not an address"): "not an address" is not an e-mail address`}
	var errs []string
	for _, e := range res.Errors {
		errs = append(errs, e[strings.LastIndex(e, "/")+1:])
	}
	if !reflect.DeepEqual(errs, wantErrs) {
		t.Errorf("errors %q, want %q", res.Errors, wantErrs)
	}
	for _, s := range res.Trace {
		if s.Op == vm.OpInboxExpr && s.Loc.Line == 4 && (s.Outcome.Kind != vm.BranchError || s.Outcome.Target != s.PC+1) {
			t.Errorf("outcome %+v, want an error going on at the next step", s.Outcome)
		}
	}
}

// TestComputedTargetsEncodeAndCover: a program with computed targets
// survives Encode/Decode, its disassembly names them, and coverage
// counts their two outcomes.
func TestComputedTargetsEncodeAndCover(t *testing.T) {
	p := compileFlow(t, "flow f\nnumbers \"+15550100\"\ninbox user:(contact.owner) < on error -> inbox team:sales >\n")
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := vm.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Link(q); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q.Disassemble(), "INBOX_EXPR") || !strings.Contains(q.Disassemble(), "user:(contact.owner) on error") {
		t.Errorf("disassembly:\n%s", q.Disassemble())
	}
	cov := vm.NewCoverage(q)
	var labels []string
	for _, b := range cov.Branches {
		labels = append(labels, b.Label)
	}
	want := []string{"inbox user:(contact.owner) names someone", "inbox user:(contact.owner) on error"}
	if !reflect.DeepEqual(labels, want) {
		t.Fatalf("branches %q, want %q", labels, want)
	}
	for _, c := range []runtime.Contact{ann(), {}} {
		cov.Add(send(t, q, targetEnv(c), vm.Options{}, "hi").Trace)
	}
	for i, hit := range cov.Hit {
		if !hit {
			t.Errorf("branch %q not covered", labels[i])
		}
	}
}

// TestListInConditions: list() reads the Env's list when evaluated,
// once per message; an error reading it ends the run
// (TestListReadFailureEndsTheRun has the details).
func TestListInConditions(t *testing.T) {
	p := compileFlow(t, "flow f\nnumbers \"+15550100\"\nwhen from in list(\"blocked\") < end > else when (from in list(\"blocked\") or from in list(\"vip\")) < inbox team:vip > else reply \"hi\"\n")
	reads := 0
	env := targetEnv(ann())
	lists := listEnv{Env: env, list: func(name string) (map[string]bool, error) {
		reads++
		switch name {
		case "vip":
			return map[string]bool{contactFrom: true}, nil
		case "broken":
			return nil, errors.New("store down")
		}
		return nil, nil
	}}
	res := send(t, p, lists, vm.Options{}, "hi")
	if got := actions(res); !reflect.DeepEqual(got, []string{"inbox team:vip", "end"}) {
		t.Errorf("actions %q (errors %q)", got, res.Errors)
	}
	if reads != 2 {
		t.Errorf("%d list reads, want 2 (blocked once, vip once)", reads)
	}
	// A flow that does not reach list() never reads it.
	reads = 0
	q := compileFlow(t, "flow f\nnumbers \"+15550100\"\nwhen hours(\"9-5\") < reply \"open\" > else when from in list(\"vip\") < reply \"vip\" > else reply \"closed\"\n")
	send(t, q, lists, vm.Options{}, "hi")
	if reads != 0 {
		t.Errorf("%d list reads, want none", reads)
	}
	b := compileFlow(t, "flow f\nnumbers \"+15550100\"\nwhen from in list(\"broken\") < end > else reply \"hi\"\n")
	if res, err := vm.Run(context.Background(), b, nil, vm.Event{Message: vm.Message{From: contactFrom, To: "+15550100", Body: "hi"}}, lists, vm.Options{}); err == nil || res != nil {
		t.Errorf("a list that cannot be read: %v, %v; want the run to fail", res, err)
	}
}

type listEnv struct {
	*sim.Env
	list func(string) (map[string]bool, error)
}

func (e listEnv) List(_ context.Context, name string) (map[string]bool, error) { return e.list(name) }

// TestHistoryThroughInbound: the server's path (inbound.Step with the
// contact's history and the lists in its Input) and the simulator's
// decide alike.
func TestHistoryThroughInbound(t *testing.T) {
	p := compileFlow(t, "flow f\nnumbers \"+15550100\"\nwhen from in list(\"blocked\") < end > else inbox user:(contact.last_texted_by ?? contact.last_called_by ?? contact.owner) < on error -> forward email:(number.backup_email) >\n")
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	bob := "bob"
	h := runtime.History{Interactions: []runtime.Interaction{{Kind: runtime.InteractionCall, Direction: runtime.DirectionOutbound, User: &bob, At: now.Add(-time.Hour)}}}
	in := &inbound.Input{Msg: vm.Message{ID: "SM1", From: contactFrom, To: "+15550100", Body: "hi"}, Now: now,
		Route:     &inbound.Route{Flow: p.Name, Version: p.Version, Program: p},
		Contact:   ann().WithHistory(h),
		Directory: historyDirectory(),
		Lists: func(_ context.Context, name string) (map[string]bool, error) {
			return map[string]bool{"+15550000": name == "blocked"}, nil
		}}
	plan, err := inbound.Step(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []vm.Target{{Kind: "user", Name: "bob"}}; !reflect.DeepEqual(plan.Deliver, want) {
		t.Errorf("deliver %v, want %v (errors %v)", plan.Deliver, want, plan.Result.Errors)
	}
	in.Contact = runtime.Contact{}
	plan, err = inbound.Step(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Forwards) != 1 || plan.Forwards[0].To != "desk@example.com" {
		t.Errorf("forwards %+v, want desk@example.com", plan.Forwards)
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// TestSimRecordKeepsTimeOrder: the simulator's history is newest first
// whatever order interactions are recorded in, holds at most
// runtime.MaxInteractions, and a contact read before keeps what it saw.
func TestSimRecordKeepsTimeOrder(t *testing.T) {
	env := &sim.Env{}
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	alice, bob := "alice", "bob"
	env.Record(contactFrom, runtime.Interaction{Kind: runtime.InteractionSMS, Direction: runtime.DirectionOutbound, User: &alice, At: at.Add(-2 * time.Hour)})
	env.Record(contactFrom, runtime.Interaction{Kind: runtime.InteractionCall, Direction: runtime.DirectionOutbound, User: &bob, At: at.Add(-3 * time.Hour)})
	before, _ := env.Contact(context.Background(), contactFrom)
	env.Record(contactFrom, runtime.Interaction{Kind: runtime.InteractionSMS, Direction: runtime.DirectionOutbound, User: &bob, At: at})
	c, _ := env.Contact(context.Background(), contactFrom)
	if *c.LastTextedBy != "bob" || *c.LastCalledBy != "bob" || len(c.Interactions) != 3 || !c.Interactions[2].At.Equal(at.Add(-3*time.Hour)) {
		t.Errorf("history %+v", c.Interactions)
	}
	if *before.LastTextedBy != "alice" || len(before.Interactions) != 2 {
		t.Errorf("an earlier read changed: %+v", before.Interactions)
	}
	for i := 0; i < 2*runtime.MaxInteractions; i++ {
		env.Record(contactFrom, runtime.Interaction{Kind: runtime.InteractionSMS, Direction: runtime.DirectionInbound, At: at.Add(time.Duration(i) * time.Minute)})
	}
	c, _ = env.Contact(context.Background(), contactFrom)
	if len(c.Interactions) != runtime.MaxInteractions || !c.Interactions[0].At.Equal(at.Add(time.Duration(2*runtime.MaxInteractions-1)*time.Minute)) {
		t.Errorf("%d interactions, newest %v", len(c.Interactions), c.Interactions[0].At)
	}
	// bob's text and call are no longer among the newest, but he is
	// still who last texted and called, as the server's lookups say.
	if c.LastTextedBy == nil || *c.LastTextedBy != "bob" || c.LastCalledBy == nil || *c.LastCalledBy != "bob" {
		t.Errorf("last texted by %v, called by %v after %d newer interactions", c.LastTextedBy, c.LastCalledBy, 2*runtime.MaxInteractions)
	}
}
