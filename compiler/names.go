package compiler

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/builtin"
	exprfile "github.com/expr-lang/expr/file"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/runtime"
)

// Did-you-mean for names inside expressions. expr-lang reports an unknown
// name or field in its own words; the message is rewritten elsewhere
// (runtime.CompileMessage), and only the hint is decided here, from
// either wording.
var (
	unknownName = regexp.MustCompile(`^unknown name ([\p{L}_][\p{L}\p{N}_]*)`)
	// expr's "type runtime.Contact has no field x", as runtime.CompileMessage
	// words it ("contact has no field x").
	unknownField = regexp.MustCompile(`^(?:type )?(\*?[\w.]+|the message) has no field ([\p{L}_][\p{L}\p{N}_]*)`)
)

// exprFields are the names an expression can use after a dot, per the
// type expr names in its message, and at the top level under "".
var exprFields = map[string][]string{
	"":                tagNames(reflect.TypeOf(runtime.Env{})),
	"runtime.Env":     tagNames(reflect.TypeOf(runtime.Env{})),
	"*runtime.Env":    tagNames(reflect.TypeOf(runtime.Env{})),
	"runtime.Contact": tagNames(reflect.TypeOf(runtime.Contact{})),
	"runtime.Message": tagNames(reflect.TypeOf(runtime.Message{})),
	"the message":     tagNames(reflect.TypeOf(runtime.Env{})),
	"contact":         tagNames(reflect.TypeOf(runtime.Contact{})),
	"message":         tagNames(reflect.TypeOf(runtime.Message{})),
}

// tagNames are the expr tags of struct type t: the field names
// expressions see.
func tagNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("expr"); tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	return names
}

// exprFunctions are the functions an expression can call: expr's
// builtins and flowc's own (runtime.Compiler adds hours and holiday).
var exprFunctions = append([]string{"hours", "holiday"}, builtin.Names...)

// exprNameHint is the hint for expression error err, whose location in
// the file is sp: the closest known name when err is about an
// unknown variable, function or field, else "", and the fix that puts
// that name in when sp is the unknown one.
func (c *compiler) exprNameHint(err error, sp file.Span) (string, []diag.Fix) {
	msg := err.Error()
	if fe, ok := err.(*exprfile.Error); ok {
		msg = fe.Message
	}
	if m := unknownName.FindStringSubmatch(msg); m != nil {
		if rest := strings.TrimLeft(c.f.Source.Text[sp.End:], " \t"); strings.HasPrefix(rest, "(") {
			if s := check.Suggest(m[1], exprFunctions); s != "" {
				return fmt.Sprintf("did you mean %s(…)?", s), check.NameFix(sp, m[1], s)
			}
			return "no function " + m[1] + ": flowc adds hours() and holiday() to expr-lang's builtins (len, upper, trim, …; see expr-lang.org)", nil
		}
		candidates := append([]string(nil), exprFields[""]...)
		for v := range c.exprs.Vars {
			candidates = append(candidates, v)
		}
		if s := check.Suggest(m[1], candidates); s != "" {
			return fmt.Sprintf("did you mean %s?", s), check.NameFix(sp, m[1], s)
		}
		return "variables are set with set NAME = …; the message's fields are " + strings.Join(exprFields[""], ", "), nil
	}
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		fields, ok := exprFields[m[1]]
		if !ok {
			return "", nil
		}
		if s := check.Suggest(m[2], fields); s != "" {
			return fmt.Sprintf("did you mean %s?", s), check.NameFix(sp, m[2], s)
		}
		return "its fields are " + strings.Join(fields, ", "), nil
	}
	return "", nil
}
