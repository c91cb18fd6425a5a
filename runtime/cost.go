package runtime

import (
	"fmt"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// CodeExpensive is the diagnostic code of the cost warnings.
const CodeExpensive = "flow/expensive"

// MaxLiteralRange is the largest literal range (a..b) check accepts
// without a warning.
const MaxLiteralRange = 10_000

// warnings finds the constructs of src whose cost is statically huge:
// a loop (all, map, filter, …) over a range or a variable nested in
// another, and literal ranges of more than MaxLiteralRange elements.
// They pass check and run, but are likely to hit MaxSteps on real data.
// Each warning is a *file.Error locating the construct inside src.
func (c *Compiler) warnings(tree *parser.Tree) []*file.Error {
	w := &costVisitor{vars: c.Vars, nested: map[ast.Node]bool{}}
	ast.Walk(&tree.Node, w)
	var out []*file.Error
	for _, x := range w.warnings {
		if !w.nested[x.node] {
			out = append(out, x.err)
		}
	}
	return out
}

type costVisitor struct {
	vars     map[string]bool
	nested   map[ast.Node]bool // loops inside a loop already reported
	warnings []costWarning
}

type costWarning struct {
	node ast.Node
	err  *file.Error
}

func (w *costVisitor) warn(n ast.Node, format string, args ...any) {
	w.warnings = append(w.warnings, costWarning{n, &file.Error{Location: n.Location(), Message: fmt.Sprintf(format, args...)}})
}

func (w *costVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if size, ok := literalRange(n); ok && size > MaxLiteralRange {
			w.warn(n, "a range of %d elements: an expression may do at most %d steps", size, MaxSteps)
			// Underline the whole range, not just its operator.
			l, r := n.Left.Location(), n.Right.Location()
			if r.To > l.From {
				w.warnings[len(w.warnings)-1].err.Location = file.Location{From: l.From, To: r.To}
			}
		}
	case *ast.BuiltinNode:
		if !isLoop(n) || !w.large(n.Arguments[0]) {
			return
		}
		// A loop over a large collection: warn if its body loops over
		// another (the walk is post-order, so inner loops come first;
		// report the outer one, which says where the product starts).
		var inner *ast.BuiltinNode
		for _, arg := range n.Arguments[1:] {
			ast.Find(arg, func(m ast.Node) bool {
				if b, ok := m.(*ast.BuiltinNode); ok && isLoop(b) && w.large(b.Arguments[0]) {
					if inner == nil {
						inner = b
					}
					w.nested[b] = true
				}
				return false
			})
		}
		if inner != nil {
			w.warn(n, "%s over %s loops over %s for each element: this can take more than the %d steps an expression may do",
				n.Name, describe(n.Arguments[0]), describe(inner.Arguments[0]), MaxSteps)
		}
	}
}

// isLoop says whether n iterates over its first argument.
func isLoop(n *ast.BuiltinNode) bool {
	i, ok := builtin.Index[n.Name]
	return ok && builtin.Builtins[i].Predicate && len(n.Arguments) > 0
}

// large says whether a loop's collection may be large: a range that is
// not a small literal, or a flow variable (whose size is known only at
// run time).
func (w *costVisitor) large(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.BinaryNode:
		if x.Operator != ".." {
			return false
		}
		size, ok := literalRange(x)
		return !ok || size > 100
	case *ast.IdentifierNode:
		return w.vars[x.Value] && !Names[x.Value]
	case *ast.MemberNode:
		id, ok := x.Node.(*ast.IdentifierNode)
		return ok && id.Value == "vars"
	}
	return false
}

func literalRange(n *ast.BinaryNode) (int, bool) {
	if n.Operator != ".." {
		return 0, false
	}
	from, ok1 := n.Left.(*ast.IntegerNode)
	to, ok2 := n.Right.(*ast.IntegerNode)
	if !ok1 || !ok2 {
		return 0, false
	}
	return max(to.Value-from.Value+1, 0), true
}

func describe(n ast.Node) string {
	s := n.String()
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
