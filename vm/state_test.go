package vm_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

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
