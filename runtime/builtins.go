package runtime

// The size-checked builtins: each computes, before the original runs,
// the size of what it will build, and charges it (see guard.go).

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/builtin"
	exprrt "github.com/expr-lang/expr/vm/runtime"
)

// sizeEstimate returns, before a builtin runs, the size of what it will
// build: bytes for a string result, elements for a collection. It may
// over-estimate; it never under-estimates by more than the result's
// post-check (checkResult) catches.
type sizeEstimate func(b *Budget, args []any) error

// checkedBuiltins are the builtins replaced by size-checked versions:
// the ones whose result can be larger than their arguments, and the ones
// that scan their arguments (their scan is charged as steps).
var checkedBuiltins = map[string]sizeEstimate{
	"repeat": func(b *Budget, a []any) error {
		s, _ := a[0].(string)
		n := exprrt.ToInt(a[1])
		if n < 0 {
			return nil // the builtin reports it
		}
		if len(s) > 0 && n > MaxString/len(s) {
			return b.allocString("repeat", MaxString+1)
		}
		return b.allocString("repeat", len(s)*n)
	},
	"replace": func(b *Budget, a []any) error {
		s, _ := a[0].(string)
		old, _ := a[1].(string)
		repl, _ := a[2].(string)
		count := utf8.RuneCountInString(s) + 1
		if old != "" {
			count = strings.Count(s, old)
		}
		if len(a) > 3 {
			if n := exprrt.ToInt(a[3]); n >= 0 && n < count {
				count = n
			}
		}
		grow := len(repl) - len(old)
		if grow > 0 && count > (MaxString+1)/grow {
			return b.allocString("replace", MaxString+1)
		}
		return b.allocString("replace", len(s)+count*max(grow, 0))
	},
	"join": func(b *Budget, a []any) error {
		sep := ""
		if len(a) > 1 {
			sep, _ = a[1].(string)
		}
		n, _ := lenOf(a[0])
		total := max(n-1, 0) * len(sep)
		if len(sep) > 0 && n > MaxString/len(sep)+1 {
			total = MaxString + 1
		}
		switch xs := a[0].(type) {
		case []string:
			for _, x := range xs {
				total += len(x)
			}
		case []any:
			for _, x := range xs {
				s, _ := x.(string)
				total += len(s)
			}
		}
		return b.allocString("join", total)
	},
	"upper":      growString("upper", 3, 2),
	"lower":      growString("lower", 3, 2),
	"toBase64":   growString("toBase64", 4, 3),
	"fromBase64": growString("fromBase64", 1, 1),
	"trim":       growString("trim", 1, 1),
	"trimPrefix": growString("trimPrefix", 1, 1),
	"trimSuffix": growString("trimSuffix", 1, 1),
	"split":      splitItems("split"),
	"splitAfter": splitItems("splitAfter"),
	"toJSON": func(b *Budget, a []any) error {
		return b.allocString("toJSON", rendered(a[0], MaxString+1))
	},
	"string": func(b *Budget, a []any) error {
		return b.allocString("string", rendered(a[0], MaxString+1))
	},
	"fromJSON": func(b *Budget, a []any) error {
		s, _ := a[0].(string)
		return b.allocItems("fromJSON", len(s)/2+1)
	},
	"flatten": func(b *Budget, a []any) error {
		return b.allocItems("flatten", leaves(a[0], MaxItems+1))
	},
	"concat":  sumItems("concat"),
	"sort":    sumItems("sort"),
	"uniq":    sumItems("uniq"),
	"reverse": sumItems("reverse"),
	"keys":    sumItems("keys"),
	"values":  sumItems("values"),
	"toPairs": func(b *Budget, a []any) error {
		n, _ := lenOf(a[0])
		return b.allocItems("toPairs", 3*n)
	},
	"fromPairs":   sumItems("fromPairs"),
	"indexOf":     scanOnly,
	"lastIndexOf": scanOnly,
	"hasPrefix":   scanOnly,
	"hasSuffix":   scanOnly,
	"max":         scanOnly,
	"min":         scanOnly,
	"mean":        scanOnly,
	"median":      sumItems("median"),
	"int":         scanOnly,
	"float":       scanOnly,
	"duration":    scanOnly,
}

// scanOnly is the estimate of a builtin that builds nothing larger than
// a number: only the scan of its arguments is charged.
func scanOnly(*Budget, []any) error { return nil }

// growString: the result is at most num/den times the first argument.
func growString(what string, num, den int) sizeEstimate {
	return func(b *Budget, a []any) error {
		s, _ := a[0].(string)
		return b.allocString(what, len(s)*num/den)
	}
}

func splitItems(what string) sizeEstimate {
	return func(b *Budget, a []any) error {
		s, _ := a[0].(string)
		return b.allocItems(what, utf8.RuneCountInString(s)+1)
	}
}

func sumItems(what string) sizeEstimate {
	return func(b *Budget, a []any) error {
		total := 0
		for _, x := range a {
			if n, ok := lenOf(x); ok {
				total += n
			}
		}
		return b.allocItems(what, total)
	}
}

// rendered estimates the bytes of v printed (as JSON or by fmt), walking
// at most until limit: shared sub-collections (map(xs, xs)) are counted
// each time they appear, as printing does.
func rendered(v any, limit int) int {
	total := 0
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if total > limit {
			return
		}
		for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
			if v.IsNil() {
				total += 4
				return
			}
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.String:
			total += 2 + len(v.String())*2 // JSON may escape
		case reflect.Slice, reflect.Array:
			total += 2
			for i := 0; i < v.Len() && total <= limit; i++ {
				total += 2 + 2*depth
				walk(v.Index(i), depth+1)
			}
		case reflect.Map:
			total += 2
			it := v.MapRange()
			for it.Next() && total <= limit {
				total += 4 + 2*depth
				walk(it.Key(), depth+1)
				walk(it.Value(), depth+1)
			}
		case reflect.Struct:
			total += 2
			for i := 0; i < v.NumField() && total <= limit; i++ {
				total += 4 + 2*depth + len(v.Type().Field(i).Name)
				walk(v.Field(i), depth+1)
			}
		default:
			total += 8
		}
	}
	walk(reflect.ValueOf(v), 1)
	return total
}

// leaves counts the non-collection elements of v, at most until limit.
func leaves(v any, limit int) int { return countValues(v, limit, false) }

// elements counts the values v holds, collections included, at most
// until limit: a collection repeated inside another counts each time.
func elements(v any, limit int) int { return countValues(v, limit, true) }

func countValues(v any, limit int, containers bool) int {
	total := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && !v.IsNil() {
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.Slice, reflect.Array:
			if containers {
				total++
			}
			for i := 0; i < v.Len() && total <= limit; i++ {
				walk(v.Index(i))
			}
		case reflect.Map:
			if !containers {
				total++
				return
			}
			total++
			it := v.MapRange()
			for it.Next() && total <= limit {
				walk(it.Value())
			}
		default:
			total++
		}
	}
	walk(reflect.ValueOf(v))
	return total
}

// checkedBuiltin is builtin name with $env as a first argument: it
// charges the scan of its arguments and the size of its result before
// calling the original.
func checkedBuiltin(name string) *builtin.Function {
	var orig *builtin.Function
	for _, f := range builtin.Builtins {
		if f.Name == name {
			orig = f
		}
	}
	if orig == nil {
		panic("runtime: no builtin " + name)
	}
	estimate := checkedBuiltins[name]
	f := &builtin.Function{Name: name}
	f.Func = func(args ...any) (any, error) {
		b, err := budgetOf(args[0])
		if err != nil {
			return nil, err
		}
		args = args[1:]
		steps := 1
		for _, a := range args {
			steps += scanSteps(a)
		}
		if err := b.step(steps); err != nil {
			return nil, err
		}
		if len(args) > 0 {
			if err := estimate(b, args); err != nil {
				return nil, err
			}
		}
		var out any
		switch {
		case orig.Func != nil:
			out, err = orig.Func(args...)
		case orig.Safe != nil:
			out, _, err = orig.Safe(args...)
		case orig.Fast != nil && len(args) == 1:
			out = orig.Fast(args[0])
		default:
			err = fmt.Errorf("%s: wrong number of arguments", name)
		}
		if s, ok := out.(string); ok && len(s) > MaxString {
			// The estimate is close, not exact (numbers print at
			// their length): never let a longer string through.
			return nil, &ErrBudget{fmt.Sprintf("%s built a string longer than %d bytes", name, MaxString)}
		}
		return out, err
	}
	for _, t := range orig.Types {
		in := []reflect.Type{anyType}
		for i := 0; i < t.NumIn(); i++ {
			in = append(in, t.In(i))
		}
		out := make([]reflect.Type, t.NumOut())
		for i := range out {
			out[i] = t.Out(i)
		}
		f.Types = append(f.Types, reflect.FuncOf(in, out, t.IsVariadic()))
	}
	if v := orig.Validate; v != nil {
		f.Validate = func(args []reflect.Type) (reflect.Type, error) {
			if len(args) == 0 {
				return anyType, fmt.Errorf("internal: %s without $env", name)
			}
			return v(args[1:])
		}
	}
	return f
}
