package runtime

import (
	"errors"
	"fmt"
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
)

// bigRange is the attack's variable: set xs = 1..40000.
func bigRange() []int {
	xs := make([]int, 40000)
	for i := range xs {
		xs[i] = i + 1
	}
	return xs
}

func compileOK(t *testing.T, c *Compiler, src string, kind ExprKind) *Compiled {
	t.Helper()
	p, err := c.Compile(src, kind)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return p
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	f()
	goruntime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestNestedLoopsStopAtTheStepBudget(t *testing.T) {
	c := newCompiler(t, "xs")
	p := compileOK(t, c, `all(xs, all(xs, all(xs, true)))`, Condition)
	env := &Env{Vars: map[string]any{"xs": bigRange()}, Budget: NewBudget()}
	start := time.Now()
	_, err := Eval(p, env)
	var be *ErrBudget
	if !errors.As(err, &be) || !strings.Contains(err.Error(), fmt.Sprintf("expression used more than %d steps", MaxSteps)) {
		t.Fatalf("err = %v, want the step budget error", err)
	}
	// The work done is what was charged, not 40000³ iterations.
	if env.Budget.Steps > 2*MaxSteps {
		t.Fatalf("charged %d steps, want about %d", env.Budget.Steps, MaxSteps)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// A linear builtin inside a closure is charged for its scan, so
// all(xs, sum(xs) > 0) stops too, though its body is a few nodes.
func TestScansInsideClosuresAreCharged(t *testing.T) {
	c := newCompiler(t, "xs")
	for _, src := range []string{`all(xs, sum(xs) > 0)`, `all(xs, # in xs)`, `all(xs, max(xs) > 0)`, `all(xs, len(toJSON(xs)) > 0)`} {
		p := compileOK(t, c, src, Condition)
		_, err := Eval(p, &Env{Vars: map[string]any{"xs": bigRange()}})
		var be *ErrBudget
		if !errors.As(err, &be) {
			t.Errorf("%s: err = %v, want a budget error", src, err)
		}
	}
}

func TestOneEventSharesOneBudget(t *testing.T) {
	c := newCompiler(t, "xs")
	// 20000 iterations of a 3-node body: within MaxSteps alone.
	p := compileOK(t, c, `all(xs, # > 0)`, Condition)
	env := &Env{Vars: map[string]any{"xs": bigRange()[:20000]}, Budget: NewBudget()}
	for i := 0; ; i++ {
		_, err := Eval(p, env)
		if err == nil {
			if i > MaxEventSteps/20000 {
				t.Fatalf("%d evaluations passed; the event budget is %d steps", i+1, MaxEventSteps)
			}
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("the expressions of this message used more than %d steps", MaxEventSteps)) {
			t.Fatalf("evaluation %d: %v, want the event budget error", i+1, err)
		}
		if i == 0 {
			t.Fatal("the first evaluation failed: one is within budget")
		}
		break
	}
	// Without a shared budget each evaluation starts afresh.
	if _, err := Eval(p, &Env{Vars: env.Vars}); err != nil {
		t.Fatalf("a fresh evaluation: %v", err)
	}
}

// Each attack builds a huge string or collection; it must fail with a
// budget error having allocated far less than what it asked for.
func TestAllocationsAreChargedBeforeTheyHappen(t *testing.T) {
	c := newCompiler(t, "xs", "a")
	body := strings.Repeat("x", 1600) // the longest SMS reply
	for _, src := range []string{
		`repeat(body, 90000)`,
		`let a = body + body; let b = a + a; let c = b + b; let d = c + c; let e = d + d; let f = e + e; f + f`,
		`a + a`,
		`replace(body, "", body)`,
		`join(map(xs, body), body)`,
		`toJSON(map(xs, xs))`,
		`string(map(xs, xs))`,
		`flatten(map(xs, xs))`,
		`concat(xs, xs, xs)`,
		`upper(repeat(body, 100))`,
		`split(repeat(body, 40), "")`,
		`toBase64(repeat(body, 40))`,
	} {
		p := compileOK(t, c, src, Value)
		env := &Env{Body: body, Vars: map[string]any{"xs": bigRange(), "a": strings.Repeat(body, 30)}}
		var err error
		n := allocated(func() { _, err = Eval(p, env) })
		var be *ErrBudget
		if !errors.As(err, &be) {
			t.Errorf("%s: err = %v, want a budget error", src, err)
		}
		// Collections are bounded by expr's MemoryBudget (elements),
		// which with the VM's stack costs a few MB; the attacks ask for
		// 64 MB to gigabytes.
		if n > 16<<20 {
			t.Errorf("%s: allocated %d bytes, want at most %d", src, n, 16<<20)
		}
	}
}

// TestGuardedExpressionsAgreeWithExpr evaluates ordinary expressions
// with and without the guard: the guard must not change any result.
func TestGuardedExpressionsAgreeWithExpr(t *testing.T) {
	c := newCompiler(t)
	name := "Ann"
	env := &Env{Body: "Hello there", From: "+15551234567", Keyword: "hello", Media: []string{"http://x/1.jpg"},
		Contact: Contact{Known: true, Name: &name, Tags: []string{"vip"}, Fields: map[string]string{"city": "Oslo"}},
		Vars:    map[string]any{"n": 2, "s": "ab", "list": []any{"a", "b"}}, Now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	for _, src := range []string{
		`upper(body)`, `lower(body) + "!"`, `repeat("ab", 3)`, `join(["a", "b"], ",")`, `join(vars.list)`,
		`body + " " + from`, `contact.name ?? "there"`, `upper(contact.name)`, `"Hi " + contact.name`,
		`split(body, " ")`, `splitAfter(body, " ")`, `replace(body, "e", "E")`, `toJSON([1, 2])`, `toJSON(contact.tags)`,
		`all(media, # != "")`, `map(1..3, # * 2)`, `sum(1..4)`, `count(1..10, # > 5)`, `"x" in ["x"]`, `"vip" in contact.tags`,
		`vars.n + 1`, `vars.s + "x"`, `vars.s + vars.s`, `now + duration("1h")`, `len(body)`, `trim("  x ")`, `string(3)`,
		`reduce(1..3, #acc + #, 0)`, `sortBy(["b", "a"], #)`, `filter(1..5, # % 2 == 0)`, `body contains "there"`,
		`body startsWith "Hel"`, `body matches "^H"`, `keys(contact.fields)`, `values(contact.fields)`, `first(media)`,
		`sort([3, 1, 2])`, `uniq([1, 1])`, `reverse([1, 2])`, `concat([1], [2])`, `flatten([[1], [2]])`, `fromJSON("[1]")`,
		`toBase64("x")`, `fromBase64("eA==")`, `indexOf(body, "t")`, `hasPrefix(body, "H")`, `max(1, 2)`, `min([3, 4])`,
		`mean([1, 2])`, `median([1, 2, 3])`, `int("3")`, `float("1.5")`, `toPairs({"a": 1})`, `fromPairs([["a", 1]])`,
		`let x = body + "1"; x + x`, `body | upper()`, `groupBy(1..4, # % 2)`, `none(1..3, # > 5)`, `[1, 2] == [1, 2]`,
		`contact.fields.city + "!"`, `trimPrefix(body, "He")`, `lastIndexOf(body, "e")`, `1 + 2`, `"a" + "b"`,
	} {
		guarded, err := c.Compile(src, Value)
		if err != nil {
			t.Errorf("%s: guarded compile: %v", src, err)
			continue
		}
		plain, err := expr.Compile(src, expr.Env(&Env{}))
		if err != nil {
			t.Errorf("%s: plain compile: %v", src, err)
			continue
		}
		want, werr := expr.Run(plain, env)
		got, gerr := Eval(guarded, env)
		if (werr != nil) != (gerr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, %v; expr gives %#v, %v", src, got, gerr, want, werr)
		}
	}
}

// Type errors are still compile-time errors after the guard's rewrite.
func TestGuardKeepsTypeErrors(t *testing.T) {
	c := newCompiler(t)
	for _, src := range []string{`body + 1`, `upper(1)`, `repeat(body)`, `join(body)`, `__flowc_step($env, 1)`} {
		if _, err := c.Compile(src, Value); err == nil {
			t.Errorf("%s compiled; want an error", src)
		}
	}
	if _, err := c.Compile(`upper(body) + "x"`, Condition); err == nil {
		t.Error("a string condition compiled; want a type error")
	}
}

func TestCheckWarnsAboutHugeConstructs(t *testing.T) {
	c := newCompiler(t, "xs", "n")
	for src, want := range map[string][]string{
		`all(xs, all(xs, all(xs, true)))`:  {"1:1 all over xs loops over xs"},
		`map(1..500, filter(1..n, # > 1))`: {"1:1 map over 1..500 loops over 1..n"},
		`len(1..50000) > 0`:                {"1:5 a range of 50000 elements"},
		`all(xs, # > 0)`:                   nil,
		`map(1..3, all(xs, true))`:         nil,
		`len(1..100) > 0`:                  nil,
	} {
		p := compileOK(t, c, src, Value)
		var got []string
		for _, w := range p.Warnings {
			got = append(got, fmt.Sprintf("1:%d %s", w.From+1, w.Message))
		}
		if len(got) != len(want) {
			t.Errorf("%s: warnings %q, want %q", src, got, want)
			continue
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("%s: warning %q, want %q…", src, got[i], want[i])
			}
		}
	}
}
