package runtime

import (
	"fmt"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	exprrt "github.com/expr-lang/expr/vm/runtime"
)

// The guard patch makes every evaluation pay, from its Budget, for the
// work and the memory it is about to use. It rewrites the checked tree:
//
//   - each closure body B (all, map, filter, reduce, …) becomes
//     `step($env, n); B`, n being B's size in nodes, so that nested loops
//     stop after MaxSteps however large their collections;
//   - the collection of a predicate builtin, the arguments of a scanning
//     builtin and the operands of in/contains/startsWith/endsWith/matches
//     are wrapped in `scan($env, x)`, which charges their length;
//   - `a + b` on strings (or on values of unknown type) becomes
//     `add($env, a, b)`, a concatenation that checks MaxString first;
//   - builtins that can build a result larger than their arguments
//     (repeat, replace, join, toJSON, …) are replaced by versions that
//     compute the result's size and charge it before building it.
//
// The helpers receive the environment as `$env` (the *Env being
// evaluated), which is how they find its Budget; expressions cannot name
// the helpers (Compile rejects the prefix) nor see Env.Budget.
const internalPrefix = "__flowc_"

const (
	fnStep = internalPrefix + "step"
	fnScan = internalPrefix + "scan"
	fnAdd  = internalPrefix + "add"
	fnRe   = internalPrefix + "matches"
)

var anyType = reflect.TypeOf((*any)(nil)).Elem()

// budgetOf returns the budget of the environment a helper was given.
func budgetOf(v any) (*Budget, error) {
	if e, ok := v.(*Env); ok && e.Budget != nil {
		return e.Budget, nil
	}
	return nil, fmt.Errorf("internal: expression helper called without a budget")
}

// guardOptions are the expr options that install the helpers and the
// size-checked builtins.
func guardOptions() []func(*conf.Config) {
	opts := []func(*conf.Config){func(c *conf.Config) {
		c.Functions[fnStep] = &builtin.Function{Name: fnStep, Func: stepFunc, Types: []reflect.Type{reflect.TypeOf(func(any, int) bool { return true })}}
		c.Functions[fnScan] = &builtin.Function{Name: fnScan, Func: scanFunc, Validate: passType}
		c.Functions[fnAdd] = &builtin.Function{Name: fnAdd, Func: addFunc, Validate: addType}
		c.Functions[fnRe] = &builtin.Function{Name: fnRe, Func: matchesFunc, Validate: matchesType}
	}}
	for name := range checkedBuiltins {
		opts = append(opts, func(c *conf.Config) { c.Functions[internalPrefix+name] = checkedBuiltin(name) })
	}
	return opts
}

func stepFunc(args ...any) (any, error) {
	b, err := budgetOf(args[0])
	if err != nil {
		return nil, err
	}
	return true, b.step(args[1].(int))
}

// scanFunc is scan($env, x[, weight]): it charges the scan of x, times
// weight (the cost of one element or StringStepBytes bytes), and
// returns x.
func scanFunc(args ...any) (any, error) {
	b, err := budgetOf(args[0])
	if err != nil {
		return nil, err
	}
	weight := 1
	if len(args) > 2 {
		weight = args[2].(int)
	}
	return args[1], b.step(scanSteps(args[1]) * weight)
}

// passType types scan($env, x[, weight]) as x.
func passType(args []reflect.Type) (reflect.Type, error) {
	if len(args) != 2 && len(args) != 3 {
		return anyType, fmt.Errorf("internal: scan takes 2 or 3 arguments")
	}
	return args[1], nil
}

// regexSize is the number of instructions of pattern's program: the
// cost of matching a string with Go's regexp is at most its length times
// this (the NFA), so a pattern is charged by it, not by its length
// (a{1000} is short).
func regexSize(pattern string) (int, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, err
	}
	return len(prog.Inst), nil
}

// matchWeight is the steps per scanned unit of text for a pattern of
// size instructions.
func matchWeight(size int) int { return size/StringStepBytes + 1 }

// matchesFunc is `s matches pattern` for a pattern known only at run
// time: it charges the pattern's compilation and the match before doing
// either.
func matchesFunc(args ...any) (any, error) {
	b, err := budgetOf(args[0])
	if err != nil {
		return nil, err
	}
	s, ok1 := deref(args[1]).(string)
	pattern, ok2 := deref(args[2]).(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("matches: want two strings, got %T and %T", deref(args[1]), deref(args[2]))
	}
	if err := b.step(scanSteps(pattern)); err != nil {
		return nil, err
	}
	size, err := regexSize(pattern)
	if err != nil {
		return nil, err
	}
	if err := b.step(scanSteps(s) * matchWeight(size)); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	return re.MatchString(s), nil
}

func matchesType(args []reflect.Type) (reflect.Type, error) {
	boolType := reflect.TypeOf(true)
	if len(args) != 3 {
		return boolType, fmt.Errorf("internal: matches takes 3 arguments")
	}
	for _, t := range args[1:] {
		if t = derefType(t); !isUnknown(t) && t.Kind() != reflect.String {
			return boolType, fmt.Errorf("invalid operation: matches (mismatched types %v and %v)", args[1], args[2])
		}
	}
	return boolType, nil
}

func addFunc(args ...any) (any, error) {
	b, err := budgetOf(args[0])
	if err != nil {
		return nil, err
	}
	l, lok := deref(args[1]).(string)
	r, rok := deref(args[2]).(string)
	if lok && rok {
		if err := b.allocString("+", len(l)+len(r)); err != nil {
			return nil, err
		}
		return l + r, nil
	}
	return exprrt.Add(deref(args[1]), deref(args[2])), nil
}

// deref follows non-nil pointers, as expr does for the operands of +.
func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		return v
	}
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	return rv.Interface()
}

// addType types add($env, a, b) as a + b: string for two strings, unknown
// if either is unknown, and the checker's error for a string and a
// non-string.
func addType(args []reflect.Type) (reflect.Type, error) {
	if len(args) != 3 {
		return anyType, fmt.Errorf("internal: add takes 3 arguments")
	}
	l, r := derefType(args[1]), derefType(args[2])
	if isUnknown(l) || isUnknown(r) {
		return anyType, nil
	}
	if l.Kind() == reflect.String && r.Kind() == reflect.String {
		return l, nil
	}
	return anyType, fmt.Errorf("invalid operation: + (mismatched types %v and %v)", l, r)
}

func derefType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func isUnknown(t reflect.Type) bool { return t == nil || t.Kind() == reflect.Interface }

// isSized says whether a value of static type t has a length worth
// charging (a string, a collection, or unknown).
func isSized(t reflect.Type) bool {
	if t == nil {
		return true
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Interface, reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return false
}

func isScalarLiteral(n ast.Node) bool {
	_, isArray := n.(*ast.ArrayNode)
	return isLiteral(n) && !isArray
}

// isLiteral says whether n is a constant whose size the AST already bounds.
func isLiteral(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode, *ast.ConstantNode:
		return true
	case *ast.ArrayNode:
		for _, e := range x.Nodes {
			if !isLiteral(e) {
				return false
			}
		}
		return true
	}
	return false
}

func envNode() ast.Node { return &ast.IdentifierNode{Value: "$env"} }

// envPatcher replaces a call of a size-checked builtin, name(args), by
// a call of its checked version, __flowc_name($env, args). It runs before
// guardPatcher so the types guardPatcher reads are already right. The
// call is a new node: the checker's types for the old one would be stale.
type envPatcher struct{}

func (envPatcher) Visit(node *ast.Node) {
	if n, ok := (*node).(*ast.BuiltinNode); ok && checkedBuiltins[n.Name] != nil {
		args := append([]ast.Node{envNode()}, n.Arguments...)
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: internalPrefix + n.Name}, Arguments: args})
	}
}

// guardPatcher inserts the step and scan charges (see the top of file).
type guardPatcher struct{}

func (guardPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		size := countNodes(n.Node)
		step := &ast.CallNode{Callee: &ast.IdentifierNode{Value: fnStep}, Arguments: []ast.Node{envNode(), &ast.IntegerNode{Value: size}}}
		n.Node = &ast.SequenceNode{Nodes: []ast.Node{step, n.Node}}
	case *ast.BuiltinNode:
		// The collection of all, map, count, sum, …: its length is charged
		// once, which also pays for the loops that have no closure.
		if i, ok := builtin.Index[n.Name]; ok && builtin.Builtins[i].Predicate && len(n.Arguments) > 0 {
			scan(&n.Arguments[0])
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "+":
			l, r := derefType(n.Left.Type()), derefType(n.Right.Type())
			if isUnknown(l) || isUnknown(r) || l.Kind() == reflect.String || r.Kind() == reflect.String {
				if _, ok := n.Left.(*ast.StringNode); ok {
					if _, ok := n.Right.(*ast.StringNode); ok {
						return // two literals: bounded by the source
					}
				}
				call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: fnAdd}, Arguments: []ast.Node{envNode(), n.Left, n.Right}}
				ast.Patch(node, call)
			}
		case "in":
			scan(&n.Right)
		case "contains", "startsWith", "endsWith":
			scan(&n.Left)
			scan(&n.Right)
		case "matches":
			if p, ok := n.Right.(*ast.StringNode); ok {
				// expr compiles a literal pattern once; charge the match.
				if size, err := regexSize(p.Value); err == nil {
					scanWeighted(&n.Left, matchWeight(size))
				}
				return
			}
			call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: fnRe}, Arguments: []ast.Node{envNode(), n.Left, n.Right}}
			ast.Patch(node, call)
		case "==", "!=":
			// Deep equality of collections is linear; so is that of
			// strings, and of values whose type is known only at run time.
			// Against a scalar literal (x == nil, x == "yes") it is not.
			if isScalarLiteral(n.Left) || isScalarLiteral(n.Right) {
				return
			}
			for _, side := range []*ast.Node{&n.Left, &n.Right} {
				scan(side)
			}
		}
	}
}

// scan wraps *n in scan($env, *n) unless its size is bounded statically.
func scan(n *ast.Node) { scanWeighted(n, 1) }

func scanWeighted(n *ast.Node, weight int) {
	if isLiteral(*n) || !isSized((*n).Type()) {
		return
	}
	if r, ok := (*n).(*ast.BinaryNode); ok && r.Operator == ".." {
		return // a range is charged by expr's memory budget when built
	}
	args := []ast.Node{envNode(), *n}
	if weight > 1 {
		args = append(args, &ast.IntegerNode{Value: weight})
	}
	call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: fnScan}, Arguments: args}
	call.SetLocation((*n).Location())
	*n = call
}

type nodeCounter struct{ n int }

func (c *nodeCounter) Visit(*ast.Node) { c.n++ }

func countNodes(n ast.Node) int {
	c := &nodeCounter{}
	ast.Walk(&n, c)
	return c.n
}

// lenOf is the length of a string, slice, array or map, by reflection.
func lenOf(v any) (int, bool) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len(), true
	}
	return 0, false
}

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
	"indexOf":     nil,
	"lastIndexOf": nil,
	"hasPrefix":   nil,
	"hasSuffix":   nil,
	"max":         nil,
	"min":         nil,
	"mean":        nil,
	"median":      sumItems("median"),
	"int":         nil,
	"float":       nil,
	"duration":    nil,
}

func init() {
	// Entries without an estimate only scan their arguments.
	for name, est := range checkedBuiltins {
		if est == nil {
			checkedBuiltins[name] = func(*Budget, []any) error { return nil }
		}
	}
}

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
