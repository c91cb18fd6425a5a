package vm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/vm"
)

const queueFlow = `flow f
numbers "+15550100"
timezone "UTC"
reply "Hi"
queue team:support round-robin max 2 wait 10m <
  on full -> reply "busy"
  on timeout -> reply "sorry"
  on done -> reply "bye"
>
`

// waitingEnv is an Env whose queues hold n conversations waiting.
type waitingEnv struct {
	vm.Env
	n int
}

func (e waitingEnv) Waiting(string) int { return e.n }

func runEv(t *testing.T, p *vm.Program, st *vm.State, env vm.Env, kind vm.EventKind, body string) *vm.Result {
	t.Helper()
	ev := vm.Event{Kind: kind, Message: vm.Message{From: "+15557654321", To: "+15550100", Body: body}}
	res, err := vm.Run(context.Background(), p, st, ev, env, vm.Options{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestQueueSuspendsTimesOutAndFinishes: a queue step suspends the
// conversation in the team's queue (its State says which queue and since
// when, its deadline is the wait); a message leaves it waiting; the
// deadline runs `on timeout`, a finish `on done`; a full queue runs `on
// full` at once.
func TestQueueSuspendsTimesOutAndFinishes(t *testing.T) {
	p := compileFlow(t, queueFlow)
	env := returning(nil)
	now := env.Clock
	res := runEv(t, p, nil, waitingEnv{env, 1}, vm.EventMessage, "help")
	if got := strings.Join(actions(res), "; "); got != `reply "Hi"; queue team:support rrmemory; wait until 2026-11-23T10:10:00Z` {
		t.Fatalf("entering: %s", got)
	}
	st := res.State
	if st == nil || st.Queue == nil || st.Queue.Team != "support" || !st.Queue.Since.Equal(now) || !st.Deadline.Equal(now.Add(10*time.Minute)) {
		t.Fatalf("state: %+v", st)
	}
	if again := runEv(t, p, st, env, vm.EventMessage, "hello?"); len(again.Actions) != 0 || again.State == nil || again.State.Queue == nil {
		t.Fatalf("a message while queued: %v %+v", actions(again), again.State)
	}
	if early := runEv(t, p, st, env, vm.EventTimer, ""); len(early.Actions) != 0 || early.State.Queue == nil {
		t.Fatalf("a timer before the wait: %v", actions(early))
	}
	env.Clock = now.Add(10 * time.Minute)
	if got := strings.Join(actions(runEv(t, p, st, env, vm.EventTimer, "")), "; "); got != `reply "sorry"; end` {
		t.Fatalf("timeout: %s", got)
	}
	env.Clock = now.Add(time.Minute)
	done := runEv(t, p, st, env, vm.EventQueueDone, "")
	if got := strings.Join(actions(done), "; "); got != `reply "bye"; end` {
		t.Fatalf("done: %s", got)
	}
	if got := strings.Join(actions(runEv(t, p, nil, waitingEnv{env, 2}, vm.EventMessage, "help")), "; "); got != `reply "Hi"; reply "busy"; end` {
		t.Fatalf("full: %s", got)
	}
	// Coverage knows the three branches.
	var kinds []string
	for _, b := range p.Branches() {
		if b.PC == 1 {
			kinds = append(kinds, b.Kind.String()+" "+b.Label)
		}
	}
	if got := strings.Join(kinds, ", "); got != "full queue team:support on full, timeout queue team:support on timeout, done queue team:support on done" {
		t.Fatalf("branches: %s", got)
	}
}

// TestQueueMissingBranchesGoOn: without `on done` the flow goes on after
// the queue when the person finishes.
func TestQueueMissingBranchesGoOn(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
timezone "UTC"
queue team:support wait 5m < on timeout -> end >
reply "after"
`)
	env := returning(nil)
	st := runEv(t, p, nil, env, vm.EventMessage, "hi").State
	if got := strings.Join(actions(runEv(t, p, st, env, vm.EventQueueDone, "")), "; "); got != `reply "after"; end` {
		t.Fatalf("done without on done: %s", got)
	}
}
