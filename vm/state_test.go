package vm_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
)

// TestRunLeavesTheCallersStateAlone: Run works on its own copy of the
// state it resumes (it copies the variables and retries only when it
// writes them), so the caller's State is exactly what it was, and the
// State a run returns shares no map with it: changing one never changes
// the other.
func TestRunLeavesTheCallersStateAlone(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
ask "Your order?" as order <
  timeout 1h -> end
>
set note = "order " + order
menu "1 to confirm" <
  1    -> <
    set done = "yes"
    reply "ok {{order}}"
  >
  else -> reply "1 please" then retry 2 then reply "giving up"
>
`)
	env := returning(nil)
	ctx := context.Background()
	ev := func(body string) vm.Event {
		return vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: body}}
	}
	run := func(st *vm.State, body string) *vm.Result {
		t.Helper()
		res, err := vm.Run(ctx, p, st, ev(body), env, vm.Options{Trace: true})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	asking := run(nil, "hi").State
	snapshot := func(s *vm.State) vm.State {
		c := *s
		c.Vars, c.Retries = map[string]any{}, map[int]int{}
		for k, v := range s.Vars {
			c.Vars[k] = v
		}
		for k, v := range s.Retries {
			c.Retries[k] = v
		}
		return c
	}
	before := snapshot(asking)

	// The answer writes two variables into a state whose Vars was nil.
	menu := run(asking, "A-17").State
	if !reflect.DeepEqual(snapshot(asking), before) {
		t.Fatalf("answering changed the caller's state:\n%+v\nwas\n%+v", *asking, before)
	}
	if menu.Vars["order"] != "A-17" || menu.Vars["note"] != "order A-17" {
		t.Fatalf("vars after the answer: %v", menu.Vars)
	}

	// A wrong key uses a retry (the Retries map is written) and
	// suspends again; an unchanged Vars must not be shared either.
	menuBefore := snapshot(menu)
	again := run(menu, "9").State
	if !reflect.DeepEqual(snapshot(menu), menuBefore) {
		t.Fatalf("a retry changed the caller's state:\n%+v\nwas\n%+v", *menu, menuBefore)
	}
	if len(again.Retries) != 1 {
		t.Fatalf("retries after one wrong key: %v", again.Retries)
	}
	again.Vars["order"] = "changed by the caller"
	if menu.Vars["order"] != "A-17" {
		t.Fatal("the returned state shares its variables with the state it was resumed from")
	}

	// A timer that is not due returns the state unchanged, again as a
	// copy of its own.
	notDue, err := vm.Run(ctx, p, menu, vm.Event{Kind: vm.EventTimer, Message: ev("").Message}, env, vm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	notDue.State.Vars["order"] = "x"
	if menu.Vars["order"] != "A-17" {
		t.Fatal("the state of a timer that was not due shares its variables with the caller's")
	}

	// The same event from the same state gives the same result every
	// time: nothing of one run (pooled environment, result block) leaks
	// into the next.
	first := run(menu, "1") // writes a variable into a state that has some
	if !reflect.DeepEqual(snapshot(menu), menuBefore) {
		t.Fatalf("confirming changed the caller's state:\n%+v\nwas\n%+v", *menu, menuBefore)
	}
	for range 3 {
		if got := run(menu, "1"); !reflect.DeepEqual(got, first) {
			t.Fatalf("a second identical run differs:\n%+v\nfirst:\n%+v", got, first)
		}
	}
	if got := strings.Join(actions(first), "; "); got != `set done = "yes"; reply "ok A-17"; end` {
		t.Fatalf("confirm: %s", got)
	}
}

// TestManyActions: a run that emits more actions than the result's
// first block holds keeps them all, in order.
func TestManyActions(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
tag "a"
tag "b"
set x = 1
reply "one"
reply "two {{x}}"
inbox team:sales
`)
	got := strings.Join(actions(send(t, p, returning(nil), vm.Options{}, "hi")), "; ")
	want := `tag "a"; tag "b"; set x = 1; reply "one"; reply "two 1"; inbox team:sales; end`
	if got != want {
		t.Fatalf("actions:\n%s\nwant\n%s", got, want)
	}
}

// TestNativeAndExprEvaluationMix: native forms run against the run's
// stack environment until an expression needs expr's VM; from then on
// everything runs against the pooled copy. Variables set before and
// after the switch, and the contact looked up before it, are seen by
// both kinds of expression.
func TestNativeAndExprEvaluationMix(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
set a = body
reply "1 {{a}} {{contact.name ?? 'nobody'}}"
set b = a + "!"
set c = keyword
reply "2 {{a}} {{b}} {{c}} {{contact.name ?? 'nobody'}} {{upper(c)}}"
when b == "Hi There!" < reply "3 yes" > else reply "3 no"
`)
	env := returning(nil)
	name := "Ann"
	env.Contacts["+15557654321"] = runtime.Contact{Known: true, Name: &name}
	got := strings.Join(actions(send(t, p, env, vm.Options{}, "Hi There")), "; ")
	want := `set a = "Hi There"; reply "1 Hi There Ann"; set b = "Hi There!"; set c = "hi"; reply "2 Hi There Hi There! hi Ann HI"; reply "3 yes"; end`
	if got != want {
		t.Fatalf("actions:\n%s\nwant\n%s", got, want)
	}
}

// TestVariablesCopiedAfterExprRan: a resumed conversation's variables
// are the caller's map until the run writes one; the copy made then must
// be what later expressions read, native or not, also when expr's VM
// already has the environment.
func TestVariablesCopiedAfterExprRan(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
set order = "A-1"
menu "1 to go on" <
  1 -> <
    when upper(order) == "A-1" <
      set z = "zed"
    >
    reply "{{z}} {{order}} {{upper(z)}}"
  >
>
`)
	env := returning(nil)
	st := send(t, p, env, vm.Options{}, "hi").State
	res, err := vm.Run(context.Background(), p, st, vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: "1"}}, env, vm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(actions(res), "; "); got != `set z = "zed"; reply "zed A-1 ZED"; end` {
		t.Fatalf("actions: %s", got)
	}
	if _, ok := st.Vars["z"]; ok {
		t.Fatal("the run wrote into the caller's variables")
	}
}
