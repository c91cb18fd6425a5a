package runtime

import (
	"fmt"
	"time"
)

// Bounds on one expression evaluation and on one event. expr-lang's VM
// has no step limit and charges memory only for collections, after some
// builtins have already allocated; these bounds are enforced by the
// patch in guard.go, BEFORE the work or the allocation happens.
//
// Work is counted in steps: one iteration of a closure (the body of all,
// map, filter, reduce, …) costs one step per AST node of its body, and a
// builtin or operator that scans its arguments costs one step per element
// of a collection and one step per StringStepBytes bytes of a string.
const (
	// MaxSteps is the work one evaluation may do.
	MaxSteps = 100_000
	// MaxEventSteps is the work all expressions and templates of one
	// event (one vm.Run) may do together.
	MaxEventSteps = 400_000
	// StringStepBytes is how many bytes of a scanned string cost a step.
	StringStepBytes = 16

	// MaxString is the longest string (bytes) an expression may build.
	// An SMS reply is at most 1,600 characters; 64 KiB leaves room for
	// intermediate values without letting a reply grow without bound.
	MaxString = 64 << 10
	// MaxItems is the largest collection (elements) a size-checked
	// builtin may build (split, concat, flatten, …); ranges and literal
	// collections are bounded by MemoryBudget.
	MaxItems = MemoryBudget
	// MaxBytes is what one evaluation may allocate in strings, in the
	// collections built by size-checked builtins and in the collection
	// it returns (16 bytes an element).
	MaxBytes = 2 << 20
	// MaxEventBytes is the same, for all expressions of one event.
	MaxEventBytes = 8 << 20
)

// Budget is the work and memory left to the expressions of one event.
// The VM sets one in Env.Budget per run so that every expression and
// template of the event draws on it; a nil Env.Budget gets a fresh
// budget per Eval. A Budget is not safe for concurrent use.
type Budget struct {
	Steps, MaxSteps int // work used so far / allowed (per event)
	Bytes, MaxBytes int // memory charged so far / allowed (per event)

	evalSteps, evalBytes int // used by the current evaluation
}

// NewBudget returns a budget for one event with the default bounds.
func NewBudget() *Budget { return &Budget{MaxSteps: MaxEventSteps, MaxBytes: MaxEventBytes} }

// ErrBudget is wrapped by every error an over-budget evaluation returns.
type ErrBudget struct{ msg string }

func (e *ErrBudget) Error() string { return e.msg }

// step charges n steps.
func (b *Budget) step(n int) error {
	b.Steps += n
	b.evalSteps += n
	if b.evalSteps > MaxSteps {
		return &ErrBudget{fmt.Sprintf("expression used more than %d steps", MaxSteps)}
	}
	if b.Steps > b.MaxSteps {
		return &ErrBudget{fmt.Sprintf("the expressions of this message used more than %d steps", b.MaxSteps)}
	}
	return nil
}

// alloc charges n bytes about to be allocated.
func (b *Budget) alloc(n int) error {
	b.Bytes += n
	b.evalBytes += n
	if b.evalBytes > MaxBytes {
		return &ErrBudget{fmt.Sprintf("expression allocated more than %d bytes", MaxBytes)}
	}
	if b.Bytes > b.MaxBytes {
		return &ErrBudget{fmt.Sprintf("the expressions of this message allocated more than %d bytes", b.MaxBytes)}
	}
	return nil
}

// allocString checks that a string of n bytes may be built, and charges it.
func (b *Budget) allocString(what string, n int) error {
	if n > MaxString || n < 0 {
		return &ErrBudget{fmt.Sprintf("%s would build a string longer than %d bytes", what, MaxString)}
	}
	return b.alloc(n)
}

// allocItems checks that a collection of n elements may be built, and
// charges it.
func (b *Budget) allocItems(what string, n int) error {
	if n > MaxItems || n < 0 {
		return &ErrBudget{fmt.Sprintf("%s would build a collection of more than %d elements", what, MaxItems)}
	}
	return b.alloc(16 * n)
}

// scanSteps is the cost of scanning v once: its length in elements, or
// in StringStepBytes-byte units for a string. A collection is counted
// with everything it holds (at most until the step budget), since
// equality, `in` and uniq walk it all: a collection that nests a shared
// one ([a, a], [b, b], …) is tiny in memory but exponential to walk.
func scanSteps(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)/StringStepBytes + 1
	case []int:
		return len(x) + 1
	case []string:
		return len(x) + 1
	case []float64:
		return len(x) + 1
	case map[string]string:
		return len(x) + 1
	case nil, bool, int, float64:
		return 1
	}
	return elements(v, MaxSteps+1) + 1
}

// checkResult bounds what an evaluation returns: a template value must
// print in at most MaxString bytes, any other value hold at most
// MaxItems values. The charges above bound the work of building it; this
// bounds a value that repeats a shared collection (map(xs, xs)), which
// is cheap to build and huge to print or to store.
//
// A returned collection is also charged to the budget (16 bytes a value),
// so that the values the expressions of one event keep (set, applet
// arguments) stay within MaxEventBytes.
func checkResult(kind ExprKind, v any, b *Budget) error {
	switch v.(type) {
	case nil, bool, string, int, float64, time.Time, time.Duration, *string:
		return nil
	}
	if kind == Text && rendered(v, MaxString+1) > MaxString {
		return &ErrBudget{fmt.Sprintf("expression's value would print as more than %d bytes", MaxString)}
	}
	n := elements(v, MaxItems+1)
	if n > MaxItems {
		return &ErrBudget{fmt.Sprintf("expression's value holds more than %d values", MaxItems)}
	}
	return b.alloc(16 * n)
}
