package runtime

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
)

// This file turns expr-lang's messages into flowc's words. expr names Go
// types (*string, map[string]interface {}, runtime.Contact) and its own
// tokens (Operator("=")); a flow author knows strings, numbers, lists and
// maps. Each rule is one message format found in expr-lang's sources
// (checker, parser, lexer, vm); a message no rule matches keeps expr's
// text with its type names translated. Positions are not touched: the
// caller keeps expr's From/To.

// goTypeWords maps the Go type names expr prints to flowc's. Longest
// first: a replacement must not see a part of a longer name.
var goTypeWords = strings.NewReplacer(
	"map[string]interface {}", "map",
	"[]runtime.Interaction", "list",
	"*runtime.Interaction", "interaction",
	"runtime.Interaction", "interaction",
	"*runtime.Campaign", "campaign",
	"runtime.Campaign", "campaign",
	"runtime.Number", "number settings",
	"map[string]bool", "list",
	"map[string]*string", "map",
	"map[string]string", "map",
	"map[string]any", "map",
	"[]interface {}", "list",
	"[]string", "list",
	"[]any", "list",
	"*runtime.Env", "the message",
	"runtime.Env", "the message",
	"runtime.Contact", "contact",
	"runtime.Message", "message",
	"*string", "string",
	"time.Time", "time",
	"time.Duration", "duration",
	"interface {}", "any",
	"<nil>", "nil",
)

// goTypeNames are the Go types expr's %T prints for a flow's values.
var goTypeNames = map[string]bool{
	"string": true, "bool": true, "int": true, "float64": true, "<nil>": true, "*string": true,
	"[]interface {}": true, "[]string": true, "map[string]interface {}": true, "map[string]*string": true,
	"time.Time": true, "time.Duration": true, "runtime.Contact": true, "runtime.Message": true,
	"map[string]bool": true, "runtime.Interaction": true, "*runtime.Interaction": true, "*runtime.Campaign": true,
}

// numberWords: expr's numeric types are all a flow's number.
var numberWords = regexp.MustCompile(`\b(?:int|int8|int16|int32|int64|uint|uint8|uint16|uint32|uint64|float32|float64)\b`)

// TypeName names a type expr printed as flowc does: string, number,
// bool, list, map, time, duration, nil.
func TypeName(goName string) string {
	return numberWords.ReplaceAllString(goTypeWords.Replace(strings.TrimSpace(goName)), "number")
}

// aType is "a string", "a list", "nil (unset)".
func aType(goName string) string {
	t := TypeName(goName)
	switch t {
	case "nil":
		return "nil (unset)"
	case "any":
		return "any value"
	case "the message", "contact", "message", "number settings":
		return t
	case "interaction":
		return "an interaction"
	}
	return "a " + t
}

// tokenWords names what expr's parser found: Operator("=") is `=`.
var tokenRE = regexp.MustCompile(`^(Operator|Bracket|Identifier|Number|String|Interpolation)\("((?:[^"\\]|\\.)*)"\)$`)

func tokenWords(tok string) string {
	if tok == "EOF" {
		return "the end of the expression"
	}
	m := tokenRE.FindStringSubmatch(tok)
	if m == nil {
		return tok
	}
	switch m[1] {
	case "Identifier":
		return "name `" + m[2] + "`"
	case "Number":
		return "number " + m[2]
	case "String":
		return "string"
	}
	return "`" + m[2] + "`"
}

type exprRule struct {
	re      *regexp.Regexp
	rewrite func(m []string) string
}

func rule(pattern string, rewrite func(m []string) string) exprRule {
	return exprRule{regexp.MustCompile(`^` + pattern + `$`), rewrite}
}

// compileRules: expr's parser, lexer and checker messages.
var compileRules = []exprRule{
	rule(`unexpected token Operator\("="\)`, func([]string) string {
		return "unexpected `=`: to compare, write `==`"
	}),
	rule(`unexpected token EOF`, func([]string) string {
		return "the expression ends too early: an operand or a closing bracket is missing"
	}),
	rule(`unexpected token (.+)`, func(m []string) string { return "unexpected " + tokenWords(m[1]) }),
	rule(`expected (.+), but got (.+)`, func(m []string) string {
		if m[1] == "bool" {
			return "a condition must be true or false (bool), but this is " + aType(m[2])
		}
		return "expected " + aType(m[1]) + ", but this is " + aType(m[2])
	}),
	rule(`invalid operation: (\S+) \(mismatched types (.+) and (.+)\)`, func(m []string) string {
		return fmt.Sprintf("cannot use `%s` between %s and %s", m[1], aType(m[2]), aType(m[3]))
	}),
	rule(`invalid operation: (\S+) \(mismatched type (.+)\)`, func(m []string) string {
		return fmt.Sprintf("cannot use `%s` on %s", m[1], aType(m[2]))
	}),
	rule(`type (.+) has no field (.+)`, func(m []string) string {
		return fmt.Sprintf("%s has no field %s", aType(m[1]), m[2])
	}),
	rule(`type (.+) has no method (.+)`, func(m []string) string {
		return fmt.Sprintf("%s has no function %s", aType(m[1]), m[2])
	}),
	rule(`cannot use (.+) as argument \(type (.+)\) to call (\S+)\s*`, func(m []string) string {
		return fmt.Sprintf("%s() needs %s here, not %s", m[3], aType(m[2]), aType(m[1]))
	}),
	rule(`invalid argument for len \(type (.+)\)`, func(m []string) string {
		return "len() needs a string, list or map, not " + aType(m[1])
	}),
	rule(`invalid number of arguments \(expected (\d+), got (\d+)\)`, func(m []string) string {
		return fmt.Sprintf("wrong number of arguments: this function takes %s, not %s", m[1], m[2])
	}),
	rule(`too many arguments to call (\S+)`, func(m []string) string { return "too many arguments to " + m[1] + "()" }),
	rule(`not enough arguments to call (\S+)`, func(m []string) string { return "not enough arguments to " + m[1] + "()" }),
	rule(`(.+) is not callable`, func(m []string) string { return aType(m[1]) + " is not a function" }),
	rule(`literal not terminated`, func([]string) string { return "unterminated string: the closing quote is missing" }),
	rule(`unrecognized character: U\+[0-9A-F]+ '(.+)'`, func(m []string) string {
		if strings.ContainsAny(m[1], "‘’‚‛“”„‟′″") {
			// Pasted from a word processor or a chat app.
			return "`" + m[1] + "` is a curly quote: strings in an expression take straight quotes, ' or \""
		}
		return "`" + m[1] + "` cannot appear in an expression"
	}),
	rule(`(.+) is not a predicate`, func(m []string) string { return m[1] + " is not a condition" }),
}

// CompileMessage rewrites a message of expr's compiler (parser, lexer
// or type checker) into flowc's words.
func CompileMessage(msg string) string {
	return rewrite(compileRules, msg)
}

func rewrite(rules []exprRule, msg string) string {
	msg = strings.ReplaceAll(msg, internalPrefix, "") // name checked builtins as written
	for _, r := range rules {
		if m := r.re.FindStringSubmatch(msg); m != nil {
			return r.rewrite(m)
		}
	}
	// Only Go's spelled-out type names: a bare "int" may be the
	// author's own text (hours("int")).
	return goTypeWords.Replace(msg)
}

// evalRules: the run-time messages of expr's vm and runtime package.
var evalRules = []exprRule{
	rule(`invalid operation: int\(\)`, func([]string) string { return "int() cannot convert this value to a number" }),
	// int(x) and float(x) print x's Go type, or the string that is not a
	// number.
	rule(`invalid operation: (int|float)\((.*)\)`, func(m []string) string {
		if goTypeNames[m[2]] {
			return m[1] + "() needs a number or a string of digits, not " + aType(m[2])
		}
		v := m[2]
		if utf8.RuneCountInString(v) > 40 {
			v = string([]rune(v)[:40]) + "…"
		}
		return fmt.Sprintf("%s() cannot read %q as a number", m[1], v)
	}),
	rule(`invalid operation: (.+) (\S+) (.+)`, func(m []string) string {
		return fmt.Sprintf("cannot use `%s` between %s and %s", m[2], aType(m[1]), aType(m[3]))
	}),
	rule(`cannot fetch (.+) from (.+)`, func(m []string) string {
		return fmt.Sprintf("cannot read %s of %s", m[1], aType(m[2]))
	}),
	rule(`invalid argument for len \(type (.+)\)`, func(m []string) string {
		return "len() needs a string, list or map, not " + aType(m[1])
	}),
	rule(`index out of range: (-?\d+) \(array length is (\d+)\)`, func(m []string) string {
		return fmt.Sprintf("index %s is out of range: the list's length is %s", m[1], m[2])
	}),
	rule(`interface conversion: interface \{\} is (.+), not (.+)`, func(m []string) string {
		return fmt.Sprintf("expected %s, but this is %s", aType(m[2]), aType(m[1]))
	}),
	rule(`reflect: call of reflect\.Value\.\w+ on zero Value`, func([]string) string {
		return "a list function got nil (unset) where it needs a list"
	}),
}

// EvalMessage rewrites a run-time message of expr's vm into flowc's words.
func EvalMessage(msg string) string {
	return rewrite(evalRules, msg)
}

// mismatchRE is flowc's wording of a binary operator used between two
// types (compileRules and evalRules above).
var mismatchRE = regexp.MustCompile("^cannot use `(\\S+)` between (a string|a number) and (a string|a number)$")

// WrongOperand reads a type error of a binary operator between a string
// and a number, msg in flowc's words, which expr locates at the operator
// (rune offset from in expression src), and decides which operand is the
// mistake and what to write instead. A literal's type is what its author
// meant; a name's type is a fact of the message:
//
//   - an order or arithmetic (<, >=, -, *, …) on a name that is a string:
//     the name, meant as its length or as the number it spells
//     (`body > 100`: len(body) or int(body)); on a string literal, the
//     literal, meant without its quotes;
//   - `==`/`!=`: the literal, whose type does not match the name's
//     (`body == 1`: "1"; `message.segments == "2"`: 2);
//   - `+`: the number, to be joined as text (`"Order " + n`: string(n)),
//     unless it is a literal added to a name that is a string (`body +
//     1`: int(body)).
//
// It returns the operand's rune range in src, and advice naming it. ok is
// false when msg is not such an error or src has no operator at from.
func WrongOperand(src, msg string, from int) (opFrom, opTo int, advice string, ok bool) {
	m := mismatchRE.FindStringSubmatch(msg)
	if m == nil || m[2] == m[3] {
		return 0, 0, "", false
	}
	tree, err := exprparser.Parse(src)
	if err != nil {
		return 0, 0, "", false
	}
	v := &binaryAt{op: m[1], from: from}
	ast.Walk(&tree.Node, v)
	if v.found == nil {
		return 0, 0, "", false
	}
	str, num := v.found.Left, v.found.Right
	if m[2] != "a string" {
		str, num = num, str
	}
	runes := []rune(src)
	textOf := func(n ast.Node) (from, to int, text string, ok bool) {
		from, to = nodeRange(n)
		if from < 0 || to > len(runes) || from >= to {
			return 0, 0, "", false
		}
		to = closeBrackets(runes, from, to)
		text = strings.TrimSpace(string(runes[from:to]))
		if utf8.RuneCountInString(text) > 40 {
			text = "…"
		}
		return from, to, text, true
	}
	strLit, numLit := isValueLiteral(str), isValueLiteral(num)
	wrong := str
	switch m[1] {
	case "==", "!=":
		if numLit || !strLit {
			wrong = num
		}
	case "+":
		if strLit || !numLit {
			wrong = num
		}
	}
	opFrom, opTo, text, ok := textOf(wrong)
	if !ok {
		return 0, 0, "", false
	}
	otherNode := str
	if wrong == str {
		otherNode = num
	}
	_, _, other, _ := textOf(otherNode)
	switch {
	case wrong == num && (m[1] == "==" || m[1] == "!="):
		if numLit {
			advice = fmt.Sprintf("`%s` is text: compare it with the text %q", other, text)
		} else {
			advice = fmt.Sprintf("`%s` is text: compare it with text, string(%s)", other, text)
		}
	case wrong == num:
		advice = fmt.Sprintf("join text and a number with string(…): string(%s)", text)
	case strLit:
		advice = fmt.Sprintf("`%s` is a number: write the number without quotes", other)
		if s, ok := str.(*ast.StringNode); ok && isDecimal(s.Value) {
			advice = fmt.Sprintf("`%s` is a number: write %s, without quotes", other, s.Value)
		}
	case m[1] == "<" || m[1] == ">" || m[1] == "<=" || m[1] == ">=":
		advice = fmt.Sprintf("`%s` is text: compare its length, len(%s), or the number it spells, int(%s)", text, text, text)
	default:
		advice = fmt.Sprintf("`%s` is text: read it as a number with int(%s)", text, text)
	}
	return opFrom, opTo, advice, true
}

// isValueLiteral reports a number or string written as such.
func isValueLiteral(n ast.Node) bool {
	switch n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.StringNode:
		return true
	}
	return false
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot && i > 0:
			dot = true
		case r == '-' && i == 0 && len(s) > 1:
		default:
			return false
		}
	}
	return true
}

// closeBrackets extends the rune range [from, to) of src past the
// closing brackets of the brackets it opens: a call's location ends
// before its `)`. Quotes are skipped over.
func closeBrackets(src []rune, from, to int) int {
	depth := 0
	for i := from; i < len(src); i++ {
		if i >= to && depth == 0 {
			return i
		}
		switch c := src[i]; c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth == 0 {
				return max(i, to)
			}
			depth--
		case '"', '\'', '`':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' && c != '`' {
					i++
				}
			}
		}
	}
	return len(src)
}

// binaryAt finds the binary node of operator op located at rune offset from.
type binaryAt struct {
	op    string
	from  int
	found *ast.BinaryNode
}

func (v *binaryAt) Visit(n *ast.Node) {
	if b, ok := (*n).(*ast.BinaryNode); ok && v.found == nil && b.Operator == v.op && b.Location().From == v.from {
		v.found = b
	}
}

// nodeRange is the rune range of the source a subtree was parsed from:
// from the first of its nodes' locations to the last. Brackets around
// it are not counted (expr keeps no node for them).
func nodeRange(n ast.Node) (from, to int) {
	r := &rangeVisitor{from: -1}
	ast.Walk(&n, r)
	return r.from, r.to
}

type rangeVisitor struct{ from, to int }

func (r *rangeVisitor) Visit(n *ast.Node) {
	loc := (*n).Location()
	if loc.From == 0 && loc.To == 0 {
		if _, isNil := (*n).(*ast.NilNode); !isNil {
			return // a node the parser made up, without a place
		}
	}
	if r.from < 0 || loc.From < r.from {
		r.from = loc.From
	}
	if loc.To > r.to {
		r.to = loc.To
	}
}
