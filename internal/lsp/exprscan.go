package lsp

import (
	"strings"

	"github.com/flowc-dev/flowc/lang/schedule"
)

// exprWord is an identifier of an expr-lang expression, or the name
// inside hours("NAME").
type exprWord struct {
	start, end int // byte offsets in the expression text
	text       string
	field      bool // after a dot: contact.name's "name"
	varsField  bool // vars.NAME: a flow variable read through vars
	call       bool // followed by '(': a function
	schedule   bool // the string argument of hours() naming a schedule
	spec       bool // the string argument of hours() that is a spec ("mon-fri 9-17")
}

// exprOperators are expr-lang's word operators and literals, never names.
var exprOperators = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "matches": true, "contains": true,
	"startsWith": true, "endsWith": true, "true": true, "false": true, "nil": true, "let": true,
}

// exprWords scans expression text for names. It is a scanner, not a
// parser: it skips string literals and needs no valid expression, so
// that it works on the half-typed text an editor has.
func exprWords(text string) []exprWord {
	var out []exprWord
	isStart := func(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isPart := func(c byte) bool { return isStart(c) || c >= '0' && c <= '9' }
	prevNonSpace := func(i int) int {
		for i--; i >= 0 && (text[i] == ' ' || text[i] == '\t'); i-- {
		}
		return i
	}
	nextNonSpace := func(i int) int {
		for ; i < len(text) && (text[i] == ' ' || text[i] == '\t'); i++ {
		}
		return i
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(text) && text[j] != c {
				if text[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			end := min(j+1, len(text))
			// hours("NAME"): the argument names a schedule.
			if p := prevNonSpace(i); p >= 0 && text[p] == '(' && j < len(text) {
				if q := prevNonSpace(p); q >= 4 && text[q-4:q+1] == "hours" && (q < 5 || !isPart(text[q-5])) {
					if n := nextNonSpace(end); n < len(text) && text[n] == ')' {
						w := exprWord{start: i + 1, end: j, text: text[i+1 : j], schedule: schedule.IsName(text[i+1 : j])}
						w.spec = !w.schedule && !strings.Contains(w.text, `\`)
						out = append(out, w)
					}
				}
			}
			i = end
		case isStart(c) && (i == 0 || !isPart(text[i-1])):
			j := i
			for j < len(text) && isPart(text[j]) {
				j++
			}
			w := exprWord{start: i, end: j, text: text[i:j]}
			if p := prevNonSpace(i); p >= 0 && text[p] == '.' && (p == 0 || text[p-1] != '.') {
				w.field = true
				if p >= 4 && text[p-4:p] == "vars" && (p == 4 || !isPart(text[p-5])) {
					w.varsField = true
				}
			}
			if n := nextNonSpace(j); n < len(text) && text[n] == '(' {
				w.call = true
			}
			if !exprOperators[w.text] {
				out = append(out, w)
			}
			i = j
		default:
			i++
		}
	}
	return out
}
