package runtime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
)

// ExprError is a run-time error of an expression, in flowc's words.
// From is the rune offset inside the expression's source where expr
// located it; Error is one line, without expr's source excerpt (the vm
// prefixes the file position).
type ExprError struct {
	Msg  string
	From int
	err  error // expr's error: a budget error stays errors.As-able
}

func (e *ExprError) Error() string { return e.Msg }
func (e *ExprError) Unwrap() error { return e.err }

// listFuncs are the functions whose first argument must be a list (or,
// for len, a string, list or map).
var listFuncs = map[string]string{
	"all": "a list", "none": "a list", "any": "a list", "one": "a list",
	"filter": "a list", "map": "a list", "count": "a list", "sum": "a list",
	"find": "a list", "findIndex": "a list", "findLast": "a list", "findLastIndex": "a list",
	"groupBy": "a list", "sortBy": "a list", "reduce": "a list",
	"len": "a string, list or map", "first": "a list", "last": "a list",
	"join": "a list", "reverse": "a list", "uniq": "a list", "sort": "a list",
	"keys": "a map", "values": "a map",
}

// evalError translates an error of expr's vm running c against env. A
// variable that is unset (never set, or its set failed) is the usual
// cause of a nil where a value is needed; the message names it.
func evalError(c *Compiled, env *Env, err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return err
	}
	if !strings.Contains(fe.Message, "zero Value") && !strings.Contains(fe.Message, "nil") {
		msg := EvalMessage(fe.Message)
		// A string where a number is needed (an ask's answer compared
		// with a number): point at the operand and say what to write.
		if from, _, advice, ok := WrongOperand(c.Source, msg, fe.From); ok {
			return &ExprError{Msg: msg + ": " + advice, From: from, err: err}
		}
		return &ExprError{Msg: msg, From: fe.From, err: err}
	}
	if name, fn, need, ok := unsetListArg(c.Source, env); ok {
		return &ExprError{Msg: fmt.Sprintf("%s is nil (unset): %s() needs %s", name, fn, need), From: fe.From, err: err}
	}
	msg := EvalMessage(fe.Message)
	if unset := unsetReads(c, env); len(unset) == 1 && strings.Contains(msg, "nil") {
		msg = unset[0] + " is nil (unset): " + strings.ReplaceAll(msg, "nil (unset)", "nil")
	}
	return &ExprError{Msg: msg, From: fe.From, err: err}
}

func unsetVar(env *Env, name string) bool {
	v, ok := env.Vars[name]
	return !ok || v == nil
}

// unsetReads are the variables c reads that env leaves nil.
func unsetReads(c *Compiled, env *Env) []string {
	var out []string
	for _, v := range c.Reads {
		if unsetVar(env, v) {
			out = append(out, v)
		}
	}
	return out
}

// unsetListArg finds a call in src to a list function whose first
// argument is a bare variable that env leaves nil.
func unsetListArg(src string, env *Env) (name, fn, need string, ok bool) {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return "", "", "", false
	}
	v := &listArgVisitor{env: env}
	ast.Walk(&tree.Node, v)
	return v.name, v.fn, v.need, v.name != ""
}

type listArgVisitor struct {
	env            *Env
	name, fn, need string
}

func (v *listArgVisitor) Visit(n *ast.Node) {
	if v.name != "" {
		return
	}
	var fn string
	var args []ast.Node
	switch call := (*n).(type) {
	case *ast.BuiltinNode:
		fn, args = call.Name, call.Arguments
	case *ast.CallNode:
		if id, ok := call.Callee.(*ast.IdentifierNode); ok {
			fn, args = id.Value, call.Arguments
		}
	}
	need, ok := listFuncs[fn]
	if !ok || len(args) == 0 {
		return
	}
	if id, ok := args[0].(*ast.IdentifierNode); ok && !Names[id.Value] && unsetVar(v.env, id.Value) {
		v.name, v.fn, v.need = id.Value, fn, need
	}
}
