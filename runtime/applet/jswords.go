package applet

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxMessage rewrites a message of goja's parser about src at the
// 1-based line and col into words that say what was found: goja's
// "Unexpected reserved word" does not say which word. A message without
// a rule is kept. The position is not changed.
func SyntaxMessage(msg, src string, line, col int) string {
	found := tokenAt(src, line, col)
	quoted := "`" + found + "`"
	switch {
	case msg == "Unexpected reserved word" && found != "":
		return quoted + " is a reserved word in JavaScript and cannot be used as a name"
	case msg == "Unexpected end of input":
		return "the file ends too early: a closing `}`, `)`, `]` or quote is missing"
	case msg == "Unexpected identifier" && found != "":
		return "unexpected name " + quoted + ": an operator, `,` or `;` is probably missing before it"
	case msg == "Unexpected number" && found != "":
		return "unexpected number " + quoted
	case msg == "Unexpected string":
		return "unexpected string: an operator, `,` or `;` is probably missing before it"
	case msg == "Unexpected token ILLEGAL" && found != "":
		return quoted + " cannot appear here in JavaScript"
	case strings.HasPrefix(msg, "Unexpected token "):
		return "unexpected `" + strings.TrimPrefix(msg, "Unexpected token ") + "`"
	case msg == "Invalid left-hand side in assignment":
		return "cannot assign to this: the left of `=` must be a variable or a property (to compare, write `===`)"
	case msg == "Illegal return statement":
		return "`return` outside a function: a top-level statement cannot return"
	case msg == "Illegal break statement":
		return "`break` outside a loop or switch"
	case msg == "Illegal continue statement":
		return "`continue` outside a loop"
	case msg == "Missing catch or finally after try":
		return "`try` needs a `catch` or `finally` block"
	case msg == "Invalid regular expression: missing /":
		return "unterminated regular expression: the closing `/` is missing"
	}
	return msg
}

// tokenAt is the word (a name or number) or the character at line:col
// of src, "" past the end.
func tokenAt(src string, line, col int) string {
	if line < 1 || col < 1 {
		return ""
	}
	lines := strings.SplitN(src, "\n", line+1)
	if len(lines) < line {
		return ""
	}
	text := lines[line-1]
	// goja's column counts characters (runes) from 1.
	off := 0
	for i := 1; i < col && off < len(text); i++ {
		_, n := utf8.DecodeRuneInString(text[off:])
		off += n
	}
	rest := text[off:]
	if rest == "" {
		return ""
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '$') })
	switch {
	case end < 0:
		return rest
	case end > 0:
		return rest[:end]
	}
	_, n := utf8.DecodeRuneInString(rest)
	return rest[:n]
}
