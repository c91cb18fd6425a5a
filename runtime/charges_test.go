package runtime

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
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

// A collection that nests a shared one 30 levels deep is a few hundred
// bytes but has 2³⁰ elements: walking it (==, in, uniq) is charged by
// what it holds, not by its top-level length.
func TestSharedNestingIsChargedByContent(t *testing.T) {
	c := newCompiler(t)
	var b strings.Builder
	b.WriteString("let a0 = [1, 2]; ")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "let a%d = [a%d, a%d]; ", i, i-1, i-1)
	}
	for _, op := range []string{"[a30] == [a30]", "a30 == [a29, a29]", "a30 in [a30]", "len(uniq(a30))"} {
		p := compileOK(t, c, b.String()+op, Value)
		start := time.Now()
		_, err := Eval(p, &Env{})
		var be *ErrBudget
		if !errors.As(err, &be) {
			t.Errorf("%s: err = %v, want a budget error", op, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v", op, d)
		}
	}
	// Comparing with a scalar does not walk: it is not charged as if.
	p := compileOK(t, c, b.String()+`a30 != nil && len(a30) == 2`, Value)
	if v, err := Eval(p, &Env{}); err != nil || v != true {
		t.Errorf("a nil check = %v, %v; want true", v, err)
	}
}
