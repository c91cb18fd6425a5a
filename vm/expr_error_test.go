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
when all(xs, # > 0) < reply "all positive" > else reply "no"
`)
	res := send(t, p, returning(nil), vm.Options{}, "abc")
	if len(res.Errors) != 2 {
		t.Fatalf("errors: %q", res.Errors)
	}
	if want := `f.flow:3:1: int() cannot read "abc" as a number`; !strings.Contains(res.Errors[0], want) {
		t.Errorf("set error = %q, want %q", res.Errors[0], want)
	}
	if want := "f.flow:4:6: xs is nil (unset): all() needs a list"; !strings.HasSuffix(res.Errors[1], "/"+want) {
		t.Errorf("predicate error = %q, want %q", res.Errors[1], want)
	}
	for _, e := range res.Errors {
		if strings.Contains(e, "reflect") || strings.Contains(e, "\n") {
			t.Errorf("error leaks internals or spans lines: %q", e)
		}
	}
}
