package runtime

import (
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/flowc-dev/flowc/lang/schedule"
)

// The most common expressions of a flow are evaluated without expr's VM:
// a business-hours check (`hours("9-5")`, `holiday()`) and a read of one
// value (`body`, `contact.name`, a flow variable, `contact.fields.city`),
// alone or with a literal fallback (`contact.name ?? 'there'`). Running
// them through expr costs an argument slice, a boxed time and reflection
// per evaluation, more than the rest of a message's routing together.
//
// A native form is only an evaluator: the expression is still compiled
// (and so checked, typed and guarded) by expr, and the native form must
// give what expr's program gives, value for value, which
// TestNativeFormsAgreeWithExpr checks. None of these shapes does work the
// guard charges for (no closure, no scan, no concatenation), so the
// budget is untouched either way; checkResult still runs on the value.
type nativeFunc func(env *Env) any

// textFunc is the native form of a read of a string value (or a
// missing one) as a template prints it: Render(value), without boxing
// the string.
type textFunc func(env *Env) string

// ReadsContact reports whether evaluating c may read the contact: false
// only for native forms that do not (hours, holiday, the message's
// fields, variables), so the VM can leave the directory alone for them.
func (c *Compiled) ReadsContact() bool { return !c.noContact }

// EvalText evaluates c and renders its value as a template does
// (Render). A read of a string value skips the boxing Eval needs.
func EvalText(c *Compiled, env *Env) (string, error) {
	if c.text != nil {
		return c.text(env), nil
	}
	v, err := Eval(c, env)
	if err != nil {
		return "", err
	}
	return Render(v), nil
}

// stringFields are the string values of Env by their expression paths;
// ptrFields the *string ones (nil when missing), which an expression
// sees as a string or nil (plain.go).
var (
	stringFields = map[string]func(*Env) string{
		"body": func(e *Env) string { return e.Body }, "from": func(e *Env) string { return e.From },
		"to": func(e *Env) string { return e.To }, "keyword": func(e *Env) string { return e.Keyword },
		"message.sid":                   func(e *Env) string { return e.Message.SID },
		"message.account_sid":           func(e *Env) string { return e.Message.AccountSID },
		"message.messaging_service_sid": func(e *Env) string { return e.Message.MessagingServiceSID },
		"message.from_city":             func(e *Env) string { return e.Message.FromCity },
		"message.from_state":            func(e *Env) string { return e.Message.FromState },
		"message.from_country":          func(e *Env) string { return e.Message.FromCountry },
		"message.from_zip":              func(e *Env) string { return e.Message.FromZip },
	}
	ptrFields = map[string]func(*Env) *string{
		"contact.name":  func(e *Env) *string { return e.Contact.Name },
		"contact.owner": func(e *Env) *string { return e.Contact.Owner },
	}
)

// native returns the native form of src, or nil when src is not one of
// the shapes above. vars are the flow's declared variables.
func (c *Compiler) native(src string, kind ExprKind) (nativeFunc, textFunc) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, nil
	}
	node := tree.Node
	if call, ok := node.(*ast.CallNode); ok {
		return c.nativeCalendar(call), nil
	}
	if kind == Condition {
		return nil, nil // a read is not a bool: expr's compile already refused it
	}
	fallback, hasFallback := "", false
	if b, ok := node.(*ast.BinaryNode); ok {
		lit, isLit := b.Right.(*ast.StringNode)
		if b.Operator != "??" || !isLit {
			return nil, nil
		}
		node, fallback, hasFallback = b.Left, lit.Value, true
	}
	path, ok := readPath(node)
	if !ok {
		return nil, nil
	}
	if f := stringFields[path]; f != nil {
		return func(e *Env) any { return f(e) }, textFunc(f) // a string is never nil: ?? never applies
	}
	var get func(*Env) *string
	switch {
	case ptrFields[path] != nil:
		get = ptrFields[path]
	case strings.HasPrefix(path, "contact.fields.") && strings.Count(path, ".") == 2:
		name := path[len("contact.fields."):]
		get = func(e *Env) *string { return e.Contact.Fields[name] }
	default:
		name, isVar := path, c.Vars[path] && !Names[path]
		if strings.HasPrefix(path, "vars.") && strings.Count(path, ".") == 1 {
			name, isVar = path[len("vars."):], true
		}
		if !isVar {
			return nil, nil
		}
		// A variable may hold a collection, which checkResult charges:
		// no text form, EvalText goes through Eval.
		if hasFallback {
			return func(e *Env) any {
				if v := e.Vars[name]; v != nil {
					return v
				}
				return fallback
			}, nil
		}
		return func(e *Env) any { return e.Vars[name] }, nil
	}
	text := func(e *Env) string {
		if s := get(e); s != nil {
			return *s
		}
		return fallback // "" without one: Render(nil)
	}
	if hasFallback {
		return func(e *Env) any {
			if s := get(e); s != nil {
				return *s
			}
			return fallback
		}, text
	}
	return func(e *Env) any {
		if s := get(e); s != nil {
			return *s
		}
		return nil
	}, text
}

// nativeCalendar is the native form of hours(SPEC) with a literal spec
// that parses, and of holiday().
func (c *Compiler) nativeCalendar(call *ast.CallNode) nativeFunc {
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || c.Cal == nil {
		return nil
	}
	cal := c.Cal
	switch {
	case id.Value == "holiday" && len(call.Arguments) == 0:
		return func(e *Env) any { return cal.Holiday(e.Now) }
	case id.Value == "hours" && len(call.Arguments) == 1:
		lit, ok := call.Arguments[0].(*ast.StringNode)
		if !ok {
			return nil
		}
		s, err := cal.lookup(lit.Value)
		if err != nil {
			return nil // expr reports it, at its place
		}
		return func(e *Env) any {
			return schedule.Calendar{Schedule: s, Holidays: cal.Holidays}.Open(e.Now.In(cal.loc()))
		}
	}
	return nil
}

// readPath is the dotted path of an identifier or of a chain of member
// reads by name (`contact.name`, `contact["name"]`), without `?.`.
func readPath(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value, n.Value != "$env"
	case *ast.MemberNode:
		prop, ok := n.Property.(*ast.StringNode)
		if !ok || n.Optional || n.Method || strings.Contains(prop.Value, ".") {
			return "", false // a dotted key (vars["a.b"]) would read as a path
		}
		base, ok := readPath(n.Node)
		return base + "." + prop.Value, ok
	}
	return "", false
}
