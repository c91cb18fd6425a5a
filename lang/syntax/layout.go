package syntax

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowc-dev/flowc/lang/diag"
)

// Mistakes of layout and of words, recognised in the lexer like those of
// mistakes.go: a block opened by indentation alone (a `menu` line without
// its `<`, Python's `when x:` … `else:`), a reply's text on the next
// line, a quote that ends a string early, keywords written in capitals,
// `then then`, `elif`, a header's YAML colon. Each is reported once, at
// the mistake, and lexing goes on as if the correction had been made.

// branchStart matches a line that starts a branch: a label, `timeout D`
// or `on error`, then the arrow (or the `=>` mistaken for it).
var branchStart = regexp.MustCompile(`^\s*("[^"\n]*"|timeout\s+\S+|on\s+\S+|[^\s"<>]+)\s*(->|=>)`)

// nextCode is the offset of the first character of the next line holding
// code after the line holding off, or -1.
func (s *scanner) nextCode(off int) int {
	for at := s.lineEnd(off) + 1; at < len(s.text); at = s.lineEnd(at) + 1 {
		i := at
		for i < len(s.text) && (s.text[i] == ' ' || s.text[i] == '\t') {
			i++
		}
		if i < len(s.text) && s.text[i] != '\n' && s.text[i] != '\r' && s.text[i] != '#' {
			return i
		}
	}
	return -1
}

// lineToks returns the index in s.toks of the first token of the line
// ending at the newline at nl.
func (s *scanner) lineToks(nl int) int {
	ls := strings.LastIndexByte(s.text[:nl], '\n') + 1
	k := len(s.toks)
	for k > 0 && s.toks[k-1].Pos.Offset >= ls && s.toks[k-1].Type != NL {
		k--
	}
	return k
}

// atNewline is called at each newline (at nl) before it is emitted. It
// reports whether the newline is dropped (the statement goes on on the
// next line).
func (s *scanner) atNewline(nl int) bool {
	if !s.lineHas {
		return false
	}
	k := s.lineToks(nl)
	line := s.toks[k:]
	if len(line) == 0 || k > 0 && s.toks[k-1].Type != NL {
		return false
	}
	next := s.nextCode(nl - 1)
	if next < 0 || !s.indentedNext(nl-1) {
		return false
	}
	last := line[len(line)-1]
	// `> else reply` with its text on the next line, indented.
	if last.Type == Ident && !keywords[last.Value] && s.text[next] == '"' && !branchStart.MatchString(s.text[next:s.lineEnd(next)]) &&
		(len(line) == 1 || line[len(line)-2].Type == Keyword && (line[len(line)-2].Value == "then" || line[len(line)-2].Value == "else") ||
			isPunct(line[len(line)-2], "->") || isPunct(line[len(line)-2], "<")) {
		d := s.errorf(last.Pos.Offset, tokenEnd(last), "flow/parse", "the text of %s must be on its line", last.Value)
		d.Hint = fmt.Sprintf("join the lines: %s \"…\" (a newline ends a statement)", last.Value)
		d.Fixes = []diag.Fix{s.replaceFix("join the lines", tokenEnd(last), next, " ")}
		return true
	}
	// `menu "…"` whose branches follow, indented, without the "<".
	if line[0].Type != Ident || len(line) < 2 || !branchStart.MatchString(s.text[next:s.lineEnd(next)]) {
		return false
	}
	for _, t := range line {
		if t.Type == Punct || t.Type == Bad || t.Type == Cond || t.Type == Keyword && t.Value != "then" {
			return false
		}
	}
	end := tokenEnd(last)
	d := s.errorf(end, end, "flow/parse", `missing "<" to open the block of branches of %s`, line[0].Value)
	d.Hint = fmt.Sprintf(`a block of branches opens with "<" at the end of its line: %s … < KEY -> … >`, line[0].Value)
	d.Fixes = []diag.Fix{s.replaceFix(`insert "<"`, end, end, " <")}
	s.emit(Punct, end, "<")
	return false
}

// closePython closes, before the next line of code after the newline at
// nl, the blocks that Python's colons opened and that line's indentation
// ends.
func (s *scanner) closePython(nl int) {
	if len(s.pyIndent) == 0 {
		return
	}
	next := s.nextCode(nl)
	ind := -1 // the end of the file closes them all
	if next >= 0 {
		ind = next - (strings.LastIndexByte(s.text[:next], '\n') + 1)
	}
	for len(s.pyIndent) > 0 && ind <= s.pyIndent[len(s.pyIndent)-1] {
		s.pyIndent = s.pyIndent[:len(s.pyIndent)-1]
		s.emit(Punct, nl, ">")
		s.emit(NL, nl, "\n")
	}
}

// pythonOpen opens a block at the colon at colon, Python's way, which
// its line's indentation closes (closePython). The first such colon is
// reported (the habit is one mistake).
func (s *scanner) pythonOpen(colon int) {
	if !s.pyReported {
		s.pyReported = true
		d := s.errorf(colon, colon+1, "flow/parse", `a block opens with "<", not ":"`)
		d.Hint = "blocks are written when CONDITION < … > else < … >, with brackets, not with colons and indentation"
	}
	s.emit(Punct, colon, "<")
	ls := strings.LastIndexByte(s.text[:colon], '\n') + 1
	n := 0
	for ls+n < len(s.text) && (s.text[ls+n] == ' ' || s.text[ls+n] == '\t') {
		n++
	}
	s.pyIndent = append(s.pyIndent, n)
}

// wordMistake recognises, at the word text[start:s.pos], `then then`,
// `elif`, a keyword in capitals and a header's YAML colon. It reports
// whether it lexed the word.
func (s *scanner) wordMistake(start int, word string, stmtStart bool) bool {
	var prev lexer.Token
	if len(s.toks) > 0 {
		prev = s.toks[len(s.toks)-1]
	}
	colon := s.pos < len(s.text) && s.text[s.pos] == ':' && (s.pos+1 == len(s.text) || strings.ContainsRune(" \t\r\n\"", rune(s.text[s.pos+1])))
	switch {
	case word == "then" && prev.Type == Keyword && prev.Value == "then":
		d := s.errorf(start, s.pos, "flow/parse", `"then" twice`)
		d.Hint = `steps are joined by one "then": remove the second`
		d.Fixes = []diag.Fix{s.replaceFix(`remove the second "then"`, tokenEnd(prev), s.pos, "")}
		return true
	case (word == "elif" || word == "elsif") && isPunct(prev, ">"):
		d := s.errorf(start, s.pos, "flow/parse", "flowc has no %q: another condition is written else when CONDITION < … >", word)
		d.Hint = `write "else when" instead of "` + word + `"`
		d.Fixes = []diag.Fix{s.replaceFix(`replace with "else when"`, start, s.pos, "else when")}
		s.emit(Keyword, start, "else")
		s.emit(Keyword, start, "when")
		s.lexCondition(start)
		return true
	case word == "else" && colon && len(s.pyIndent) > 0 || word == "else" && colon && s.pyReported:
		s.emit(Keyword, start, "else")
		if s.indentedNext(start) {
			s.pythonOpen(s.pos)
		}
		s.pos++
		return true
	case colon && stmtStart && keywords[word] && isHeader(word):
		d := s.errorf(s.pos, s.pos+1, "flow/parse", "a header is written without a colon: %s …", word)
		d.Hint = fmt.Sprintf(`remove the ":" after %s`, word)
		d.Fixes = []diag.Fix{s.replaceFix(`remove the ":"`, s.pos, s.pos+1, "")}
		s.emit(Keyword, start, word)
		s.pos++
		return true
	case colon && prev.Type == Keyword && (prev.Value == "schedule" || prev.Value == "applet") && s.headerStart(len(s.toks)-1):
		d := s.errorf(s.pos, s.pos+1, "flow/parse", `a %s's name is followed by "=", not ":"`, prev.Value)
		d.Hint = fmt.Sprintf(`write %s %s = "…"`, prev.Value, word)
		d.Fixes = []diag.Fix{s.replaceFix(`replace ":" with " ="`, s.pos, s.pos+1, " =")}
		s.emit(Ident, start, word)
		s.emit(Punct, s.pos, "=")
		s.pos++
		return true
	}
	lw := strings.ToLower(word)
	if lw == word || !keywords[lw] || strings.HasPrefix(s.text[s.pos:], ":") {
		return false
	}
	if rest := strings.TrimLeft(s.text[s.pos:], " \t"); strings.HasPrefix(rest, "->") || strings.HasPrefix(rest, "=>") {
		return false // a branch label (`HELP -> …`), which may be any word
	}
	switch lw {
	case "then":
		if !s.lineHas || prev.Type == NL {
			return false
		}
	case "else":
		if !isPunct(prev, ">") {
			return false
		}
	default:
		if !stmtStart {
			return false
		}
	}
	if s.capsAt < 0 {
		s.capsAt = len(s.diags)
		d := s.errorf(start, s.pos, "flow/parse", "%q is not a keyword: keywords are written in lower case", word)
		d.Hint = "keywords are lower case: " + lw
	}
	s.capsFix = append(s.capsFix, diag.Edit{Span: s.src.Span(start, s.pos), New: lw})
	s.pos = start
	s.lowered = start + len(word)
	return false
}

// capsDone gives the capitals diagnostic its fix: every keyword written
// in capitals, lowered.
func (s *scanner) capsDone() {
	if s.capsAt >= 0 {
		s.diags[s.capsAt].Fixes = []diag.Fix{{Title: "write the keywords in lower case", Edits: s.capsFix}}
	}
}

// headerStart reports whether s.toks[k] starts its statement.
func (s *scanner) headerStart(k int) bool { return k == 0 || s.toks[k-1].Type == NL }

func isHeader(w string) bool {
	for _, h := range HeaderKeywords {
		if h == w {
			return true
		}
	}
	return false
}

// earlyQuote is called by lexString at the quote at i that would close
// the string opened at start when a letter follows it at once
// (`"Text "HOURS" to …"`): the quote was meant inside the string. When
// the line has a last quote after it, the string is taken to run to that
// quote, the quotes inside escaped, reported once at the first. It
// returns the offset of that last quote, or -1.
func (s *scanner) earlyQuote(start, i int) int {
	if i+1 >= len(s.text) || !isIdentChar(s.text[i+1]) {
		return -1
	}
	if seg := s.text[start+1 : i]; strings.Contains(seg, "{{") && strings.LastIndex(seg, "{{") > strings.LastIndex(seg, "}}") {
		return -1 // inside a template: quotesInTemplate's, or an expression's
	}
	le := s.lineEnd(i)
	if c := strings.Index(s.text[i:le], " #"); c >= 0 {
		le = i + c // a comment's quotes are not the string's
	}
	last := strings.LastIndexByte(s.text[i+1:le], '"')
	if last < 0 {
		return -1
	}
	last += i + 1
	inner := s.text[start+1 : last]
	if strings.Contains(inner, `\"`) {
		return -1
	}
	d := s.errorf(i, i+1, "flow/parse", "this quote ends the string early")
	d.Hint = `a quote inside a string is written \": "` + strings.ReplaceAll(inner, `"`, `\"`) + `"`
	var edits []diag.Edit
	for q := i; q < last; q++ {
		if s.text[q] == '"' {
			edits = append(edits, diag.Edit{Span: s.src.Span(q, q), New: `\`})
		}
	}
	d.Fixes = []diag.Fix{{Title: `escape the quotes inside the string`, Edits: edits}}
	return last
}
