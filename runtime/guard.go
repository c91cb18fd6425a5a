package runtime

import (
	"fmt"
	"reflect"
	"regexp"
	"regexp/syntax"
	"sync"

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

// guardFunctions are the helpers and the size-checked builtins, built
// once (by guardOption) for every compile.
var (
	guardOnce      sync.Once
	guardFunctions map[string]*builtin.Function
)

// guardOption is the expr option that installs guardFunctions.
func guardOption(c *conf.Config) {
	guardOnce.Do(func() {
		guardFunctions = map[string]*builtin.Function{
			fnStep: {Name: fnStep, Func: stepFunc, Types: []reflect.Type{reflect.TypeOf(func(any, int) bool { return true })}},
			fnScan: {Name: fnScan, Func: scanFunc, Validate: passType},
			fnAdd:  {Name: fnAdd, Func: addFunc, Validate: addType},
			fnRe:   {Name: fnRe, Func: matchesFunc, Validate: matchesType},
		}
		for name := range checkedBuiltins {
			guardFunctions[internalPrefix+name] = checkedBuiltin(name)
		}
	})
	for name, f := range guardFunctions {
		c.Functions[name] = f
	}
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
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == fnList && len(n.Arguments) == 1 {
			n.Arguments = append(n.Arguments, envNode()) // list reads Env.Lists
		}
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
			// A key of a map (a list() set) is one look-up, whatever its size.
			if t := n.Right.Type(); t == nil || t.Kind() != reflect.Map {
				scan(&n.Right)
			}
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
