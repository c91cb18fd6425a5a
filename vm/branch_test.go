package vm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

func TestEveryBranchKindHasAName(t *testing.T) {
	seen := map[string]vm.BranchKind{}
	for k := vm.NoBranch; k <= vm.BranchBusy; k++ {
		name := k.String()
		if name == "branch?" || name == "" {
			t.Errorf("branch kind %d has no name", k)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("branch kinds %d and %d share the name %q", prev, k, name)
		}
		seen[name] = k
	}
	if got := (vm.BranchBusy + 1).String(); got != "branch?" {
		t.Errorf("out-of-range kind prints %q, want branch?", got)
	}
}

// outcomes lists the typed outcomes of a trace as kind[/key]@target.
func outcomes(tr []vm.TraceStep) string {
	var out []string
	for _, s := range tr {
		if o := s.Outcome; o.Kind != vm.NoBranch {
			k := o.Kind.String()
			if o.Key != "" {
				k += "/" + o.Key
			}
			if o.Target < 0 {
				k += "@end"
			}
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

// TestOutcomesTheExamplesDoNotReach: the outcomes coverage does not
// count (they lead nowhere) are still recorded, with target -1 when the
// conversation ends there, and an error step that decides a branch
// carries it.
func TestOutcomesTheExamplesDoNotReach(t *testing.T) {
	ctx := context.Background()
	t.Run("menu reply without a key or else", func(t *testing.T) {
		p := compileFlow(t, "flow f\nnumbers \"+15550100\"\nmenu \"1 or 2\" <\n  1 -> inbox team:a\n  2 -> inbox team:b\n>\n")
		conv := &sim.Conversation{Prog: p, Env: returning(nil), From: "+15557654321", To: "+15550100", Trace: true}
		if _, err := conv.Send(ctx, "hi"); err != nil {
			t.Fatal(err)
		}
		res, err := conv.Send(ctx, "3")
		if err != nil {
			t.Fatal(err)
		}
		if got := outcomes(res.Trace); got != "unmatched@end" {
			t.Errorf("outcomes %q, want unmatched@end", got)
		}
	})
	t.Run("run error without on error", func(t *testing.T) {
		p := compileFlow(t, "flow f\nnumbers \"+15550100\"\napplet a = \"a.js\"\nrun a() as x\ninbox team:a\n", "a")
		env := &sim.Env{Clock: time.Now(), Applets: func(context.Context, *vm.Applet, vm.AppletInput) (any, error) {
			return nil, errors.New("down")
		}}
		res := send(t, p, env, vm.Options{}, "hi")
		if got := outcomes(res.Trace); got != "error@end" {
			t.Errorf("outcomes %q, want error@end", got)
		}
		if n := len(res.Trace); n == 0 || !strings.Contains(res.Trace[n-1].Note, "down") || res.Trace[n-1].Outcome.Kind != vm.BranchError {
			t.Errorf("the error step does not carry the outcome: %+v", res.Trace)
		}
	})
	t.Run("ask answer over the cap", func(t *testing.T) {
		p := compileFlow(t, "flow f\nnumbers \"+15550100\"\nask \"Your order?\" as order < timeout 1h -> end >\nreply \"ok\"\n")
		conv := &sim.Conversation{Prog: p, Env: returning(nil), From: "+15557654321", To: "+15550100", Trace: true}
		if _, err := conv.Send(ctx, "hi"); err != nil {
			t.Fatal(err)
		}
		res, err := conv.Send(ctx, strings.Repeat("x", vm.MaxStringBytes+1))
		if err != nil {
			t.Fatal(err)
		}
		if got := outcomes(res.Trace); got != "answer" {
			t.Errorf("outcomes %q, want answer (the ask goes on though the answer is not stored)", got)
		}
	})
}
