package runtime

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
)

// Contact data is plain data. Contact.Name and Contact.Owner are *string
// only so that the checker types `contact.name` as a string that may be
// missing: `contact.name + 1` is a compile error, `contact.name ?? 'x'`
// checks. A pointer must never leave an expression, though: stored in a
// variable it would print as an address, an applet cannot take it, and
// a nil *string inside an interface is not nil. The plain patch
// therefore wraps every read of such a field, and every use of the whole
// `contact` or `contact.fields` other than reading one of their members,
// in __flowc_plain(x), which turns a *string into its string or nil, a
// Contact into Contact.Value and the fields into a map[string]any of
// strings. The call keeps the *string type for the checker, so typing is
// exactly what it was (`contact.fields.city + 1` is a compile error too);
// only the value changes.
const fnPlain = internalPrefix + "plain"

var (
	stringPtrType = reflect.TypeOf((*string)(nil))
	contactType   = reflect.TypeOf(Contact{})
	fieldsType    = reflect.TypeOf(map[string]*string{})
	plainMapType  = reflect.TypeOf(map[string]any{})
)

// plainOption is the expr option that installs __flowc_plain.
func plainOption(c *conf.Config) {
	c.Functions[fnPlain] = &builtin.Function{Name: fnPlain, Func: plainFunc, Validate: plainType}
}

func plainFunc(args ...any) (any, error) {
	switch v := args[0].(type) {
	case *string:
		if v == nil {
			return nil, nil
		}
		return *v, nil
	case Contact:
		return v.Value(), nil
	case map[string]*string:
		return plainFields(v), nil
	}
	if v, ok := plainHistory(args[0]); ok {
		return v, nil
	}
	return args[0], nil
}

func plainType(args []reflect.Type) (reflect.Type, error) {
	if len(args) != 1 {
		return anyType, fmt.Errorf("internal: plain takes 1 argument")
	}
	switch args[0] {
	case contactType, fieldsType, interactionType, interactionPtrType, campaignPtrType, numberType:
		return plainMapType, nil
	case interactionsType:
		return plainListType, nil
	}
	return args[0], nil
}

// plainPatcher inserts __flowc_plain (see the top of file). ast.Walk
// visits children first, so `contact` in `contact.name` is wrapped
// before its member node is seen; the member node unwraps it again,
// since reading a member of the struct (or of the fields) is what the
// checker typed.
//
// It also finds `$env` used as a whole value (`set e = $env`): that is
// the Go *Env itself, pointers, budget and all, so Compile rejects it.
// Reading a member (`$env.body`, `$env["x"]`) is an ordinary read. The
// patch runs before the guard inserts its own $env arguments.
type plainPatcher struct {
	bareEnv map[*ast.IdentifierNode]bool
}

func (p *plainPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok {
			delete(p.bareEnv, id)
		}
		if c, ok := n.Node.(*ast.CallNode); ok && isPlainCall(c) && needsPlain(c.Arguments[0].Type()) {
			n.Node = c.Arguments[0]
		}
		if needsPlain(n.Type()) {
			wrapPlain(node)
		}
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			if p.bareEnv == nil {
				p.bareEnv = map[*ast.IdentifierNode]bool{}
			}
			p.bareEnv[n] = true
		}
		if n.Type() == contactType || n.Type() == numberType {
			wrapPlain(node)
		}
	case *ast.PointerNode:
		if n.Type() == interactionType { // `#` in map(contact.interactions, #)
			wrapPlain(node)
		}
	case *ast.BuiltinNode:
		// count(contact.interactions, .kind == "sms"): the closure reads
		// the interactions' fields, typed; what the builtin returns is
		// made plain in turn.
		unwrapped := false
		for i, a := range n.Arguments {
			if c, ok := a.(*ast.CallNode); ok && isPlainCall(c) && c.Arguments[0].Type() == interactionsType {
				n.Arguments[i], unwrapped = c.Arguments[0], true
			}
		}
		if t := n.Type(); needsPlain(t) || unwrapped && t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Interface) {
			wrapPlain(node)
		}
	}
}

// err reports a bare $env, if any.
func (p *plainPatcher) err() error {
	for id := range p.bareEnv {
		return &file.Error{Location: id.Location(), Message: "$env is not a value: name what you need (body, contact.name, vars.x)"}
	}
	return nil
}

func needsPlain(t reflect.Type) bool {
	switch t {
	case stringPtrType, contactType, fieldsType, interactionType, interactionPtrType, interactionsType, campaignPtrType, numberType:
		return true
	}
	return false
}

func plainFields(fields map[string]*string) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		out[k] = plainString(v)
	}
	return out
}

func isPlainCall(c *ast.CallNode) bool {
	id, ok := c.Callee.(*ast.IdentifierNode)
	return ok && id.Value == fnPlain && len(c.Arguments) == 1
}

func wrapPlain(node *ast.Node) {
	inner := *node
	ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: fnPlain}, Arguments: []ast.Node{inner}})
}

// Render formats a template value the way a reply shows it: nil as
// nothing, a number without a needless ".0", a time as "Mon Jan 2 15:04",
// a list as its items rendered and joined by ", " ("vip, wholesale"), and
// a map (or a list inside a list) as compact JSON with sorted keys
// ({"city":"Oslo"}), never as Go's map[…] or a pointer.
func Render(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case *string:
		if x == nil {
			return ""
		}
		return *x
	case time.Time:
		return x.Format("Mon Jan 2 15:04")
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
	case Contact:
		return renderJSON(x.Value())
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			break // []byte: not a list a flow builds
		}
		parts := make([]string, rv.Len())
		for i := range parts {
			e := rv.Index(i).Interface()
			if isCollection(e) {
				parts[i] = renderJSON(e)
			} else {
				parts[i] = Render(e)
			}
		}
		return strings.Join(parts, ", ")
	case reflect.Map, reflect.Struct:
		return renderJSON(v)
	}
	return fmt.Sprint(v)
}

func isCollection(v any) bool {
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		_, isTime := v.(time.Time)
		return !isTime
	}
	return false
}

// renderJSON prints v as compact JSON with sorted keys, < > & as they
// are (an SMS is not HTML); what JSON cannot print falls back to fmt, so
// a reply is never lost.
func renderJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
