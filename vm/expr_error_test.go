package vm_test

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/vm"
)

// TestUnsetVariableInPredicateIsNamed: a set that failed leaves its
// variable unset; a later predicate on it reports the variable and what
// the function needs, at the condition, not reflect's internals.
func TestUnsetVariableInPredicateIsNamed(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
set xs = [1, int(body)]
set n = int(body)
when all(xs, # > 0) < reply "all positive" > else reply "no"
when n > 1 < reply "big" > else reply "small"
`)
	res := send(t, p, returning(nil), vm.Options{}, "abc")
	if len(res.Errors) != 4 {
		t.Fatalf("errors: %q", res.Errors)
	}
	if want := `f.flow:3:14: int() cannot read "abc" as a number`; !strings.Contains(res.Errors[0], want) {
		t.Errorf("set error = %q, want %q", res.Errors[0], want)
	}
	if want := "f.flow:5:6: xs is nil (unset): all() needs a list"; !strings.HasSuffix(res.Errors[2], "/"+want) {
		t.Errorf("predicate error = %q, want %q", res.Errors[2], want)
	}
	// At the operator that failed, inside the condition.
	if want := "f.flow:6:8: n is nil (unset): cannot use `>` between nil and a number"; !strings.HasSuffix(res.Errors[3], "/"+want) {
		t.Errorf("comparison error = %q, want %q", res.Errors[3], want)
	}
	for _, e := range res.Errors {
		if strings.Contains(e, "reflect") || strings.Contains(e, "\n") {
			t.Errorf("error leaks internals or spans lines: %q", e)
		}
	}
}
