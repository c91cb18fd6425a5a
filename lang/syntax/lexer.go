package syntax

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// Token types. The lexer is hand-written because the language is
// context-sensitive in two places that a regular lexer cannot express:
// a `when` condition is raw expr-lang text running to the first `<`
// outside parentheses, brackets and strings, and `set NAME =` takes the
// rest of the line as an expression. Everything else is ordinary tokens,
// which participle then parses.
const (
	EOF      lexer.TokenType = lexer.EOF
	Ident    lexer.TokenType = iota + 1 // sales, round-robin
	Keyword                             // when else then set section and the header words
	Kind                                // "team:" in team:sales (the colon is part of the token)
	String                              // "..." with Go escapes; Value keeps the quotes
	Number                              // 42
	Duration                            // 10m, 1h30m
	Cond                                // raw condition text after `when`
	Expr                                // raw expression text after `set NAME =`
	Parens                              // raw "( ... )" text: applet call arguments
	Punct                               // < > -> , =
	NL                                  // end of a statement: newline or ';'
	Bad                                 // text the lexer or the parser's recovery gave up on
)

var tokenNames = map[lexer.TokenType]string{
	EOF: "EOF", Ident: "Ident", Keyword: "Keyword", Kind: "Kind", String: "String",
	Number: "Number", Duration: "Duration", Cond: "Cond", Expr: "Expr", Parens: "Parens",
	Punct: "Punct", NL: "NL", Bad: "Bad",
}

// keywords cannot be applet names or bare argument values.
var keywords = map[string]bool{
	"when": true, "else": true, "then": true, "set": true, "section": true,
	"flow": true, "numbers": true, "timezone": true, "schedule": true,
	"holidays": true, "applet": true, "help": true, "hosts": true, "channel": true,
}

// HeaderKeywords are the keywords that start a header line.
var HeaderKeywords = []string{"flow", "numbers", "timezone", "schedule", "holidays", "applet", "help", "hosts", "channel"}

// Comment is a `#` comment, kept aside from the token stream so the
// formatter can put it back.
type Comment struct {
	Offset int
	Text   string // including the leading '#', without the newline
	Inline bool   // code precedes it on its line
}

type definition struct{}

func (definition) Symbols() map[string]lexer.TokenType {
	m := make(map[string]lexer.TokenType, len(tokenNames))
	for t, n := range tokenNames {
		m[n] = t
	}
	return m
}

// Lex is unused: Parse hands participle a pre-lexed, normalised slice.
func (definition) Lex(string, io.Reader) (lexer.Lexer, error) {
	return nil, fmt.Errorf("flowc: use syntax.Parse")
}

// sliceLexer feeds participle a token slice.
type sliceLexer struct {
	toks []lexer.Token
	i    int
	eof  lexer.Token
}

func (l *sliceLexer) Next() (lexer.Token, error) {
	if l.i >= len(l.toks) {
		return l.eof, nil
	}
	t := l.toks[l.i]
	l.i++
	return t, nil
}

type scanner struct {
	src      *file.Source
	text     string
	pos      int
	toks     []lexer.Token
	comments []Comment
	diags    diag.List
	badToks  map[int]bool // offsets of Bad tokens already diagnosed
	lineHas  bool         // a token precedes pos on this line
	setState int          // 1 after `set` at statement start, 2 after its name
	// Mistakes (mistakes.go): a pasted JSON document was looked for and
	// not found; `{` blocks open; the brace habit already reported.
	jsonTried     bool
	braces        int
	braceReported bool
	strayLine     int // 1 + the offset of the line of the last stray characters reported
	// Layout mistakes (layout.go): the indentation of the lines that
	// opened Python-style blocks; the colon habit reported; the keywords
	// written in capitals (the diagnostic's index and its fix's edits);
	// the end of a word being lexed again in lower case.
	pyIndent   []int
	pyReported bool
	capsAt     int
	capsFix    []diag.Edit
	lowered    int
}

// lex turns source text into normalised tokens plus comments.
func lex(src *file.Source) ([]lexer.Token, []Comment, diag.List, map[int]bool) {
	// About one token per 5 bytes in typical flows: sized up front, the
	// token slice (64-byte tokens) is not copied over and over as it grows.
	s := &scanner{src: src, text: src.Text, badToks: map[int]bool{}, toks: make([]lexer.Token, 0, len(src.Text)/5+16), capsAt: -1}
	s.run()
	s.closePython(len(s.text))
	s.capsDone()
	return normalise(s.toks, s.src), s.comments, s.diags, s.badToks
}

func (s *scanner) emit(t lexer.TokenType, start int, value string) {
	p := s.src.Pos(start)
	s.toks = append(s.toks, lexer.Token{Type: t, Value: value, Pos: lexer.Position{
		Filename: s.src.Name, Offset: start, Line: p.Line, Column: p.Column}})
	if t != NL {
		s.lineHas = true
	}
}

func (s *scanner) errorf(start, end int, code, format string, args ...any) *diag.Diagnostic {
	return s.diags.Errorf(s.src.Span(start, end), code, format, args...)
}

// atStatementStart reports whether the next token begins a statement,
// which is where `when` and `set` switch the lexer into raw mode.
func (s *scanner) atStatementStart() bool {
	if len(s.toks) == 0 {
		return true
	}
	last := s.toks[len(s.toks)-1]
	switch last.Type {
	case NL:
		return true
	case Punct:
		return last.Value == "<" || last.Value == "->"
	case Keyword:
		return last.Value == "then" || last.Value == "else"
	}
	return false
}

func (s *scanner) run() {
	for s.pos < len(s.text) {
		c := s.text[s.pos]
		start := s.pos
		switch {
		case c == '\n':
			if s.atNewline(start) {
				s.pos++
				continue
			}
			code := s.lineHas
			s.emit(NL, start, "\n")
			s.pos++
			s.lineHas = false
			if code { // (not at each blank line: each would look ahead again)
				s.closePython(start)
			}
		case c == ' ' || c == '\t' || c == '\r':
			s.pos++
		case s.setState == 2 && !strings.ContainsRune("\n;#=", rune(c)):
			s.missingSetEq(start)
		case c == '#':
			end := strings.IndexByte(s.text[s.pos:], '\n')
			if end < 0 {
				end = len(s.text) - s.pos
			}
			text := strings.TrimRight(s.text[s.pos:s.pos+end], " \t\r")
			s.comments = append(s.comments, Comment{Offset: start, Text: text, Inline: s.lineHas})
			s.pos += end
		case c == ';':
			s.emit(NL, start, ";")
			s.pos++
		case c == '"':
			s.lexString()
		case c == '(':
			r := s.scanRaw(s.pos, true)
			if !r.ok {
				s.rawProblem(start, r)
			} else {
				s.emit(Parens, start, s.text[start:r.end])
				s.pos = r.end
			}
		case c == '=' && strings.HasPrefix(s.text[s.pos:], "=>"):
			// `=>` from JavaScript or PHP: read as the "->" meant, so the
			// '>' does not close a block.
			d := s.errorf(start, start+2, "flow/parse", `a branch's arrow is "->", not "=>"`)
			d.Hint = `write "->" between a branch's label and what it does`
			d.Fixes = []diag.Fix{{Title: `replace "=>" with "->"`, Edits: []diag.Edit{{Span: s.src.Span(start, start+2), New: "->"}}}}
			s.emit(Punct, start, "->")
			s.pos += 2
		case c == '<' || c == '>' || c == ',' || c == '=':
			s.emit(Punct, start, string(c))
			s.pos++
			if c == '=' && s.setState == 2 {
				s.setState = 0
				s.lexRawToEOL()
			}
		case c == '-' && strings.HasPrefix(s.text[s.pos:], "->"):
			s.emit(Punct, start, "->")
			s.pos += 2
		case c >= '0' && c <= '9':
			s.lexNumber()
		case isIdentStart(c):
			s.lexWord()
		default:
			s.stray(start)
		}
	}
}

func (s *scanner) bad(start, end int) {
	s.badToks[start] = true
	s.emit(Bad, start, s.text[start:end])
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

func (s *scanner) lexWord() {
	start := s.pos
	for s.pos < len(s.text) {
		c := s.text[s.pos]
		// A hyphen joins words (round-robin, least-busy) but not "->".
		if isIdentChar(c) || c == '-' && s.pos+1 < len(s.text) && isIdentChar(s.text[s.pos+1]) {
			s.pos++
			continue
		}
		break
	}
	word := s.text[start:s.pos]
	if start+len(word) == s.lowered {
		word = strings.ToLower(word) // a keyword in capitals, reported
	}
	if s.wordMistake(start, word, s.atStatementStart()) {
		return
	}
	if s.pos == start {
		s.lexWord() // again, as the keyword in lower case
		return
	}
	if s.pos < len(s.text) && (s.text[s.pos] == '@' || strings.HasPrefix(s.text[s.pos:], "://")) && s.unquotedAddress(start, false) {
		return
	}
	if s.pos < len(s.text) && s.text[s.pos] == ':' {
		s.pos++
		s.emit(Kind, start, s.text[start:s.pos])
		if s.pos < len(s.text) && s.text[s.pos] != '"' {
			s.unquotedAddress(s.pos, true)
		}
		return
	}
	stmtStart := s.atStatementStart()
	if (word == "if" || word == "elif" || word == "elsif") && stmtStart {
		s.emit(Ident, start, word)
		s.notIf(start, word)
		return
	}
	if keywords[word] {
		s.emit(Keyword, start, word)
	} else {
		s.emit(Ident, start, word)
	}
	switch {
	case word == "when" && stmtStart:
		s.lexCondition(start)
	case word == "set" && stmtStart:
		s.setState = 1
	case s.setState == 1:
		s.setState = 2
	default:
		s.setState = 0
	}
}

func (s *scanner) lexNumber() {
	start := s.pos
	for s.pos < len(s.text) && isIdentChar(s.text[s.pos]) {
		s.pos++
	}
	word := s.text[start:s.pos]
	for _, r := range word {
		if !unicode.IsDigit(r) {
			s.emit(Duration, start, word)
			return
		}
	}
	if s.spacedDuration(start) || s.unitless(start) {
		return
	}
	s.emit(Number, start, word)
}

func (s *scanner) lexString() {
	start := s.pos
	i := s.pos + 1
	var inner []int // the double quotes read as single (quotesInTemplate)
	for i < len(s.text) {
		switch s.text[i] {
		case '\\':
			i += 2
			continue
		case '"':
			if j := s.quotesInTemplate(start, i); j >= 0 {
				inner = append(inner, i, j)
				i = j + 1
				continue
			}
			if j := s.earlyQuote(start, i); j >= 0 && len(inner) == 0 {
				// The inner quotes read as ' (the error is reported): a
				// token's text keeps its source's length, since spans
				// are measured from it (escaping them made the token
				// longer than the text: a span past the end of the file).
				s.emit(String, start, `"`+strings.ReplaceAll(s.text[start+1:j], `"`, `'`)+`"`)
				s.pos = j + 1
				return
			}
			value := s.text[start : i+1]
			if len(inner) > 0 {
				b := []byte(value)
				for _, q := range inner {
					b[q-start] = '\''
				}
				value = string(b)
			}
			s.emit(String, start, value)
			s.pos = i + 1
			return
		case '\n':
			i = len(s.text) + 1 // unterminated
			continue
		}
		i++
	}
	end := strings.IndexByte(s.text[start:], '\n')
	if end < 0 {
		end = len(s.text)
	} else {
		end += start
	}
	s.errorf(start, end, "flow/parse", "unterminated string").Hint = `close the string with " on the same line`
	s.bad(start, end)
	s.pos = end
}

// rawScan is where a scan of expr-lang text stopped and, when it
// stopped on a problem, what the problem is and where.
type rawScan struct {
	end       int  // where the scan stopped
	ok        bool // it stopped where it should
	problem   string
	at, atEnd int // the problem's range
}

// scanRaw scans expr-lang text starting at i. With parens set it expects
// text[i] == '(' and stops after the matching ')'; otherwise it stops
// before the first '<' (for a condition) outside brackets and strings, or
// at a newline or comment at depth 0 (not ok, but no problem: the caller
// knows what was missing). Inside brackets, newlines and '#' (expr-lang's
// closure argument) are part of the text. An unterminated string, an
// unmatched closing bracket or a bracket still open at the end of the
// file is a problem.
func (s *scanner) scanRaw(i int, parens bool) rawScan {
	var opens []int // offsets of the open brackets
	for i < len(s.text) {
		c := s.text[i]
		switch c {
		case '(', '[', '{':
			opens = append(opens, i)
		case ')', ']', '}':
			if len(opens) == 0 {
				return rawScan{end: i, problem: fmt.Sprintf("unexpected %q", c), at: i, atEnd: i + 1}
			}
			opens = opens[:len(opens)-1]
			if parens && len(opens) == 0 {
				return rawScan{end: i + 1, ok: true}
			}
		case '"', '\'', '`':
			j := i + 1
			for j < len(s.text) && s.text[j] != c && !(c != '`' && s.text[j] == '\n') {
				if s.text[j] == '\\' && c != '`' && j+1 < len(s.text) && s.text[j+1] != '\n' {
					j++
				}
				j++
			}
			if j >= len(s.text) || s.text[j] != c {
				if len(opens) > 0 && strings.Contains(s.text[opens[0]:i], "\n") {
					// A bracket left open on an earlier line ran into
					// this string: the bracket is the likelier mistake.
					return unclosedBracket(s.text, opens[0], i)
				}
				return rawScan{end: min(j, len(s.text)), problem: "unterminated string", at: i, atEnd: min(j, len(s.text))}
			}
			i = j
		case '<':
			if !parens && len(opens) == 0 {
				return rawScan{end: i, ok: true}
			}
		case '\n', '#':
			if len(opens) == 0 {
				return rawScan{end: i}
			}
		}
		i++
	}
	if len(opens) > 0 {
		return unclosedBracket(s.text, opens[0], i)
	}
	return rawScan{end: i}
}

// unclosedBracket is the problem of the bracket at text[at] never closed.
func unclosedBracket(text string, at, end int) rawScan {
	msg := "unclosed parenthesis"
	if c := text[at]; c != '(' {
		msg = fmt.Sprintf("unclosed %q", c)
	}
	return rawScan{end: end, problem: msg, at: at, atEnd: at + 1}
}

// rawProblem reports a problem scanRaw found in raw text starting at
// start, and makes the text up to the end of the problem's line one Bad
// token, so that an unclosed parenthesis costs one line, not the rest of
// the file.
func (s *scanner) rawProblem(start int, r rawScan) {
	cut := s.lineEnd(r.at)
	d := s.errorf(r.at, r.atEnd, "flow/parse", "%s", r.problem)
	switch r.problem {
	case "unterminated string":
		d.Hint = "close the string on the same line"
	case "unclosed parenthesis":
		d.Hint = "add the missing ')'"
	}
	s.bad(start, cut)
	s.pos = cut
}

// lineEnd is the offset of the newline ending the line holding off (or
// the end of the text).
func (s *scanner) lineEnd(off int) int {
	if i := strings.IndexByte(s.text[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(s.text)
}

// lexCondition takes the raw condition after `when`.
func (s *scanner) lexCondition(whenStart int) {
	kwEnd := s.pos // after `when` (or the `if` read as it)
	i := s.pos
	for i < len(s.text) && (s.text[i] == ' ' || s.text[i] == '\t') {
		i++
	}
	if s.braceBlock(i) {
		return
	}
	r := s.scanRaw(i, false)
	if r.problem != "" {
		s.rawProblem(i, r)
		return
	}
	end, ok := r.end, r.ok
	if ok {
		end = s.comparison(i, end)
	}
	text := strings.TrimRight(s.text[i:end], " \t\r")
	if colon := i + len(text) - 1; !ok && strings.HasSuffix(text, ":") && len(text) > 1 && s.indentedNext(whenStart) {
		// Python's `when x:` with the block indented below.
		s.emit(Cond, i, strings.TrimRight(text[:len(text)-1], " \t"))
		s.pythonOpen(colon)
		s.pos = colon + 1
		return
	}
	if text == "" {
		s.errorf(whenStart, kwEnd, "flow/parse", "missing condition after when")
		s.bad(whenStart, kwEnd)
	} else {
		s.emit(Cond, i, text)
	}
	s.pos = end
	if !ok && text != "" {
		// Reported where the "<" is missing: past the condition (at a
		// colon written for it).
		at, atEnd := i+len(text), i+len(text)
		if strings.HasSuffix(text, ":") {
			at--
		}
		d := s.errorf(at, atEnd, "flow/parse", "expected '<' to open the block after the condition")
		d.Hint = "a condition runs from `when` to the first `<` outside parentheses, brackets and strings, on the same line"
		if s.indentedNext(whenStart) && at == atEnd {
			d.Hint = "open the block with \"<\" at the end of the condition: when CONDITION <"
			d.Fixes = []diag.Fix{s.replaceFix(`insert "<"`, at, at, " <")}
		}
		s.badToks[i] = true
		s.toks[len(s.toks)-1].Type = Bad
		if s.indentedNext(whenStart) {
			// The lines below are indented: the block is there, only its
			// "<" is missing. Opening it keeps its ">" (and an else
			// after it) from being reported as well.
			lt := lexer.Token{Type: Punct, Value: "<", Pos: s.toks[len(s.toks)-1].Pos}
			lt.Pos.Offset = end
			s.toks = append(s.toks, lt)
		}
	}
}

// indentedNext reports whether the next line holding code is indented
// more than the line holding off.
func (s *scanner) indentedNext(off int) bool {
	ls := strings.LastIndexByte(s.text[:off], '\n') + 1
	indent := func(at int) (int, bool) {
		n := 0
		for at+n < len(s.text) && (s.text[at+n] == ' ' || s.text[at+n] == '\t') {
			n++
		}
		code := at+n < len(s.text) && s.text[at+n] != '\n' && s.text[at+n] != '\r' && s.text[at+n] != '#'
		return n, code
	}
	mine, _ := indent(ls)
	for at := s.lineEnd(off) + 1; at < len(s.text); at = s.lineEnd(at) + 1 {
		if n, code := indent(at); code {
			return n > mine
		}
	}
	return false
}

// comparison recognises `when count < 3 <`: the condition starting at
// start stopped at the `<` at lt, but what follows that `<` on the line is
// a comparison's right side (a number, a string, a parenthesis, `=` of
// `<=`, a sign, or a name used as `contact.visits` or `len(…)`), not the
// block's first statement, and the line has a second `<` to open the
// block. The mistake is reported once, at that `<`, with the fix that
// puts the condition in parentheses, and lexing goes on as if it had
// been: the condition runs to the second `<`, which opens the block, so
// the rest of the file parses as meant. It returns where the condition
// ends: lt when it is not such a comparison.
func (s *scanner) comparison(start, lt int) int {
	j := lt + 1
	le := j < len(s.text) && s.text[j] == '='
	for j < len(s.text) && (s.text[j] == ' ' || s.text[j] == '\t') {
		j++
	}
	if j >= len(s.text) {
		return lt
	}
	switch c := s.text[j]; {
	case le, c >= '0' && c <= '9', c == '"', c == '\'', c == '`', c == '(', c == '[', c == '-', c == '+', c == '!':
	case isIdentStart(c):
		k := j
		for k < len(s.text) && isIdentChar(s.text[k]) {
			k++
		}
		if k >= len(s.text) || (s.text[k] != '.' && s.text[k] != '(' && s.text[k] != '[') {
			return lt
		}
	default:
		return lt
	}
	r := s.scanRaw(lt+1, false)
	if !r.ok || r.problem != "" {
		return lt
	}
	end := len(strings.TrimRight(s.text[:r.end], " \t\r"))
	opEnd := lt + 1
	if le {
		opEnd++
	}
	s.diags = append(s.diags, comparisonDiag(s.src, start, lt, opEnd, end))
	return r.end
}

// comparisonDiag is the diagnostic of a condition starting at start cut
// short by the comparison operator at lt..opEnd: the condition meant runs
// to end.
func comparisonDiag(src *file.Source, start, lt, opEnd, end int) diag.Diagnostic {
	cond := strings.TrimRight(src.Text[start:lt], " \t")
	return diag.Diagnostic{Severity: diag.Error, Code: "flow/parse", Span: src.Span(lt, opEnd),
		Message: fmt.Sprintf("this %q ends the condition: a comparison in a condition must be in parentheses", src.Text[lt:opEnd]),
		Hint:    CondHint(src.Text, cond, lt),
		Fixes: []diag.Fix{{Title: "put the condition in parentheses", Edits: []diag.Edit{
			{Span: src.Span(start, start), New: "("},
			{Span: src.Span(end, end), New: ")"},
		}}}}
}

// lexRawToEOL takes the expression after `set NAME =`.
func (s *scanner) lexRawToEOL() {
	i := s.pos
	for i < len(s.text) && (s.text[i] == ' ' || s.text[i] == '\t') {
		i++
	}
	end := s.scanRawLine(i)
	text := strings.TrimRight(s.text[i:end], " \t\r")
	if text != "" {
		s.emit(Expr, i, text)
	}
	s.pos = end
}

// scanRawLine scans to the end of the line (or a comment, or ';') at
// depth 0. A bracket still open at the end of the file ends the text at
// the end of its first line instead, leaving the unclosed bracket to the
// expression check rather than swallowing the rest of the file.
func (s *scanner) scanRawLine(i int) int {
	first := s.lineEnd(i)
	depth := 0
	for i < len(s.text) {
		c := s.text[i]
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '"', '\'', '`':
			j := i + 1
			for j < len(s.text) && s.text[j] != c && s.text[j] != '\n' {
				if s.text[j] == '\\' && j+1 < len(s.text) && s.text[j+1] != '\n' {
					j++
				}
				j++
			}
			if j >= len(s.text) || s.text[j] != c {
				// Unterminated: the expression check reports it. The
				// newline (or the end of the text) ends the expression.
				i = j
				continue
			}
			i = j
		case '\n', '#', ';':
			if depth <= 0 {
				return i
			}
		}
		i++
	}
	if depth > 0 {
		return min(i, first)
	}
	return i
}

// normalise turns physical newlines into statement ends:
//   - leading and repeated NLs are dropped;
//   - an NL before `then`, or between `>` and `else`, is dropped, so chains
//     and else-branches may continue on the next line;
//   - an NL is inserted before every `>` (unless right after `<` or an NL),
//     so a block's last statement needs no newline: `< reply "x" >`;
//   - the stream ends with an NL.
func normalise(in []lexer.Token, src *file.Source) []lexer.Token {
	out := make([]lexer.Token, 0, len(in)+8)
	lastSig := func() *lexer.Token {
		if len(out) == 0 {
			return nil
		}
		return &out[len(out)-1]
	}
	for i := 0; i < len(in); i++ {
		t := in[i]
		if t.Type == NL {
			prev := lastSig()
			if prev == nil || prev.Type == NL {
				continue
			}
			// Look ahead to the next non-NL token.
			j := i + 1
			for j < len(in) && in[j].Type == NL {
				j++
			}
			if j < len(in) {
				next := in[j]
				if next.Type == Keyword && next.Value == "then" {
					continue
				}
				// ... unless the else is a branch label (`else -> …`)
				// after a block that ended a branch's line.
				if next.Type == Keyword && next.Value == "else" && prev.Type == Punct && prev.Value == ">" &&
					!(j+1 < len(in) && in[j+1].Type == Punct && in[j+1].Value == "->") {
					continue
				}
			}
			out = append(out, t)
			continue
		}
		if t.Type == Punct && t.Value == ">" {
			if prev := lastSig(); prev != nil && prev.Type != NL && !(prev.Type == Punct && prev.Value == "<") {
				out = append(out, synth(NL, t.Pos))
			}
		}
		out = append(out, t)
	}
	if prev := lastSig(); prev != nil && prev.Type != NL {
		p := src.Pos(len(src.Text))
		out = append(out, synth(NL, lexer.Position{Filename: src.Name, Offset: p.Offset, Line: p.Line, Column: p.Column}))
	}
	return out
}

func synth(t lexer.TokenType, pos lexer.Position) lexer.Token {
	return lexer.Token{Type: t, Pos: pos}
}

// tokenEnd is the byte offset just past t.
func tokenEnd(t lexer.Token) int { return t.Pos.Offset + len(t.Value) }

// describe names a token for an error message.
func describe(t lexer.Token) string {
	switch t.Type {
	case EOF:
		return "end of file"
	case NL:
		if t.Value == ";" {
			return "';'"
		}
		if t.Value == "" && t.Pos.Offset > 0 {
			return "end of statement"
		}
		return "end of line"
	case String:
		return "string " + t.Value
	case Number:
		return "number " + t.Value
	case Duration:
		return "duration " + t.Value
	case Cond:
		return "condition"
	case Parens:
		return "parenthesised expression"
	case Keyword:
		return "keyword " + t.Value
	case Kind:
		return fmt.Sprintf("%q", t.Value)
	}
	return fmt.Sprintf("%q", t.Value)
}
