package vm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// TestReplyOverTheCapIsNotSent: a rendered reply over MaxReplyChars is
// an error, is not sent, and the flow goes on; one at the cap is sent
// (counted in characters, not bytes).
func TestReplyOverTheCapIsNotSent(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
reply "{{body}}"
inbox team:support
`)
	res := send(t, p, returning(nil), vm.Options{}, strings.Repeat("x", vm.MaxReplyChars+1))
	if got := strings.Join(actions(res), "; "); got != "inbox team:support; end" {
		t.Errorf("actions: %s", got)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "f.flow:3:1: reply of 1601 characters is over the limit of 1600; it is not sent") {
		t.Errorf("errors: %q", res.Errors)
	}
	if !traceHas(res, "reply of 1601 characters is over the limit of 1600") {
		t.Errorf("trace: %+v", res.Trace)
	}
	res = send(t, p, returning(nil), vm.Options{}, strings.Repeat("é", vm.MaxReplyChars))
	if len(res.Errors) != 0 || res.Actions[0].Kind != vm.ActReply {
		t.Errorf("a reply of %d characters (%d bytes) was refused: %q", vm.MaxReplyChars, 2*vm.MaxReplyChars, res.Errors)
	}
}

// TestMenuPromptOverTheCapIsNotSent: the prompt is not sent, the menu
// still waits for its answer.
func TestMenuPromptOverTheCapIsNotSent(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
menu "{{body}}" <
  1 -> inbox team:sales
  else -> inbox team:support
  timeout 1h -> end
>
`)
	res := send(t, p, returning(nil), vm.Options{}, strings.Repeat("x", 2000))
	if got := strings.Join(actions(res), "; "); !strings.HasPrefix(got, "wait until") {
		t.Errorf("actions: %s", got)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "reply of 2000 characters") {
		t.Errorf("errors: %q", res.Errors)
	}
}

// TestVariableOverTheCapIsLeftUnset: set, ask and run … as refuse a
// value over the caps: a runtime error, the variable nil.
func TestVariableOverTheCapIsLeftUnset(t *testing.T) {
	big := strings.Repeat("x", vm.MaxStringBytes+1)
	t.Run("set", func(t *testing.T) {
		p := compileFlow(t, `flow f
numbers "+15550100"
set copy = body
reply "{{copy ?? 'nothing'}}"
`)
		res := send(t, p, returning(nil), vm.Options{}, big)
		if got := strings.Join(actions(res), "; "); got != `set copy = <nil>; reply "nothing"; end` {
			t.Errorf("actions: %s", got)
		}
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "f.flow:3:1: variable copy: string of 16385 bytes is over the limit of 16384; it is left unset") {
			t.Errorf("errors: %q", res.Errors)
		}
	})
	t.Run("ask", func(t *testing.T) {
		p := compileFlow(t, `flow f
numbers "+15550100"
ask "Your order?" as order < timeout 1h -> end >
reply "{{order ?? 'nothing'}}"
`)
		env := returning(nil)
		conv := &sim.Conversation{Prog: p, Env: env, From: "+15557654321", To: "+15550100", Trace: true}
		if _, err := conv.Send(context.Background(), "hi"); err != nil {
			t.Fatal(err)
		}
		res, err := conv.Send(context.Background(), big)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(actions(res), "; "); got != `set order = <nil>; reply "nothing"; end` {
			t.Errorf("actions: %s", got)
		}
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "variable order: string of 16385 bytes") {
			t.Errorf("errors: %q", res.Errors)
		}
	})
	t.Run("run", func(t *testing.T) {
		p := compileFlow(t, `flow f
numbers "+15550100"
applet crm = "crm.js"
run crm(from) as customer < on error -> inbox team:support >
reply "{{customer ?? 'nothing'}}"
`, "crm")
		huge := map[string]any{}
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			huge[k] = strings.Repeat("y", 15<<10)
		}
		res := send(t, p, returning(huge), vm.Options{}, "hi")
		if got := strings.Join(actions(res), "; "); got != `set customer = <nil>; inbox team:support; reply "nothing"; end` {
			t.Errorf("actions: %s", got)
		}
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "applet crm returned a result too large for a flow variable: value of") {
			t.Errorf("errors: %q", res.Errors)
		}
	})
}

// slowApplets is a fake applet runner: each call advances the Env's
// clock by step and is counted.
type slowApplets struct {
	sim.Env
	step      time.Duration
	calls     int
	deadlines []time.Time
}

func (s *slowApplets) RunApplet(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	s.calls++
	d, _ := ctx.Deadline()
	s.deadlines = append(s.deadlines, d)
	s.Clock = s.Clock.Add(s.step)
	return "ok", nil
}

func newSlow(step time.Duration) *slowApplets {
	return &slowApplets{Env: sim.Env{Clock: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Contacts: map[string]runtime.Contact{}}, step: step}
}

// TestEventBudgetBoundsAFlowOfSlowApplets: 2,000 run steps of an applet
// that takes a second each stop after the event's budget; the
// conversation ends cleanly, with a result and a clear trace entry.
func TestEventBudgetBoundsAFlowOfSlowApplets(t *testing.T) {
	p := compileFlow(t, "flow f\nnumbers \"+15550100\"\napplet slow = \"slow.js\"\n"+
		strings.Repeat("run slow(body) as x\n", 2000)+"reply \"done\"\n", "slow")
	env := newSlow(time.Second)
	res := send(t, p, env, vm.Options{}, "hi")
	if env.calls != 2 {
		t.Errorf("%d applet calls, want 2 in a budget of %s", env.calls, vm.DefaultEventBudget)
	}
	if got := strings.Join(actions(res), "; "); got != `set x = "ok"; set x = "ok"; end` {
		t.Errorf("actions: %s", got)
	}
	const want = "per-message budget of 2s used up after 2 applet calls"
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], want) || !traceHas(res, want) {
		t.Errorf("errors: %q", res.Errors)
	}
	if res.State != nil {
		t.Error("the conversation did not end")
	}
	// Every call shares one deadline, at most the budget away.
	for _, d := range env.deadlines {
		if d.IsZero() || d != env.deadlines[0] || time.Until(d) > vm.DefaultEventBudget {
			t.Errorf("deadlines %v", env.deadlines)
			break
		}
	}
}

// TestEventBudgetTakesOnError: past the budget a run with `on error`
// takes it, and the flow goes on from there. The budget is spent on the
// Env's clock; it is far longer than the test can take in real time, so
// the real-time deadline (the calls' context) never races it.
func TestEventBudgetTakesOnError(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
applet slow = "slow.js"
run slow(body) as a
run slow(body) as b
run slow(body) as c < on error -> inbox team:support >
reply "done"
`, "slow")
	env := newSlow(30 * time.Second)
	res := send(t, p, env, vm.Options{EventBudget: 50 * time.Second}, "hi")
	if env.calls != 2 {
		t.Errorf("%d applet calls, want 2", env.calls)
	}
	if got := strings.Join(actions(res), "; "); got != `set a = "ok"; set b = "ok"; inbox team:support; reply "done"; end` {
		t.Errorf("actions: %s", got)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "f.flow:6:1: per-message budget of 50s used up after 2 applet calls") {
		t.Errorf("errors: %q", res.Errors)
	}
}

// TestAppletCallCap: at most MaxAppletCalls calls per event, however
// fast they are.
func TestAppletCallCap(t *testing.T) {
	p := compileFlow(t, "flow f\nnumbers \"+15550100\"\napplet fast = \"fast.js\"\n"+
		strings.Repeat("run fast(body) < on error -> tag \"over\" >\n", 5)+"reply \"done\"\n", "fast")
	env := newSlow(0)
	res := send(t, p, env, vm.Options{MaxAppletCalls: 3}, "hi")
	if env.calls != 3 {
		t.Errorf("%d applet calls, want 3", env.calls)
	}
	if got := strings.Join(actions(res), "; "); got != `tag "over"; tag "over"; reply "done"; end` {
		t.Errorf("actions: %s", got)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "per-message budget of 3 applet calls used up") {
		t.Errorf("errors: %q", res.Errors)
	}
	env = newSlow(0)
	send(t, p, env, vm.Options{}, "hi")
	if env.calls != 5 {
		t.Errorf("default cap: %d calls, want 5", env.calls)
	}
}

// hangingApplets never answers until the context it is given ends.
type hangingApplets struct{ sim.Env }

func (h *hangingApplets) RunApplet(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestEventBudgetCancelsAHangingCall: the calls' context carries the
// budget as a deadline, so an applet runner that hangs is stopped by it
// and the error says which budget ran out.
func TestEventBudgetCancelsAHangingCall(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
applet hang = "hang.js"
run hang(body) < on error -> inbox team:support >
`, "hang")
	env := &hangingApplets{sim.Env{Clock: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}}
	res := send(t, p, env, vm.Options{EventBudget: time.Second}, "hi")
	if got := strings.Join(actions(res), "; "); got != "inbox team:support; end" {
		t.Errorf("actions: %s", got)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "per-message budget of 1s used up after 1 applet calls (context deadline exceeded)") {
		t.Errorf("errors: %q", res.Errors)
	}
}

// TestEventBudgetInRealTime: an Env whose clock stands still (the
// server's is the message's arrival time) is still bounded by the
// context's deadline: once it has passed, no further call is made. The
// budget is a second, not a millisecond: the deadline starts just
// before the first call, and a loaded machine can pause the test longer
// than a millisecond between the two, refusing even the first call.
func TestEventBudgetInRealTime(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
applet slow = "slow.js"
run slow(body) as a
run slow(body) as b < on error -> inbox team:support >
`, "slow")
	env := &waitingApplets{slowApplets: newSlow(0)}
	res := send(t, p, env, vm.Options{EventBudget: time.Second}, "hi")
	if env.calls != 1 {
		t.Errorf("%d applet calls, want 1", env.calls)
	}
	if got := strings.Join(actions(res), "; "); got != `set a = "ok"; inbox team:support; end` {
		t.Errorf("actions: %s", got)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "f.flow:5:1: per-message budget of 1s used up after 1 applet calls") {
		t.Errorf("errors: %q", res.Errors)
	}
}

// waitingApplets answers each call once the call's deadline has passed
// (no sleep: it waits for the context), with the Env's clock unchanged.
type waitingApplets struct{ *slowApplets }

func (w *waitingApplets) RunApplet(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	<-ctx.Done()
	return w.slowApplets.RunApplet(ctx, a, in)
}
