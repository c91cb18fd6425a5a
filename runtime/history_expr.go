package runtime

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
)

// How expressions read what lies beyond the message and the contact's
// directory entry: the contact's history (history.go), the business
// number's settings (number.*), the operator's lists (list("blocked"))
// and the names a computed target gives (inbox user:(EXPR)).

// Number is the business number a message was sent to, as the directory
// describes it ("numbers" in directory.json): its settings, read as
// number.backup_email or number.settings.NAME. A number the directory
// does not describe has none (each is nil).
type Number struct {
	Name        *string            `expr:"name"`         // a label for people, nil if none
	BackupEmail *string            `expr:"backup_email"` // where to forward when nobody else is found (turboDial's "backup email for forwarding SMSs")
	Settings    map[string]*string `expr:"settings"`     // any other setting; missing ones are nil
}

// NumberSettings is a directory entry's settings as expressions see
// them: a blank value counts as missing, as for contact fields.
func NumberSettings(name, backupEmail string, settings map[string]string) Number {
	n := Number{Name: Str(name), BackupEmail: Str(backupEmail)}
	for k, v := range settings {
		if v == "" {
			continue
		}
		if n.Settings == nil {
			n.Settings = make(map[string]*string, len(settings))
		}
		n.Settings[k] = &v
	}
	return n
}

// Value is the number's settings as plain data.
func (n Number) Value() map[string]any {
	return map[string]any{"name": plainString(n.Name), "backup_email": plainString(n.BackupEmail), "settings": plainFields(n.Settings)}
}

// Value is the interaction as plain data: kind, direction, number, user,
// campaign and at, with nil for what is missing.
func (in Interaction) Value() map[string]any {
	return map[string]any{"kind": in.Kind, "direction": in.Direction, "number": in.Number,
		"user": plainString(in.User), "campaign": plainString(in.Campaign), "at": in.At}
}

// Value is the campaign message as plain data.
func (c Campaign) Value() map[string]any {
	return map[string]any{"name": c.Name, "reply_user": plainString(c.ReplyUser), "reply_email": plainString(c.ReplyEmail), "at": c.At}
}

// ListFunc reads an operator's list as a set (vm.Env.List, bound to the
// run's context). An unknown list is empty (nil).
type ListFunc func(name string) (map[string]bool, error)

// fnList is list(NAME): the operator's list NAME as a set, so that
// `from in list("blocked")` is one look-up. The compiler makes it
// list(NAME, $env), and the function reads the list through Env.Lists.
const fnList = "list"

var setType = reflect.TypeOf(map[string]bool{})

func listFunc(params ...any) (any, error) {
	name, _ := params[0].(string)
	e, ok := params[1].(*Env)
	if !ok || e.Lists == nil {
		return map[string]bool{}, nil // nobody gave lists: every list is empty
	}
	set, err := e.Lists(name)
	if err != nil {
		return nil, fmt.Errorf("list(%q): %v", name, err)
	}
	if set == nil {
		return map[string]bool{}, nil
	}
	return set, nil
}

// listOption installs list(NAME): typed as a set of strings. It takes
// the environment as a second argument, which the guard adds (so the
// checker sees one argument, then two).
func listOption(c *conf.Config) {
	c.Functions[fnList] = &builtin.Function{Name: fnList, Func: listFunc, Validate: func(args []reflect.Type) (reflect.Type, error) {
		if len(args) < 1 || len(args) > 2 {
			return setType, fmt.Errorf("list() takes one argument, the list's name, not %d", len(args))
		}
		if k := args[0].Kind(); k != reflect.String && k != reflect.Interface {
			return setType, fmt.Errorf("list() takes the list's name as a string literal: list(\"blocked\")")
		}
		return setType, nil
	}}
}

// listArgs reports a list() whose name is not a string literal: a list
// is named in the file, like a schedule, so that check and the operator
// see which lists a flow reads.
func listArgs(n *ast.CallNode) error {
	if len(n.Arguments) != 1 {
		return &file.Error{Location: n.Location(), Message: fmt.Sprintf("list() takes one argument, the list's name, not %d", len(n.Arguments))}
	}
	if _, ok := n.Arguments[0].(*ast.StringNode); !ok {
		return &file.Error{Location: n.Arguments[0].Location(), Message: `list() takes the list's name as a string literal: list("blocked")`}
	}
	return nil
}

// ReadsList reports whether evaluating c may call list(): the VM then
// binds Env.Lists first.
func (c *Compiled) ReadsList() bool { return c.readsList }

// ReadsNumber reports whether evaluating c may read number.*: the VM
// then fills Env.Number first. It is true whenever the source names
// `number` (a false positive only costs a look-up).
func (c *Compiled) ReadsNumber() bool { return c.readsNumber }

// nameError is the compile error of a computed target's expression that
// cannot give a name (a number, a list…).
func nameError(t reflect.Type) error {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String {
		return nil
	}
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return nil
	}
	return errors.New("a target's name must be a string, but this is " + aType(t.String()))
}

// TargetName is what a computed target's expression gave: the name, or "" when
// it gave nil, and an error for a value that is no string (a variable
// holding a number).
func TargetName(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case *string:
		if x == nil {
			return "", nil
		}
		return *x, nil
	}
	return "", fmt.Errorf("a target's name must be a string, but this is %s", aType(fmt.Sprintf("%T", v)))
}

// The history's types, for the plain patch (plain.go).
var (
	interactionType    = reflect.TypeOf(Interaction{})
	interactionPtrType = reflect.TypeOf((*Interaction)(nil))
	interactionsType   = reflect.TypeOf([]Interaction{})
	campaignPtrType    = reflect.TypeOf((*Campaign)(nil))
	numberType         = reflect.TypeOf(Number{})
	plainListType      = reflect.TypeOf([]any{})
)

// plainHistory is __flowc_plain for the history's values; ok is false
// for a value of another type.
func plainHistory(v any) (any, bool) {
	switch x := v.(type) {
	case Interaction:
		return x.Value(), true
	case *Interaction:
		if x == nil {
			return nil, true
		}
		return x.Value(), true
	case []Interaction:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i].Value()
		}
		return out, true
	case *Campaign:
		if x == nil {
			return nil, true
		}
		return x.Value(), true
	case Number:
		return x.Value(), true
	case []any:
		// What a builtin made of the interactions (filter, map with #):
		// the elements that are still structs become maps.
		var out []any
		for i, e := range x {
			if in, ok := e.(Interaction); ok {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = in.Value()
			}
		}
		if out == nil {
			return x, true
		}
		return out, true
	}
	return nil, false
}
