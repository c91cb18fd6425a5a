package compiler

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

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
	if h := c.mismatchHint(msg, sp.End); h != "" {
		return h, nil
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

// mismatchOp is the operator of a type error between a string and a
// number, in runtime.CompileMessage's words.
var mismatchOp = regexp.MustCompile("^cannot use `(\\S+)` between (?:a string|a number) and (?:a string|a number)$")

// mismatchHint is the advice for a string used with a number (`body >
// 100`), whose operator ends at byte end of the file: the operands are
// read from the text on either side of it, and runtime.WrongOperand says
// which is the mistake and what to write. "" when the operands are not a
// name, a call, a number or a string on the operator's line.
func (c *compiler) mismatchHint(msg string, end int) string {
	m := mismatchOp.FindStringSubmatch(msg)
	text := c.f.Source.Text
	if m == nil || end > len(text) || end < len(m[1]) || text[end-len(m[1]):end] != m[1] {
		return ""
	}
	left := operandBefore(text, end-len(m[1]))
	right := operandAfter(text, end)
	if left == "" || right == "" {
		return ""
	}
	src := left + " " + m[1] + " " + right
	if _, _, advice, ok := runtime.WrongOperand(src, msg, utf8.RuneCountInString(left)+1); ok {
		return advice
	}
	return ""
}

func isNameRune(r rune) bool {
	return r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// operandBefore is the operand ending just before byte i of text (spaces
// skipped): a name or field path (contact.name), a number, a call
// (len(body), with balanced brackets) or a quoted string; "" if none.
func operandBefore(text string, i int) string {
	j := i
	for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	end := j
	if j > 0 && (text[j-1] == '"' || text[j-1] == '\'') {
		q := text[j-1]
		k := strings.LastIndexByte(text[:j-1], q)
		if k < 0 || strings.ContainsAny(text[k:j], "\n\\") {
			return ""
		}
		return text[k:j]
	}
	if j > 0 && text[j-1] == ')' {
		depth := 0
		for j > 0 {
			j--
			switch text[j] {
			case ')':
				depth++
			case '(':
				depth--
			case '\n', '"', '\'':
				return "" // strings inside a call: not worth the scanning
			}
			if depth == 0 {
				break
			}
		}
		if depth != 0 {
			return ""
		}
	}
	for j > 0 {
		r, n := utf8.DecodeLastRuneInString(text[:j])
		if !isNameRune(r) {
			break
		}
		j -= n
	}
	if j == end || text[j] == '(' {
		return ""
	}
	return text[j:end]
}

// operandAfter is the operand starting after byte i of text (spaces
// skipped), read as operandBefore reads one.
func operandAfter(text string, i int) string {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	start := i
	if i < len(text) && (text[i] == '"' || text[i] == '\'') {
		k := strings.IndexByte(text[i+1:], text[i])
		if k < 0 || strings.ContainsAny(text[i:i+1+k], "\n\\") {
			return ""
		}
		return text[i : i+2+k]
	}
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isNameRune(r) {
			break
		}
		i += n
	}
	if i == start {
		return ""
	}
	if i < len(text) && text[i] == '(' {
		depth := 0
		for ; i < len(text); i++ {
			switch text[i] {
			case '(':
				depth++
			case ')':
				depth--
			case '\n', '"', '\'':
				return ""
			}
			if depth == 0 {
				return text[start : i+1]
			}
		}
		return ""
	}
	return text[start:i]
}
