package inbound_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// TestCallStepPlansWhatTheCallerHears: a call's events run through the
// stage: the plan lists what the caller hears and who is rung (Call),
// in order, and the texts to the caller (Texts); a team is rung by its
// available members from the directory; STOP is only a text's (a caller
// pressing keys is never opted out); nothing is recorded as a text; a
// callback for a call that is over changes nothing.
func TestCallStepPlansWhatTheCallerHears(t *testing.T) {
	p := compileFlow(t, `flow f
channel voice
numbers "+15550100"
say "Hello."
ring team:sales in order < on no-answer -> text "Sorry we missed you." then voicemail then inbox team:sales >
`)
	no := false
	dir := &directory.Directory{Users: []directory.User{{Name: "alice"}, {Name: "bob", Available: &no}, {Name: "carol"}},
		Teams: []directory.Team{{Name: "sales", Members: []string{"alice", "bob", "carol"}}}}
	d := &driver{t: t, p: p, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), queues: map[string]*inbound.QueueData{}}
	call := func(ev vm.Event) *inbound.Plan {
		return d.step(inbound.Input{Call: &ev, Directory: dir})
	}
	plan := call(vm.Event{Kind: vm.EventCall})
	if got := calls(plan); got != `say "Hello."; ring alice (team:sales) in order for 20s` || plan.Record || plan.Outcome != inbound.OutcomeCall || plan.Save == nil {
		t.Fatalf("the call: %s %+v", got, plan)
	}
	plan = call(vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "no-answer"}})
	if got := calls(plan); got != `ring carol (team:sales) in order for 20s` {
		t.Fatalf("bob is away: carol next: %s", got)
	}
	plan = call(vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "busy"}})
	if got := calls(plan); got != `voicemail max 2m` || strings.Join(plan.Texts, "|") != "Sorry we missed you." {
		t.Fatalf("nobody answered: %s %q", got, plan.Texts)
	}
	plan = call(vm.Event{Kind: vm.EventRecorded, Call: vm.CallEvent{Recording: "https://r/1", Length: time.Minute}})
	if got := calls(plan); got != `recorded 1m "https://r/1"` || len(plan.Deliver) != 1 || plan.Deliver[0].String() != "team:sales" || !plan.End {
		t.Fatalf("the recording goes to the inbox: %s %+v", got, plan)
	}
	if plan := call(vm.Event{Kind: vm.EventDigits, Message: vm.Message{Body: "STOP"}}); plan.Program != nil || plan.OptOut != nil || len(plan.Call) != 0 {
		t.Errorf("a callback for a call that is over: %+v", plan)
	}
}

func calls(p *inbound.Plan) string {
	var out []string
	for _, a := range p.Call {
		out = append(out, a.String())
	}
	return strings.Join(out, "; ")
}
