package compiler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// runFlow compiles src as a flow file and runs one message through it.
func runFlow(t *testing.T, src, body string) *vm.Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "attack.flow")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p := compileFile(t, path)
	env := &sim.Env{Clock: time.Date(2026, 11, 23, 10, 0, 0, 0, ny)}
	r, err := vm.Run(context.Background(), p, nil, vm.Event{Message: vm.Message{From: "+15557654321", To: p.Numbers[0], Body: body}}, env, vm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func replies(r *vm.Result) []string {
	var out []string
	for _, a := range r.Actions {
		if a.Kind == vm.ActReply {
			out = append(out, a.Text)
		}
	}
	return out
}

const attackHeader = "flow attack\nnumbers \"+15550100\"\ntimezone \"America/New_York\"\n"

// The attack: it passes check; each message must still get its
// answer quickly, with the budget error reported at the condition.
func TestNestedLoopConditionIsStopped(t *testing.T) {
	start := time.Now()
	// (The form, `set xs = 1..40000` first, is stopped sooner now:
	// a 40,000-element list is over a variable's size limit.)
	r := runFlow(t, attackHeader+"set n = 40000\nwhen all(1..n, all(1..n, all(1..n, true))) < reply \"yes\" > else reply \"no\"\n", "hi")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a message took %v", d)
	}
	// The inner ranges are built anew on every iteration, so the memory
	// count may trip before the step count: both are counts, not clocks.
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0], ":5:") ||
		!strings.Contains(r.Errors[0], "expression used more than") && !strings.Contains(r.Errors[0], "memory budget exceeded") {
		t.Fatalf("errors = %q, want the step or memory budget error at line 5", r.Errors)
	}
	if got := replies(r); len(got) != 1 || got[0] != "no" {
		t.Fatalf("replies = %q, want the else branch's reply", got)
	}
}

// Many expressions of one message share one budget: each loop is within
// MaxSteps, together they are not.
func TestOneMessageSharesOneBudget(t *testing.T) {
	var src strings.Builder
	src.WriteString(attackHeader + "set n = 20000\n")
	for i := 0; i < 2*runtime.MaxEventSteps/runtime.MaxSteps; i++ {
		src.WriteString("set ok = all(1..n, # > 0)\n")
	}
	src.WriteString("reply \"{{ok}}\"\n")
	r := runFlow(t, src.String(), "hi")
	if len(r.Errors) == 0 || !strings.Contains(strings.Join(r.Errors, "\n"), "the expressions of this message used more than") {
		t.Fatalf("errors = %q, want the event budget error", r.Errors)
	}
}

// The collections one message's expressions build and keep count
// against the event's memory: each range is within one evaluation's
// bounds, together they are not.
func TestOneMessageSharesOneMemoryBudget(t *testing.T) {
	var src strings.Builder
	src.WriteString(attackHeader)
	for i := 0; i < 2*runtime.MaxEventBytes/(16*90000)+1; i++ {
		fmt.Fprintf(&src, "set x%d = 1..90000\n", i)
	}
	src.WriteString("reply \"done\"\n")
	r := runFlow(t, src.String(), "hi")
	if !strings.Contains(strings.Join(r.Errors, "\n"), "the expressions of this message allocated more than") {
		t.Fatalf("errors = %.300q, want the event memory budget error", r.Errors)
	}
}

// A reply built by doubling a string is refused before it is built.
func TestStringDoublingIsStopped(t *testing.T) {
	var src strings.Builder
	// Doubling through variables stops at a variable's size limit
	// (vm.MaxStringBytes); within one expression, the expression's own
	// string limit refuses the concatenation before it is built.
	src.WriteString(attackHeader + "set a = body" + strings.Repeat(" + body", 60) + "\n")
	src.WriteString("reply \"{{a}}\"\n")
	r := runFlow(t, src.String(), strings.Repeat("x", 1600))
	if len(r.Errors) == 0 || !strings.Contains(strings.Join(r.Errors, "\n"), "longer than") {
		t.Fatalf("errors = %q, want the string size error", r.Errors)
	}
	for _, a := range r.Actions {
		if len(a.Text) > runtime.MaxString {
			t.Fatalf("a %d-byte action was produced", len(a.Text))
		}
	}
}
