package syntax

import (
	"errors"
	"fmt"
	"regexp"
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
var parser = participle.MustBuild[gFile](
	participle.Lexer(definition{}),
	participle.UseLookahead(1),
)

// Grammar returns the grammar in EBNF, as participle derives it from the
// grammar structs' tags (grammar.go; docs/language.md quotes it).
func Grammar() string { return grammarNames.ReplaceAllString(parser.String(), "$1") }

// grammarNames are the grammar's type names, which have a g prefix so as
// not to clash with the AST's.
var grammarNames = regexp.MustCompile(`\b[gG]([A-Z]\w*)`)

// maxErrors bounds recovery: past it the file is too broken to be worth
// more messages.
const maxErrors = 50

// maxDepth bounds the nesting of blocks (real flows nest a few deep), and
// so the parser's recursion.
const maxDepth = 100

// Parse parses one .flow file. It always returns a File (possibly with
// BadStep nodes where lines could not be parsed) and every syntax error it
// found. The work is linear in the file's size whatever the number of
// errors (see recover.go): the token stream is cut into logical lines,
// each block's inside into its own lines, participle parses each line
// once with its nested blocks left empty, and a line participle rejects
// becomes a BadStep reported once.
func Parse(src *file.Source) (*File, diag.List) { return parse(src, nil) }

// parseWork is what one Parse cost: the participle parses it ran and
// the tokens they were given (the recovery's work, which tests bound
// instead of timing it).
type parseWork struct {
	parses, tokens int
}

func parse(src *file.Source, work *parseWork) (*File, diag.List) {
	if d := notFlowText(src); d != nil {
		return &File{Source: src, NotFlowText: true}, diag.List{*d}
	}
	toks, comments, diags, lexBad := lex(src)
	if len(diags) > maxErrors {
		diags.Sort()
		diags = diags[:maxErrors]
		diags.Errorf(diags[maxErrors-1].Span, "flow/parse", "too many errors; giving up")
		return &File{Source: src, Comments: comments}, diags
	}
	if at := tooDeep(toks); at >= 0 {
		diags.Errorf(src.Span(toks[at].Pos.Offset, tokenEnd(toks[at])), "flow/parse", "blocks nested more than %d deep", maxDepth)
		return &File{Source: src, Comments: comments}, diags
	}
	p := &unitParser{src: src, lexBad: lexBad, work: work, diags: diags}
	p.balance(toks)
	var items []*gItem
	for _, ln := range p.lines(0, len(p.toks)) {
		if p.gaveUp() {
			break
		}
		p.line(ln[0], ln[1], true, func(it *gItem, _ *gBlockItem) { items = append(items, it) })
	}
	diags = p.diags
	diags.Sort()
	if len(diags) > maxErrors {
		diags = diags[:maxErrors]
		diags.Errorf(diags[maxErrors-1].Span, "flow/parse", "too many errors; giving up")
		return &File{Source: src, Comments: comments}, diags
	}
	f := &File{Source: src, Comments: comments, Stmts: convertItems(items)}
	attachComments(src, f.Stmts, comments)
	return f, diags
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

// parseTokensWith parses a whole file's tokens at once, as Parse did
// before local recovery: FuzzParse compares the two.
func parseTokensWith(parser *participle.Parser[gFile], src *file.Source, toks []lexer.Token) (*gFile, error) {
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
	} else if len(toks) > 0 {
		// The end of the line's tokens: participle wanted more.
		tok = toks[len(toks)-1]
		if tok.Type != NL {
			tok = lexer.Token{Type: NL, Pos: lexer.Position{Offset: tokenEnd(tok)}}
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
	end := max(tokenEnd(tok), tok.Pos.Offset)
	d := diag.Diagnostic{Severity: diag.Error, Code: "flow/parse", Message: msg, Span: src.Span(tok.Pos.Offset, end)}
	d.Hint = hintFor(src, toks, idx)
	if h, fix := missingComma(src, toks, idx); h != "" {
		d.Hint, d.Fixes = h, fix
	} else if h, fix := missingArrow(src, toks, idx, msg); h != "" {
		d.Hint, d.Fixes = h, fix
	}
	return d
}

// missingComma recognises a header's values written without commas
// (`numbers "+15550158" "+15550159"`): the fix puts in every comma the
// line lacks.
func missingComma(src *file.Source, toks []lexer.Token, idx int) (string, []diag.Fix) {
	if idx < 1 || idx >= len(toks) || toks[idx].Type != String || toks[idx-1].Type != String {
		return "", nil
	}
	ls := idx
	for ls > 0 && toks[ls-1].Type != NL {
		ls--
	}
	if toks[ls].Type != Keyword || toks[ls].Value != "numbers" && toks[ls].Value != "holidays" && toks[ls].Value != "hosts" {
		return "", nil
	}
	var edits []diag.Edit
	for k := ls + 1; k+1 < len(toks) && toks[k].Type != NL; k++ {
		if toks[k].Type == String && toks[k+1].Type == String {
			edits = append(edits, diag.Edit{Span: src.Span(tokenEnd(toks[k]), tokenEnd(toks[k])), New: ","})
		}
	}
	return fmt.Sprintf("separate the values with commas: %s %s, %s", toks[ls].Value, toks[idx-1].Value, toks[idx].Value),
		[]diag.Fix{{Title: "insert the commas", Edits: edits}}
}

// missingArrow recognises a branch label without its arrow (`else
// reply "…"` in a menu): the parser wanted "->" after the label.
func missingArrow(src *file.Source, toks []lexer.Token, idx int, msg string) (string, []diag.Fix) {
	if idx < 1 || idx >= len(toks) || !strings.HasSuffix(msg, `(expected "->")`) {
		return "", nil
	}
	lbl := idx - 1
	if toks[lbl].Type == Duration && lbl > 0 && toks[lbl-1].Value == "timeout" {
		lbl--
	}
	if lbl > 0 && toks[lbl-1].Type != NL {
		return "", nil
	}
	label := joinValues(toks[lbl:idx])
	hint := fmt.Sprintf(`a branch's label is followed by "->": %s -> %s …`, label, toks[idx].Value)
	at := toks[idx].Pos.Offset
	return hint, []diag.Fix{{Title: `insert "->"`, Edits: []diag.Edit{{Span: src.Span(at, at), New: "-> "}}}}
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
	ls := min(idx, len(toks)) // the start of idx's line
	if idx < len(toks) && isPunct(toks[idx], "->") {
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
	w := grammarNames.ReplaceAllString(strings.Trim(first[0], "()?*"), "$1")
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
		case "flow", "numbers", "timezone", "schedule", "holidays", "applet", "help", "hosts", "channel":
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
