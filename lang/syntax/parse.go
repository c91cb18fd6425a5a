package syntax

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// The grammar needs one token of lookahead (a branch label is one token
// before its "->"). More lookahead makes participle backtrack silently
// out of a partly matched optional block and report a later, shallower
// token, so a mistake inside a menu was blamed on the menu line.
var parser = participle.MustBuild[File](
	participle.Lexer(definition{}),
	participle.UseLookahead(1),
)

// Grammar returns the grammar in EBNF, as participle derives it from the
// AST's struct tags (docs/language.md quotes it).
func Grammar() string { return parser.String() }

// maxErrors bounds recovery: past it the file is too broken to be worth
// more messages.
const maxErrors = 50

// maxDepth bounds the nesting of blocks (real flows nest a few deep), and
// so the parser's recursion.
const maxDepth = 100

// Parse parses one .flow file. It always returns a File (possibly with
// BadStep nodes where lines could not be parsed) and every syntax error it
// found: participle stops at the first error, so Parse reports it, blanks
// out the offending line (keeping its block brackets balanced) and parses
// again, until the file parses or maxErrors is reached.
func Parse(src *file.Source) (*File, diag.List) { return parse(src, nil) }

// parseWork is what one Parse cost: the participle parses it ran and
// the tokens they were given (the recovery loop's work, which tests
// bound instead of timing it).
type parseWork struct {
	parses, tokens int
}

func parse(src *file.Source, work *parseWork) (*File, diag.List) {
	if d := notFlowText(src); d != nil {
		return &File{Source: src, NotFlowText: true}, diag.List{*d}
	}
	toks, comments, diags, lexBad := lex(src)
	if len(diags) > maxErrors {
		diags = diags[:maxErrors]
		diags.Errorf(diags[maxErrors-1].Span, "flow/parse", "too many errors; giving up")
		return &File{Source: src, Comments: comments}, diags
	}
	// Lines holding text the lexer rejected (already reported) are blanked
	// before parsing, so they cause no second message.
	if len(lexBad) > 0 {
		toks = blankLexBad(toks, lexBad)
	}
	if at := tooDeep(toks); at >= 0 {
		diags.Errorf(src.Span(toks[at].Pos.Offset, tokenEnd(toks[at])), "flow/parse", "blocks nested more than %d deep", maxDepth)
		return &File{Source: src, Comments: comments}, diags
	}
	for attempt := 0; ; attempt++ {
		if work != nil {
			work.parses++
			work.tokens += len(toks)
		}
		f, err := parseTokens(src, toks)
		if err == nil {
			f.Source = src
			f.Comments = comments
			diags.Sort()
			return f, diags
		}
		idx, tok := errorToken(toks, err)
		if tok.Type == EOF {
			if opens := openBlocks(toks); len(opens) > 0 {
				// Every block still open at the end is reported (unless
				// it was opened on a line already reported and blanked)
				// and closed, all at once.
				for _, o := range opens {
					if o > 0 && toks[o-1].Type == Bad {
						continue
					}
					if len(diags) >= maxErrors {
						diags.Errorf(src.Span(toks[o].Pos.Offset, toks[o].Pos.Offset+1), "flow/parse", "too many errors; giving up")
						return &File{Source: src, Comments: comments}, diags
					}
					d := diag.Diagnostic{Severity: diag.Error, Code: "flow/parse",
						Message: `block is never closed (missing ">")`, Span: src.Span(toks[o].Pos.Offset, toks[o].Pos.Offset+1)}
					if !reported(diags, d) {
						diags = append(diags, d)
					}
				}
				toks = closeBlocks(toks, len(opens))
				continue
			}
		}
		silent := tok.Type == Bad && lexBad[tok.Pos.Offset]
		if !silent {
			if len(diags) >= maxErrors {
				diags.Errorf(src.Span(tok.Pos.Offset, tokenEnd(tok)), "flow/parse", "too many errors; giving up")
				return &File{Source: src, Comments: comments}, diags
			}
			d := parseDiagnostic(src, toks, idx, err)
			if !reported(diags, d) {
				diags = append(diags, d)
			}
		}
		next := recoverAt(toks, idx)
		if attempt > 4*maxErrors || len(next) == 0 {
			return &File{Source: src, Comments: comments}, diags
		}
		toks = next
	}
}

func reported(l diag.List, d diag.Diagnostic) bool {
	for _, o := range l {
		if o.Span.Start == d.Span.Start {
			return true
		}
	}
	return false
}

// ParseString parses text named name.
func ParseString(name, text string) (*File, diag.List) {
	return Parse(file.NewSource(name, text))
}

func parseTokens(src *file.Source, toks []lexer.Token) (*File, error) {
	return parseTokensWith(parser, src, toks)
}

func parseTokensWith(parser *participle.Parser[File], src *file.Source, toks []lexer.Token) (*File, error) {
	end := src.Pos(len(src.Text))
	eof := lexer.Token{Type: EOF, Pos: lexer.Position{Filename: src.Name, Offset: end.Offset, Line: end.Line, Column: end.Column}}
	pl, err := lexer.Upgrade(&sliceLexer{toks: toks, eof: eof})
	if err != nil {
		return nil, err
	}
	return parser.ParseFromLexer(pl)
}

// errorToken finds the token a participle error is about.
func errorToken(toks []lexer.Token, err error) (int, lexer.Token) {
	var ute *participle.UnexpectedTokenError
	var pos lexer.Position
	if errors.As(err, &ute) {
		pos = ute.Unexpected.Pos
		if ute.Unexpected.Type == EOF {
			return len(toks), ute.Unexpected
		}
	} else {
		var pe participle.Error
		if errors.As(err, &pe) {
			pos = pe.Position()
		}
	}
	for i, t := range toks {
		if t.Pos.Offset == pos.Offset && (ute == nil || t.Type == ute.Unexpected.Type) {
			return i, t
		}
	}
	for i, t := range toks {
		if t.Pos.Offset >= pos.Offset {
			return i, t
		}
	}
	if len(toks) > 0 {
		return len(toks), lexer.Token{Type: EOF, Pos: toks[len(toks)-1].Pos}
	}
	return 0, lexer.Token{Type: EOF}
}

func parseDiagnostic(src *file.Source, toks []lexer.Token, idx int, err error) diag.Diagnostic {
	var tok lexer.Token
	if idx < len(toks) {
		tok = toks[idx]
	} else {
		p := src.Pos(len(src.Text))
		tok = lexer.Token{Type: EOF, Pos: lexer.Position{Offset: p.Offset}}
	}
	if tok.Type == EOF {
		if open := unclosed(toks); open >= 0 {
			lt := toks[open]
			return diag.Diagnostic{Severity: diag.Error, Code: "flow/parse",
				Message: `block is never closed (missing ">")`, Span: src.Span(lt.Pos.Offset, lt.Pos.Offset+1)}
		}
	}
	if d := dangling(toks, idx); d >= 0 {
		t := toks[d]
		what := "a statement"
		if t.Value == "," || t.Value == "=" {
			what = "a string"
		}
		return diag.Diagnostic{Severity: diag.Error, Code: "flow/parse",
			Message: fmt.Sprintf("missing %s after %q", what, t.Value), Span: src.Span(t.Pos.Offset, tokenEnd(t)),
			Hint: fmt.Sprintf("%s must follow %q, on the same line or the next", what, t.Value)}
	}
	msg := "unexpected " + describe(tok)
	if isPunct(tok, ">") && openDepth(toks[:idx]) <= 0 {
		msg += ": there is no open block to close"
	}
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		m := ute.Message()
		if i := strings.Index(m, " (expected "); i >= 0 {
			if e := humanExpect(strings.TrimSuffix(m[i+len(" (expected "):], ")")); e != "" {
				msg += " (expected " + e + ")"
			}
		}
	} else {
		var pe participle.Error
		if errors.As(err, &pe) {
			msg = pe.Message()
		}
	}
	end := tokenEnd(tok)
	if end == tok.Pos.Offset && tok.Type != EOF {
		end = tok.Pos.Offset // zero-width synthetic token
	}
	d := diag.Diagnostic{Severity: diag.Error, Code: "flow/parse", Message: msg, Span: src.Span(tok.Pos.Offset, end)}
	d.Hint = hintFor(src, toks, idx)
	return d
}

// dangling returns the index of the token ending the line before
// toks[idx] when that token needs something after it ("->", then, else,
// "=" or ",", all of which may be followed by a newline or ';') and the
// parser failed on the first token of the next line: the mistake is the
// line left unfinished, not the line after it. It returns -1 otherwise.
//
// The same holds when the parser failed on a "->" of the next line: that
// line is a branch of its own (`1 -> ; 2 -> reply "x"`), not the body of
// the branch left unfinished.
func dangling(toks []lexer.Token, idx int) int {
	if idx >= len(toks) {
		return -1
	}
	ls := idx // the start of idx's line
	if isPunct(toks[idx], "->") {
		for ls > 0 && toks[ls-1].Type != NL {
			ls--
		}
	}
	if ls < 2 || toks[ls-1].Type != NL {
		return -1
	}
	t := toks[ls-2]
	if isPunct(t, "->") || isPunct(t, "=") || isPunct(t, ",") || t.Type == Keyword && (t.Value == "then" || t.Value == "else") {
		return ls - 2
	}
	return -1
}

// humanExpect turns participle's expectation (a grammar fragment) into
// words: the first element is what the user most likely missed.
func humanExpect(s string) string {
	first := strings.Fields(s)
	if len(first) == 0 {
		return ""
	}
	w := strings.Trim(first[0], "()?*")
	if names, ok := productionNames[w]; ok {
		return names
	}
	return w
}

var productionNames = map[string]string{
	"Chain": "a statement", "Step": "a statement", "BlockItem": "a statement or a branch",
	"Block": `"<"`, "Label": "a branch label", "Value": "an argument", "Name": "a name",
	"<ident>": "a name", "<nl>": "end of line", "Str": "a string", "<string>": "a string",
	"<duration>": "a duration such as 10m", "RawExpr": "an expression", "<expr>": "an expression",
	"CondExpr": "a condition",
}

// hintFor recognises common mistakes around the error token.
func hintFor(src *file.Source, toks []lexer.Token, idx int) string {
	// `when count < 3 < …`: the condition stopped at the first `<`, and
	// what follows that `<` on the same line reads as an operand.
	line := func(i int) int { return toks[i].Pos.Line }
	for c := min(idx, len(toks)-1); c >= 0 && c+2 < len(toks) && line(c) == line(min(idx, len(toks)-1)); c-- {
		if toks[c].Type != Cond {
			continue
		}
		if operand := toks[c+2]; line(c+2) == line(c) && isPunct(toks[c+1], "<") {
			switch operand.Type {
			case Number, String, Parens, Duration, Punct, Kind:
				return CondHint(src.Text, toks[c].Value, toks[c+1].Pos.Offset)
			}
		}
		break
	}
	if idx < len(toks) && toks[idx].Type == Keyword && idx > 0 && toks[idx-1].Type == NL {
		switch toks[idx].Value {
		case "flow", "numbers", "timezone", "schedule", "holidays", "applet", "help":
			return "headers such as `" + toks[idx].Value + "` belong at the top level of the file, not inside a block"
		}
	}
	if idx < len(toks) && toks[idx].Type == Keyword && toks[idx].Value == "section" {
		return "sections are declared at the top level of the file"
	}
	return ""
}

// CondHint is the advice for a condition cut short by a `<` meant as
// less-than (`when count < 3 < …`, `when n <= 2 < …`): cond is the
// condition's text and lt the offset in text of the `<` that ended it.
// The comparison's right side is taken to run to the next `<` on the
// line.
func CondHint(text, cond string, lt int) string {
	rest := text[min(lt+1, len(text)):]
	if end := strings.IndexAny(rest, "<\n#"); end >= 0 {
		rest = rest[:end]
	}
	rest = strings.TrimSpace(rest)
	sep := " "
	if strings.HasPrefix(rest, "=") {
		sep = "" // <=
	}
	return fmt.Sprintf("a condition ends at the first `<`; put comparisons in parentheses: when (%s <%s%s) <", cond, sep, rest)
}

func isPunct(t lexer.Token, v string) bool { return t.Type == Punct && t.Value == v }

// unclosed returns the index of the last `<` left open, or -1.
func unclosed(toks []lexer.Token) int {
	stack := openBlocks(toks)
	if len(stack) == 0 {
		return -1
	}
	return stack[len(stack)-1]
}

// openBlocks returns the indexes of the `<` left open, outermost first.
func openBlocks(toks []lexer.Token) []int {
	var stack []int
	for i, t := range toks {
		if isPunct(t, "<") {
			stack = append(stack, i)
		} else if isPunct(t, ">") && len(stack) > 0 {
			stack = stack[:len(stack)-1]
		}
	}
	return stack
}

// closeBlocks appends n closing `>` at the end of toks.
func closeBlocks(toks []lexer.Token, n int) []lexer.Token {
	pos := lexer.Position{}
	if len(toks) > 0 {
		pos = toks[len(toks)-1].Pos
	}
	out := make([]lexer.Token, 0, len(toks)+2*n+1)
	out = append(out, toks...)
	if len(out) > 0 && out[len(out)-1].Type != NL {
		out = append(out, synth(NL, pos))
	}
	for i := 0; i < n; i++ {
		closer := synth(Punct, pos)
		closer.Value = ">"
		out = append(out, closer, synth(NL, pos))
	}
	return out
}

// tooDeep returns the index of the first `<` nested more than maxDepth
// deep, or -1.
func tooDeep(toks []lexer.Token) int {
	depth := 0
	for i, t := range toks {
		if isPunct(t, "<") {
			if depth++; depth > maxDepth {
				return i
			}
		} else if isPunct(t, ">") && depth > 0 {
			depth--
		}
	}
	return -1
}

// blankLexBad blanks, in one pass, every logical line holding text the
// lexer rejected.
func blankLexBad(toks []lexer.Token, lexBad map[int]bool) []lexer.Token {
	out := make([]lexer.Token, 0, len(toks))
	for a := 0; a < len(toks); {
		b := a
		bad := false
		for b < len(toks) && toks[b].Type != NL {
			bad = bad || toks[b].Type == Bad && lexBad[toks[b].Pos.Offset]
			b++
		}
		if bad {
			out = blankLine(out, toks[a:b])
		} else {
			out = append(out, toks[a:b]...)
		}
		if b < len(toks) {
			out = append(out, toks[b])
		}
		a = b + 1
	}
	return collapseNL(out)
}

// blankLine appends to out the replacement of one logical line (without
// its NL): its leading `>` (they close earlier blocks), then one Bad token
// for the rest, followed by the rest's unmatched `<`, so that the blocks
// the line opens still parse.
func blankLine(out, line []lexer.Token) []lexer.Token {
	keep := 0
	for keep < len(line) && isPunct(line[keep], ">") {
		keep++
	}
	out = append(out, line[:keep]...)
	if keep > 0 {
		out = append(out, synth(NL, line[keep-1].Pos))
	}
	if keep == len(line) {
		return out
	}
	open := 0
	for _, t := range line[keep:] {
		if isPunct(t, "<") {
			open++
		} else if isPunct(t, ">") && open > 0 {
			open--
		}
	}
	badPos := line[keep].Pos
	out = append(out, lexer.Token{Type: Bad, Value: joinValues(line[keep:]), Pos: badPos})
	for i := 0; i < open; i++ {
		if i > 0 {
			out = append(out, lexer.Token{Type: Bad, Pos: badPos})
		}
		out = append(out, synth(Punct, badPos))
		out[len(out)-1].Value = "<"
	}
	return out
}

func openDepth(toks []lexer.Token) int {
	depth := 0
	for _, t := range toks {
		if isPunct(t, "<") {
			depth++
		} else if isPunct(t, ">") {
			depth--
		}
	}
	return depth
}

// recoverAt returns a token stream in which the logical line holding
// toks[idx] is replaced by a Bad token, keeping the line's unmatched `<`
// so that the block it opens still parses. An unmatched `>` is dropped;
// at the end of the file the last line is blanked (blocks left open at
// the end are closed by Parse, all at once).
func recoverAt(toks []lexer.Token, idx int) []lexer.Token {
	if idx >= len(toks) { // end of file, with every block closed (Parse closes them)
		// Blank the last line instead.
		idx = len(toks) - 1
		for idx > 0 && toks[idx].Type == NL {
			idx--
		}
	}
	// A statement cut short ("1 ->" at the end of a line) shows up as an
	// error on the next line's first token: blame the line before.
	if d := dangling(toks, idx); d >= 0 {
		idx = d
	} else if idx > 0 && toks[idx-1].Type == NL && idx >= 2 && (isPunct(toks[idx], ">") || toks[idx].Type == NL) {
		depth := 0
		for _, t := range toks[:idx] {
			if isPunct(t, "<") {
				depth++
			} else if isPunct(t, ">") {
				depth--
			}
		}
		if depth > 0 || !isPunct(toks[idx], ">") {
			idx -= 2
		}
	}
	if isPunct(toks[idx], ">") {
		depth := 0
		for _, t := range toks[:idx] {
			if isPunct(t, "<") {
				depth++
			} else if isPunct(t, ">") {
				depth--
			}
		}
		if depth <= 0 {
			return collapseNL(append(append([]lexer.Token{}, toks[:idx]...), toks[idx+1:]...))
		}
	}
	// The logical line [a, b).
	a := idx
	if toks[a].Type == NL && a > 0 {
		a--
	}
	for a > 0 && toks[a-1].Type != NL {
		a--
	}
	b := idx
	for b < len(toks) && toks[b].Type != NL {
		b++
	}
	out := make([]lexer.Token, 0, len(toks))
	out = append(out, toks[:a]...)
	out = blankLine(out, toks[a:b])
	out = append(out, toks[b:]...)
	if sameTokens(out, toks) {
		// No progress: drop the offending token itself.
		out = append(append([]lexer.Token{}, toks[:idx]...), toks[idx+1:]...)
	}
	return collapseNL(out)
}

// collapseNL removes NL tokens that recovery left doubled or leading.
func collapseNL(toks []lexer.Token) []lexer.Token {
	out := toks[:0]
	for _, t := range toks {
		if t.Type == NL && (len(out) == 0 || out[len(out)-1].Type == NL) {
			continue
		}
		out = append(out, t)
	}
	return out
}

func joinValues(toks []lexer.Token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Value)
	}
	return b.String()
}

// sameTokens reports whether recovery made no progress. A Bad token's
// text is not compared: re-blanking a line that is already Bad only
// makes its text longer.
func sameTokens(a, b []lexer.Token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Pos.Offset != b[i].Pos.Offset || a[i].Type != Bad && a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}
