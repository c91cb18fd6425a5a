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
// nativeForm is the native evaluator of one expression. It is data and a
// switch, not a closure, so that evaluating it does not make the Env
// escape: the VM can evaluate native forms against an Env on its stack
// (EvalNative).
type nativeForm struct {
	op       nativeOp
	field    envField // for nativeString and nativePtr
	name     string   // the contact field or variable, for nativeField and nativeVar
	fallback string   // the literal after ??; "" without one (nil for Eval)
	hasFall  bool
	sched    *schedule.Schedule // for nativeHours
	cal      *Calendar
}

type nativeOp uint8

const (
	nativeHours   nativeOp = iota + 1 // hours("spec")
	nativeHoliday                     // holiday()
	nativeString                      // a string field of Env
	nativePtr                         // a *string field of Env (contact.name, contact.owner)
	nativeField                       // contact.fields.NAME
	nativeVar                         // a flow variable
)

// envField names the fields nativeString and nativePtr read.
type envField uint8

const (
	fBody envField = iota
	fFrom
	fTo
	fKeyword
	fSID
	fAccountSID
	fMessagingServiceSID
	fFromCity
	fFromState
	fFromCountry
	fFromZip
	fContactName
	fContactOwner
	fLastTextedBy
	fLastCalledBy
)

// stringFields and ptrFields are the fields by their expression paths.
var (
	stringFields = map[string]envField{
		"body": fBody, "from": fFrom, "to": fTo, "keyword": fKeyword,
		"message.sid": fSID, "message.account_sid": fAccountSID, "message.messaging_service_sid": fMessagingServiceSID,
		"message.from_city": fFromCity, "message.from_state": fFromState, "message.from_country": fFromCountry,
		"message.from_zip": fFromZip,
	}
	ptrFields = map[string]envField{"contact.name": fContactName, "contact.owner": fContactOwner,
		"contact.last_texted_by": fLastTextedBy, "contact.last_called_by": fLastCalledBy}
)

func (n *nativeForm) str(e *Env) string {
	switch n.field {
	case fBody:
		return e.Body
	case fFrom:
		return e.From
	case fTo:
		return e.To
	case fKeyword:
		return e.Keyword
	case fSID:
		return e.Message.SID
	case fAccountSID:
		return e.Message.AccountSID
	case fMessagingServiceSID:
		return e.Message.MessagingServiceSID
	case fFromCity:
		return e.Message.FromCity
	case fFromState:
		return e.Message.FromState
	case fFromCountry:
		return e.Message.FromCountry
	case fFromZip:
		return e.Message.FromZip
	}
	return ""
}

// ptr is the *string a nativePtr or nativeField form reads.
func (n *nativeForm) ptr(e *Env) *string {
	if n.op == nativeField {
		return e.Contact.Fields[n.name]
	}
	switch n.field {
	case fContactName:
		return e.Contact.Name
	case fLastTextedBy:
		return e.Contact.LastTextedBy
	case fLastCalledBy:
		return e.Contact.LastCalledBy
	}
	return e.Contact.Owner
}

// eval is what expr's program returns for the expression.
func (n *nativeForm) eval(e *Env) any {
	switch n.op {
	case nativeHours:
		return schedule.Calendar{Schedule: n.sched, Holidays: n.cal.Holidays}.Open(e.Now.In(n.cal.loc()))
	case nativeHoliday:
		return n.cal.Holiday(e.Now)
	case nativeString:
		return n.str(e) // a string is never nil: ?? never applies
	case nativePtr, nativeField:
		if s := n.ptr(e); s != nil {
			return *s
		}
	case nativeVar:
		if v := e.Vars[n.name]; v != nil || !n.hasFall {
			return v
		}
	}
	if n.hasFall {
		return n.fallback
	}
	return nil
}

// text is Render(eval(e)) for the forms whose value is a string or
// missing; ok is false for the others (a variable may hold a collection,
// which checkResult charges).
func (n *nativeForm) text(e *Env) (s string, ok bool) {
	switch n.op {
	case nativeString:
		return n.str(e), true
	case nativePtr, nativeField:
		if p := n.ptr(e); p != nil {
			return *p, true
		}
		return n.fallback, true // "" without one: Render(nil)
	}
	return "", false
}

// EvalNative evaluates c's native form against env, charging budget (not
// env.Budget), without letting env escape: ok is false when c has none
// (then call Eval).
func EvalNative(c *Compiled, env *Env, budget *Budget) (v any, ok bool, err error) {
	if c.native == nil {
		return nil, false, nil
	}
	v = c.native.eval(env)
	if c.native.op != nativeVar {
		return v, true, nil // a bool, a string or nil: checkResult has nothing to charge
	}
	budget.evalSteps, budget.evalBytes = 0, 0
	if err := checkResult(c.Kind, v, budget); err != nil {
		return nil, true, err
	}
	return v, true, nil
}

// EvalNativeText is EvalText for c's native form, as EvalNative.
func EvalNativeText(c *Compiled, env *Env, budget *Budget) (s string, ok bool, err error) {
	if c.native == nil {
		return "", false, nil
	}
	if s, ok := c.native.text(env); ok {
		return s, true, nil
	}
	v, _, err := EvalNative(c, env, budget)
	if err != nil {
		return "", true, err
	}
	return Render(v), true, nil
}

// EvalText evaluates c and renders its value as a template does
// (Render). A read of a string value skips the boxing Eval needs.
func EvalText(c *Compiled, env *Env) (string, error) {
	if c.native != nil {
		if s, ok := c.native.text(env); ok {
			return s, nil
		}
	}
	v, err := Eval(c, env)
	if err != nil {
		return "", err
	}
	return Render(v), nil
}

// ReadsContact reports whether evaluating c may read the contact: false
// only for native forms that do not (hours, holiday, the message's
// fields, variables), so the VM can leave the directory alone for them.
func (c *Compiled) ReadsContact() bool { return !c.noContact }

// ReadsKeyword reports whether evaluating c may read Env.Keyword: false
// for the native forms other than a read of `keyword` itself, so the VM
// can leave the keyword uncomputed for them (a first message's
// business-hours check does not need it).
func (c *Compiled) ReadsKeyword() bool { return !c.noKeyword }

// native returns the native form of src, or nil when src is not one of
// the shapes above.
func (c *Compiler) native(tree *parser.Tree, kind ExprKind) *nativeForm {
	node := tree.Node
	if call, ok := node.(*ast.CallNode); ok {
		return c.nativeCalendar(call)
	}
	if kind == Condition {
		return nil // a read is not a bool: expr's compile already refused it
	}
	n := &nativeForm{}
	if b, ok := node.(*ast.BinaryNode); ok {
		lit, isLit := b.Right.(*ast.StringNode)
		if b.Operator != "??" || !isLit {
			return nil
		}
		node, n.fallback, n.hasFall = b.Left, lit.Value, true
	}
	path, ok := readPath(node)
	if !ok {
		return nil
	}
	if f, ok := stringFields[path]; ok {
		n.op, n.field = nativeString, f
		return n
	}
	if f, ok := ptrFields[path]; ok {
		n.op, n.field = nativePtr, f
		return n
	}
	if strings.HasPrefix(path, "contact.fields.") && strings.Count(path, ".") == 2 {
		n.op, n.name = nativeField, path[len("contact.fields."):]
		return n
	}
	name, isVar := path, c.Vars[path] && !Names[path]
	if strings.HasPrefix(path, "vars.") && strings.Count(path, ".") == 1 {
		name, isVar = path[len("vars."):], true
	}
	if !isVar {
		return nil
	}
	n.op, n.name = nativeVar, name
	return n
}

// nativeCalendar is the native form of hours(SPEC) with a literal spec
// that parses, and of holiday().
func (c *Compiler) nativeCalendar(call *ast.CallNode) *nativeForm {
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || c.Cal == nil {
		return nil
	}
	switch {
	case id.Value == "holiday" && len(call.Arguments) == 0:
		return &nativeForm{op: nativeHoliday, cal: c.Cal}
	case id.Value == "hours" && len(call.Arguments) == 1:
		lit, ok := call.Arguments[0].(*ast.StringNode)
		if !ok {
			return nil
		}
		s, err := c.Cal.lookup(lit.Value)
		if err != nil {
			return nil // expr reports it, at its place
		}
		return &nativeForm{op: nativeHours, sched: s, cal: c.Cal}
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
