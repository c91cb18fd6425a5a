package runtime

import (
	"errors"
	"strings"
	"testing"
)

// Operations whose cost is more than linear, or that escape the static
// types the guard reads, are charged too.
func TestSuperlinearOperationsAreCharged(t *testing.T) {
	c := newCompiler(t, "xs", "ys", "p", "small")
	for _, src := range []string{
		`repeat("a", 60000) matches p`,
		`all(xs, repeat("a", 60000) matches "a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")`,
		`all(small, xs == ys)`,
		`none(small, ys != xs)`,
	} {
		p := compileOK(t, c, src, Value)
		env := &Env{Body: strings.Repeat("x", 1600), Vars: map[string]any{"xs": anyRange(40000), "ys": anyRange(40000), "small": anyRange(5000), "p": strings.Repeat("a?", 30000) + strings.Repeat("a", 30000)}}
		_, err := Eval(p, env)
		var be *ErrBudget
		if !errors.As(err, &be) {
			t.Errorf("%s: err = %v, want a budget error", src, err)
		}
	}
}

// A value is bounded in what it holds, not only in what it cost: a
// collection that repeats another (map(xs, xs)) would print, or be
// stored, at the size of the product.
func TestResultsAreBoundedWhenSharedCollectionsRepeat(t *testing.T) {
	c := newCompiler(t, "xs")
	for kind, src := range map[ExprKind]string{Text: `map(xs, xs)`, Value: `map(xs, map(xs, xs))`} {
		p := compileOK(t, c, src, kind)
		_, err := Eval(p, &Env{Vars: map[string]any{"xs": anyRange(2000)}})
		var be *ErrBudget
		if !errors.As(err, &be) {
			t.Errorf("%s: err = %v, want a budget error", src, err)
		}
	}
	p := compileOK(t, c, `map(1..3, xs)`, Text)
	if _, err := Eval(p, &Env{Vars: map[string]any{"xs": anyRange(5)}}); err != nil {
		t.Errorf("a small nested value: %v", err)
	}
}

func anyRange(n int) []any {
	xs := make([]any, n)
	for i := range xs {
		xs[i] = i
	}
	return xs
}
