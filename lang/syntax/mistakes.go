package syntax

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowc-dev/flowc/lang/diag"
)

// Mistakes users make, written the way other languages, editors and GUI
// builders taught them. Each is recognised in the lexer, where the text
// still says what was meant, and reported once, at the mistake, in
// flowc's words, with a machine-applicable fix when the correction is
// certain. Lexing then goes on as if the correction had been made, so
// the mistake costs one diagnostic and the rest of the file parses.

// replaceFix is a fix replacing text[start:end] with repl.
func (s *scanner) replaceFix(title string, start, end int, repl string) diag.Fix {
	return diag.Fix{Title: title, Edits: []diag.Edit{{Span: s.src.Span(start, end), New: repl}}}
}

// stray reports a run of characters the language has no use for as one
// diagnostic (`$$$`, a pasted `{"a": 1}` fragment), and makes it a Bad
// token. Pasted JSON documents, curly quotes and `{ … }` blocks are
// recognised first.
func (s *scanner) stray(start int) {
	if s.pastedJSON(start) || s.curlyString(start) || s.brace(start) || s.singleQuoted(start) {
		return
	}
	end := start
	for end < len(s.text) {
		r, n := utf8.DecodeRuneInString(s.text[end:])
		if end > start && (startsToken(s.text[end]) || isCurlyQuote(r)) {
			break
		}
		end += n
	}
	// One per line: past the first, stray characters on a line are most
	// likely more of the same mistake (code pasted from another
	// language), and the line is not parsed anyway.
	ls := strings.LastIndexByte(s.text[:start], '\n') + 1
	if s.strayLine == ls+1 {
		s.bad(start, end)
		s.pos = end
		return
	}
	s.strayLine = ls + 1
	var d *diag.Diagnostic
	if r, n := utf8.DecodeRuneInString(s.text[start:]); n == end-start {
		d = s.errorf(start, end, "flow/parse", "unexpected character %q", r)
	} else {
		d = s.errorf(start, end, "flow/parse", "unexpected characters %q", s.text[start:end])
	}
	d.Hint = `flowc has no use for it here: remove it, or put text in a string ("…")`
	if k := len(s.toks); k > 0 && s.toks[k-1].Type == String && s.text[start] == '+' {
		d.Hint = `text is joined inside the string with a template: "Hi {{contact.name}}"`
	}
	// `when count < -1 <`: the '-' only looks stray because the
	// condition stopped at the first '<'.
	if k := len(s.toks); k >= 2 && s.toks[k-2].Type == Cond && s.toks[k-1].Type == Punct && s.toks[k-1].Value == "<" &&
		s.src.Pos(s.toks[k-1].Pos.Offset).Line == s.src.Pos(start).Line {
		d.Hint = CondHint(s.text, s.toks[k-2].Value, s.toks[k-1].Pos.Offset)
	}
	s.bad(start, end)
	s.pos = end
}

// singleQuoted recognises a string in single quotes ('Hello', as in
// JavaScript or SQL) outside an expression, reads it as the
// double-quoted string meant, and reports it once.
func (s *scanner) singleQuoted(start int) bool {
	if s.text[start] != '\'' {
		return false
	}
	end := strings.IndexByte(s.text[start+1:s.lineEnd(start)], '\'')
	if end < 0 {
		return false
	}
	end += start + 1
	inner := s.text[start+1 : end]
	meant := strconv.Quote(inner)
	d := s.errorf(start, end+1, "flow/parse", "strings are written in double quotes")
	d.Hint = "write " + meant
	d.Fixes = []diag.Fix{s.replaceFix("use double quotes", start, end+1, meant)}
	s.emit(String, start, meant)
	s.pos = end + 1
	return true
}

// startsToken reports whether c can begin a token (or is space): it ends
// a run of stray characters.
func startsToken(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '#', ';', '"', '(', '<', '>', ',', '=':
		return true
	}
	return c >= '0' && c <= '9' || isIdentStart(c)
}

// pastedJSON recognises a JSON object or array pasted where a statement
// starts (a GUI builder's export inside a flow) and reports it once.
func (s *scanner) pastedJSON(start int) bool {
	if c := s.text[start]; (c != '{' && c != '[') || !s.atStatementStart() || s.jsonTried {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(s.text[start:]))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		s.jsonTried = true // do not try again at every later brace
		return false
	}
	end := start + int(dec.InputOffset())
	if !strings.Contains(s.text[start:end], "\n") && !strings.Contains(s.text[start:end], ":") {
		return false // `[]` or `{}` alone: just stray characters
	}
	d := s.errorf(start, start+1, "flow/parse", "this looks like a pasted JSON document, not flow statements")
	d.Hint = "flowc reads flows written in its own language (reply \"…\", menu \"…\" < 1 -> … >); rewrite the steps as statements, see docs/language.md"
	s.bad(start, end)
	s.pos = end
	return true
}

func isCurlyQuote(r rune) bool {
	switch r {
	case '“', '”', '„', '‘', '’', '«', '»':
		return true
	}
	return false
}

// closes reports whether r ends a string opened with the curly quote
// open: a double quote a double one, a single quote a single one.
func closes(open, r rune) bool {
	switch open {
	case '‘', '’':
		return r == '’' || r == '‘' || r == '\''
	case '«':
		return r == '»'
	case '»':
		return r == '«'
	}
	return r == '”' || r == '“' || r == '"'
}

// curlyString recognises a string written with the curly quotes a word
// processor or a phone keyboard puts in (“Hello”), reads it as the
// straight-quoted string meant, and reports it once.
func (s *scanner) curlyString(start int) bool {
	open, n := utf8.DecodeRuneInString(s.text[start:])
	if !isCurlyQuote(open) {
		return false
	}
	lineEnd := s.lineEnd(start)
	body := start + n
	closeAt, closeN := -1, 0
	for i := body; i < lineEnd; {
		r, m := utf8.DecodeRuneInString(s.text[i:])
		if closes(open, r) {
			closeAt, closeN = i, m
			break
		}
		i += m
	}
	if closeAt < 0 {
		d := s.errorf(start, body, "flow/parse", "unexpected curly quote %q", open)
		d.Hint = `strings are written in straight quotes: "…"`
		s.bad(start, body)
		s.pos = body
		return true
	}
	end := closeAt + closeN
	inner := s.text[body:closeAt]
	d := s.errorf(start, end, "flow/parse", "curly quotes: strings are written in straight quotes")
	d.Hint = fmt.Sprintf("write %s", strconv.Quote(inner))
	d.Fixes = []diag.Fix{{Title: "use straight quotes", Edits: []diag.Edit{
		{Span: s.src.Span(start, body), New: `"`},
		{Span: s.src.Span(closeAt, end), New: `"`},
	}}}
	s.emit(String, start, strconv.Quote(inner))
	s.pos = end
	return true
}

// brace recognises `{` and `}` used as block brackets, as in C, Java or
// JavaScript (`if (x) {` … `} else {` … `}`): a `{` ending its line opens
// a block, the `}` that matches it closes the block. The first is
// reported (once per file: the mistake is the habit, not each brace);
// the others are read as `<` and `>`.
func (s *scanner) brace(start int) bool {
	switch s.text[start] {
	case '{':
		rest := strings.TrimLeft(s.text[start+1:s.lineEnd(start)], " \t\r")
		if rest != "" && rest[0] != '#' {
			return false
		}
		s.braceReport(start)
		s.braces++
		s.emit(Punct, start, "<")
	case '}':
		if s.braces == 0 {
			return false
		}
		s.braces--
		s.emit(Punct, start, ">")
	default:
		return false
	}
	s.pos = start + 1
	return true
}

func (s *scanner) braceReport(at int) {
	if s.braceReported {
		return
	}
	s.braceReported = true
	d := s.errorf(at, at+1, "flow/parse", `blocks are written "< … >", not "{ … }"`)
	d.Hint = `open the block with "<" and close it with ">": when CONDITION < … > else < … >`
}

// notIf recognises `if` (and `elif`, `elsif`) at the start of a
// statement, from other languages: flowc writes `when`. The condition is
// read as a `when`'s; when the line ends in `{`, as in C, the brace opens
// the block (see brace).
func (s *scanner) notIf(start int, word string) {
	d := s.errorf(start, start+len(word), "flow/parse", "flowc has no %q: a condition is written when CONDITION < … >", word)
	d.Hint = `write "when" instead of "if", and "else when" instead of "else if"`
	// The token reads as `when` (its text is what the grammar matches).
	s.toks[len(s.toks)-1].Type = Keyword
	s.toks[len(s.toks)-1].Value = "when"
	was := s.braceReported
	s.braceReported = true // the `{` is part of this one mistake
	if s.braceBlock(s.pos) {
		return
	}
	s.braceReported = was
	if !strings.Contains(s.text[s.pos:s.lineEnd(s.pos)], "{") {
		d.Fixes = []diag.Fix{s.replaceFix(`replace with "when"`, start, start+len(word), "when")}
	}
	s.lexCondition(start)
}

// braceBlock recognises a condition, starting at i, whose line ends in
// `{` (`when x {`, `if (x) {`) with no `<` to open a block: the condition
// runs to the brace, which opens the block (reported once, see brace).
func (s *scanner) braceBlock(i int) bool {
	line := s.text[i:s.lineEnd(i)]
	if c := strings.IndexByte(line, '#'); c >= 0 {
		line = line[:c]
	}
	trimmed := strings.TrimRight(line, " \t\r")
	if !strings.HasSuffix(trimmed, "{") || strings.Contains(trimmed, "<") {
		return false
	}
	brace := i + len(trimmed) - 1
	for i < brace && (s.text[i] == ' ' || s.text[i] == '\t') {
		i++
	}
	if cond := strings.TrimRight(s.text[i:brace], " \t"); cond != "" {
		s.emit(Cond, i, cond)
	}
	s.braceReport(brace)
	s.braces++
	s.emit(Punct, brace, "<")
	s.pos = brace + 1
	return true
}

// durationUnits are the unit words written after a number with a space
// (`10 min`), and the unit flowc writes.
var durationUnits = map[string]string{
	"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
	"m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
	"h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
	"d": "d", "day": "d", "days": "d",
}

// spacedDuration recognises `10 min` after the number at start..s.pos:
// durations have no space and one-letter units. A one-letter unit after
// a space is taken for one only after `timeout`. It emits the duration
// meant and reports false when the text is not such a duration.
func (s *scanner) spacedDuration(start int) bool {
	j := s.pos
	for j < len(s.text) && (s.text[j] == ' ' || s.text[j] == '\t') {
		j++
	}
	if j == s.pos {
		return false
	}
	k := j
	for k < len(s.text) && isIdentChar(s.text[k]) {
		k++
	}
	word := s.text[j:k]
	unit, ok := durationUnits[strings.ToLower(word)]
	if !ok || k < len(s.text) && (s.text[k] == ':' || s.text[k] == '-' && !strings.HasPrefix(s.text[k:], "->")) {
		return false
	}
	prevTimeout := len(s.toks) > 0 && s.toks[len(s.toks)-1].Value == "timeout"
	if len(word) == 1 && !prevTimeout {
		return false
	}
	meant := s.text[start:s.pos] + unit
	d := s.errorf(start, k, "flow/duration", "a duration is written without a space: %s", meant)
	d.Hint = "durations are a number and a unit, with no space: 30s, 10m, 2h, 1d or 1h30m"
	d.Fixes = []diag.Fix{s.replaceFix("write "+meant, start, k, meant)}
	s.emit(Duration, start, meant)
	s.pos = k
	return true
}

// unitless recognises `timeout 20 ->`: a timeout branch's duration
// without a unit. Which unit was meant is not certain, so there is no
// fix; the branch's line is not parsed further.
func (s *scanner) unitless(start int) bool {
	if len(s.toks) == 0 || s.toks[len(s.toks)-1].Value != "timeout" {
		return false
	}
	rest := strings.TrimLeft(s.text[s.pos:s.lineEnd(s.pos)], " \t")
	if !strings.HasPrefix(rest, "->") {
		return false
	}
	n := s.text[start:s.pos]
	d := s.errorf(start, s.pos, "flow/duration", "a timeout needs a unit: %ss, %sm or %sh", n, n, n)
	d.Hint = "durations are a number and a unit, with no space: 30s, 10m, 2h, 1d or 1h30m"
	s.bad(start, s.pos)
	return true
}

// quotesInTemplate is called by lexString at the `"` at i, inside the
// string opened at start: when a `{{` is open there (`"Hi {{name ?? "you"}}"`),
// the quote does not end the string but starts a string inside the
// template, which must be single-quoted. It returns the offset of the
// quote closing that inner string (reporting the mistake and recording
// its fix), or -1.
func (s *scanner) quotesInTemplate(start, i int) int {
	seg := s.text[start+1 : i]
	open := strings.LastIndex(seg, "{{")
	if open < 0 || strings.Contains(seg[open:], "}}") {
		return -1
	}
	lineEnd := s.lineEnd(i)
	j := strings.IndexByte(s.text[i+1:lineEnd], '"')
	if j < 0 {
		return -1
	}
	j += i + 1
	k := strings.Index(s.text[j:lineEnd], "}}")
	if k < 0 || strings.Contains(s.text[i+1:j], "}}") {
		return -1
	}
	if strings.IndexByte(s.text[j+k:lineEnd], '"') < 0 {
		return -1 // no quote left to end the string: not this mistake
	}
	d := s.errorf(i, j+1, "flow/parse", `double quotes inside {{ }} end the string: use single quotes`)
	d.Hint = fmt.Sprintf("write '%s' inside the template", s.text[i+1:j])
	d.Fixes = []diag.Fix{{Title: "use single quotes inside the template", Edits: []diag.Edit{
		{Span: s.src.Span(i, i+1), New: "'"},
		{Span: s.src.Span(j, j+1), New: "'"},
	}}}
	return j
}

// missingSetEq is called at the first token after `set NAME` when it is
// not `=` (`set x "…"`, as in shells): reported, then read as if the `=`
// had been written.
func (s *scanner) missingSetEq(start int) {
	name := s.toks[len(s.toks)-1].Value
	d := s.errorf(start, start+1, "flow/parse", `missing "=" after "set %s"`, name)
	d.Hint = fmt.Sprintf("write set %s = EXPRESSION", name)
	d.Fixes = []diag.Fix{s.replaceFix(`insert "="`, start, start, "= ")}
	s.toks = append(s.toks, lexer.Token{Type: Punct, Value: "=", Pos: s.toks[len(s.toks)-1].Pos})
	s.toks[len(s.toks)-1].Pos.Offset = start
	s.setState = 0
	s.lexRawToEOL()
}

// unquotedAddress recognises an e-mail address or a URL written without
// quotes, after a kind (`email:owner@example.com`,
// `webhook:https://…`) or alone (`forward owner@example.com`), starting
// at start. The whole address is one Bad token, reported once.
func (s *scanner) unquotedAddress(start int, kind bool) bool {
	end := start
	for end < len(s.text) && !strings.ContainsRune(" \t\r\n;", rune(s.text[end])) {
		end++
	}
	addr := s.text[start:end]
	email := strings.Contains(addr, "@") && !strings.Contains(addr, "/")
	url := strings.Contains(addr, "://")
	if !email && !url || strings.ContainsAny(addr, `"<>`) {
		return false
	}
	what, tag := "an e-mail address", "email:"
	if url {
		what, tag = "a URL", "webhook:"
	}
	var d *diag.Diagnostic
	if kind {
		d = s.errorf(start, end, "flow/args", "%s must be quoted", what)
		d.Hint = fmt.Sprintf("write %s", strconv.Quote(addr))
		d.Fixes = []diag.Fix{{Title: "quote it", Edits: []diag.Edit{
			{Span: s.src.Span(start, start), New: `"`}, {Span: s.src.Span(end, end), New: `"`}}}}
	} else {
		d = s.errorf(start, end, "flow/args", "%s must be quoted and tagged with its kind", what)
		d.Hint = fmt.Sprintf("write %s%s", tag, strconv.Quote(addr))
	}
	s.bad(start, end)
	s.pos = end
	return true
}
