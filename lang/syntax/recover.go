package syntax

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// Local recovery. participle stops at the first error of what it is
// given, so it is never given the whole file: the token stream is cut
// into logical lines (a newline ends a line unless it follows a token
// that needs more: "->", "then", "else", "=" or ","), a block `< … >`
// is kept whole inside its line, and participle parses each line once
// with its nested blocks left empty (`< >`). Each block's inside is then
// cut into lines and parsed the same way, and the results are put into
// the empty blocks. A line participle rejects becomes a BadStep (its
// nested blocks still parsed, leniently checked), reported once. So every
// token is given to participle once; only the part of a line after a
// mistake on an earlier physical line of it (`2 -> reply "x" then` left
// unfinished, the next line a branch of its own) is given again, within
// the budget below.

// blockParser parses the items of one line inside a block.
var blockParser = participle.MustBuild[blockBody](
	participle.Lexer(definition{}),
	participle.UseLookahead(1),
)

// blockBody is the grammar of a block's inside, without its brackets.
type blockBody struct {
	Items []*gBlockItem `parser:"( @@ NL )*"`
}

// reparseBudget bounds, in multiples of the file's tokens, what is given
// to participle again after a mistake: only a pathological file (thousands
// of lines each left unfinished) reaches it, and is then given up on.
const reparseBudget = 2

type unitParser struct {
	src    *file.Source
	toks   []lexer.Token // balanced: every `<` has its `>`
	match  []int         // for a `<` at i, the index of its `>`
	lexBad map[int]bool  // offsets of Bad tokens the lexer reported
	diags  diag.List
	work   *parseWork
	given  int // tokens given to participle
	giveUp bool
}

func (p *unitParser) gaveUp() bool { return p.giveUp || len(p.diags) > maxErrors }

func (p *unitParser) isLexBad(t lexer.Token) bool { return t.Type == Bad && p.lexBad[t.Pos.Offset] }

// balance stores toks with every block bracket matched: a `>` that closes
// nothing is reported and dropped, and every block still open at the end
// is reported and closed there (a single one whose lines are indented
// is closed where its indentation ends, see dedentAt). A line the lexer
// gave up on that ends in `<` (`when (a == 1 <` with its parenthesis
// left open) still opens its block, so the block's `>` is not reported
// as well.
func (p *unitParser) balance(toks []lexer.Token) {
	toks = p.nameComparisons(toks)
	out := make([]lexer.Token, 0, len(toks)+8)
	var open []int
	for _, t := range toks {
		switch {
		case isPunct(t, "<"):
			open = append(open, len(out))
		case isPunct(t, ">"):
			if len(open) == 0 {
				d := p.diags.Errorf(p.src.Span(t.Pos.Offset, t.Pos.Offset+1), "flow/parse", `unexpected ">": there is no open block to close`)
				d.Hint = `remove the ">", or add the "<" that opens its block`
				continue
			}
			open = open[:len(open)-1]
		case t.Type == NL:
			if len(out) == 0 || out[len(out)-1].Type == NL {
				continue // left doubled by a dropped ">"
			}
		}
		out = append(out, t)
		if p.isLexBad(t) && endsInOpen(t.Value) {
			lt := synth(Punct, t.Pos)
			lt.Value = "<"
			open = append(open, len(out))
			out = append(out, lt)
		}
	}
	// One block left open whose lines are indented: it ends before the
	// first line indented no deeper than the line opening it, so the
	// lines after it are not read as inside it too.
	dedent := -1
	if len(open) == 1 {
		dedent = dedentAt(out, open[0])
	}
	for _, o := range open {
		if o > 0 && p.isLexBad(out[o-1]) {
			continue // opened on a line already reported
		}
		lt := out[o]
		hint := `add the ">" that closes this block`
		if dedent >= 0 {
			hint = fmt.Sprintf(`add the ">" that closes this block, before line %d`, out[dedent].Pos.Line)
		}
		p.diags.Errorf(p.src.Span(lt.Pos.Offset, lt.Pos.Offset+1), "flow/parse", `block is never closed (missing ">")`).Hint = hint
	}
	if dedent >= 0 {
		gt := synth(Punct, out[dedent-1].Pos)
		gt.Value = ">"
		out = append(out[:dedent:dedent], append([]lexer.Token{gt, synth(NL, out[dedent-1].Pos)}, out[dedent:]...)...)
		open = nil
	}
	if len(open) > 0 {
		pos := out[len(out)-1].Pos
		if out[len(out)-1].Type != NL {
			out = append(out, synth(NL, pos))
		}
		for range open {
			gt := synth(Punct, pos)
			gt.Value = ">"
			out = append(out, gt, synth(NL, pos))
		}
	}
	p.toks = out
	p.match = make([]int, len(out))
	open = open[:0]
	for i, t := range out {
		if isPunct(t, "<") {
			open = append(open, i)
		} else if isPunct(t, ">") {
			p.match[open[len(open)-1]] = i
			open = open[:len(open)-1]
		}
	}
}

// nameComparisons recognises `when count < limit < reply "x" >`, the
// comparison with a name on its right that the lexer cannot tell from a
// block holding an applet call (`when x < menu < … >`): here the when's
// block is never closed. Such a `<` is reported once, as the comparison
// it is, with its fix, and the condition is taken to run to the second
// `<`, so that the blocks balance as meant.
func (p *unitParser) nameComparisons(toks []lexer.Token) []lexer.Token {
	var open []int
	for i, t := range toks {
		if isPunct(t, "<") {
			open = append(open, i)
		} else if isPunct(t, ">") && len(open) > 0 {
			open = open[:len(open)-1]
		}
	}
	drop := map[int]bool{}
	for _, o := range open {
		if o < 1 || o+2 >= len(toks) || toks[o-1].Type != Cond || toks[o+1].Type != Ident || !isPunct(toks[o+2], "<") ||
			toks[o+2].Pos.Line != toks[o-1].Pos.Line {
			continue
		}
		cond := &toks[o-1]
		end := tokenEnd(toks[o+1])
		p.diags = append(p.diags, comparisonDiag(p.src, cond.Pos.Offset, toks[o].Pos.Offset, toks[o].Pos.Offset+1, end))
		cond.Value = p.src.Text[cond.Pos.Offset:end]
		drop[o], drop[o+1] = true, true
	}
	if len(drop) == 0 {
		return toks
	}
	out := make([]lexer.Token, 0, len(toks))
	for i, t := range toks {
		if !drop[i] {
			out = append(out, t)
		}
	}
	return out
}

// continues reports whether a newline after t continues the statement
// (the grammar's `NL?` after these tokens).
func continues(t lexer.Token) bool {
	switch t.Type {
	case Punct:
		return t.Value == "->" || t.Value == "=" || t.Value == ","
	case Keyword:
		return t.Value == "then" || t.Value == "else"
	}
	return false
}

// lines cuts toks[a:b] into logical lines [start, end), without the NL
// that ends each; a block inside a line stays whole.
func (p *unitParser) lines(a, b int) [][2]int {
	var out [][2]int
	for i := a; i < b; {
		if p.toks[i].Type == NL {
			i++
			continue
		}
		s := i
		for i < b {
			t := p.toks[i]
			if isPunct(t, "<") {
				i = p.match[i] + 1
				continue
			}
			if t.Type == NL && !(i > s && continues(p.toks[i-1])) {
				break
			}
			i++
		}
		out = append(out, [2]int{s, i})
	}
	return out
}

// abbrev is a line as participle is given it: its own tokens, each
// nested block reduced to its brackets.
type abbrev struct {
	toks   []lexer.Token
	orig   []int    // toks[k] is p.toks[orig[k]]
	nested [][2]int // the nested blocks' brackets, in order
}

func (p *unitParser) abbreviate(s, e int) abbrev {
	var a abbrev
	for i := s; i < e; {
		a.toks = append(a.toks, p.toks[i])
		a.orig = append(a.orig, i)
		if isPunct(p.toks[i], "<") {
			m := p.match[i]
			a.toks = append(a.toks, p.toks[m])
			a.orig = append(a.orig, m)
			a.nested = append(a.nested, [2]int{i, m})
			i = m + 1
			continue
		}
		i++
	}
	return a
}

// line parses the logical line p.toks[s:e], at the top level or inside a
// block, and passes what it holds to add (an *gItem at the top level, a
// *gBlockItem inside a block).
func (p *unitParser) line(s, e int, top bool, add func(*gItem, *gBlockItem)) {
	a := p.abbreviate(s, e)
	if len(a.toks) == 0 {
		return
	}
	for _, t := range a.toks {
		if p.isLexBad(t) {
			// Already reported by the lexer: the line says nothing more.
			p.bad(s, e, a.nested, top, add)
			return
		}
	}
	if top {
		if lbl := branchLabel(a.toks); lbl >= 0 {
			lt := a.toks[0]
			label := joinValues(a.toks[:lbl])
			d := p.diags.Errorf(p.src.Span(lt.Pos.Offset, tokenEnd(a.toks[lbl-1])), "flow/branch", "branch %q outside an applet block", label)
			d.Hint = "labelled branches (KEY -> …) belong inside a menu, ask or run block; is a \">\" above closing the block too early?"
			p.bad(s, e, a.nested, top, add)
			return
		}
	}
	// (A branch may be labelled with a header's word: `help -> …`.)
	if first := a.toks[0]; !top && first.Type == Keyword && !(len(a.toks) > 1 && isPunct(a.toks[1], "->")) {
		if d := outOfPlace(p.src, first); d != nil {
			p.diags = append(p.diags, *d)
			p.bad(s, e, a.nested, top, add)
			return
		}
	}
	toks := a.toks
	if toks[len(toks)-1].Type != NL {
		end := p.src.Pos(len(p.src.Text)).Offset
		if e < len(p.toks) {
			end = p.toks[e].Pos.Offset
		}
		toks = append(toks[:len(toks):len(toks)], lexer.Token{Type: NL, Pos: p.pos(end)})
	}
	p.given += len(toks)
	if p.work != nil {
		p.work.parses++
		p.work.tokens += len(toks)
	}
	var err error
	var items []*gItem
	var bitems []*gBlockItem
	if top {
		var f *gFile
		if f, err = parseWith(parser, p.src, toks); err == nil {
			items = f.Items
		}
	} else {
		var b *blockBody
		if b, err = parseWith(blockParser, p.src, toks); err == nil {
			bitems = b.Items
		}
	}
	if err == nil {
		var blocks []*gBlock
		for _, it := range items {
			blocks = it.blocks(blocks)
		}
		for _, it := range bitems {
			blocks = it.blocks(blocks)
		}
		if len(blocks) == len(a.nested) {
			for k, nb := range a.nested {
				blocks[k].Tokens = p.toks[nb[0] : nb[1]+1]
				blocks[k].Items = p.blockItems(nb[0], nb[1])
			}
			for _, it := range items {
				add(it, nil)
			}
			for _, it := range bitems {
				add(nil, it)
			}
			return
		}
		err = participle.Errorf(toks[0].Pos, "a block is not where a block can be")
	}
	idx, _ := errorToken(toks, err)
	if idx > len(a.toks) {
		idx = len(a.toks)
	}
	d := parseDiagnostic(p.src, toks, idx, err)
	if !reported(p.diags, d) {
		p.diags = append(p.diags, d)
	}
	// The Bad part runs to the end of the physical line holding the
	// mistake (for a line left unfinished, the line before the one the
	// parser failed on); what follows is parsed again on its own.
	blame := idx
	if dl := dangling(toks, idx); dl >= 0 {
		blame = dl
	}
	cut := len(a.toks)
	for k := blame; k < len(a.toks); k++ {
		if a.toks[k].Type == NL {
			cut = k + 1
			break
		}
	}
	if cut >= len(a.toks) {
		p.bad(s, e, a.nested, top, add)
		return
	}
	rest := a.orig[cut]
	var nested [][2]int
	for _, nb := range a.nested {
		if nb[0] < rest {
			nested = append(nested, nb)
		}
	}
	p.bad(s, rest, nested, top, add)
	if p.given > reparseBudget*len(p.toks)+64 {
		p.giveUp = true
		d := p.diags.Errorf(p.src.Span(p.toks[rest].Pos.Offset, tokenEnd(p.toks[rest])), "flow/parse", "too many errors; giving up")
		d.Hint = "fix the errors above first"
		return
	}
	p.line(rest, e, top, add)
}

// bad adds the line p.toks[s:e] as a BadStep, with its nested blocks
// parsed (the first in the BadStep, any more in BadSteps of their own).
func (p *unitParser) bad(s, e int, nested [][2]int, top bool, add func(*gItem, *gBlockItem)) {
	for e > s && p.toks[e-1].Type == NL {
		e--
	}
	toks := p.toks[s:e]
	var text []lexer.Token
	for i := s; i < e; i++ {
		if isPunct(p.toks[i], "<") {
			i = p.match[i]
			continue
		}
		text = append(text, p.toks[i])
	}
	ch := &gChain{Tokens: toks}
	st := &gStep{Tokens: toks, Bad: &gBadStep{Tokens: toks, Text: joinValues(text)}}
	ch.Steps = append(ch.Steps, st)
	for k, nb := range nested {
		blk := &gBlock{Tokens: p.toks[nb[0] : nb[1]+1], Items: p.blockItems(nb[0], nb[1])}
		if k == 0 {
			st.Bad.Block = blk
			continue
		}
		ch.Steps = append(ch.Steps, &gStep{Tokens: blk.Tokens, Bad: &gBadStep{Tokens: blk.Tokens, Block: blk}})
	}
	if top {
		add(&gItem{Tokens: toks, Chain: ch}, nil)
	} else {
		add(nil, &gBlockItem{Tokens: toks, Chain: ch})
	}
}

// blockItems parses the inside of the block whose brackets are at open
// and close.
func (p *unitParser) blockItems(open, close int) []*gBlockItem {
	var items []*gBlockItem
	for _, ln := range p.lines(open+1, close) {
		if p.gaveUp() {
			break
		}
		p.line(ln[0], ln[1], false, func(_ *gItem, it *gBlockItem) { items = append(items, it) })
	}
	return items
}

func (p *unitParser) pos(off int) lexer.Position {
	q := p.src.Pos(off)
	return lexer.Position{Filename: p.src.Name, Offset: q.Offset, Line: q.Line, Column: q.Column}
}

// parseWith runs participle on one line's tokens.
func parseWith[T any](parser *participle.Parser[T], src *file.Source, toks []lexer.Token) (*T, error) {
	last := toks[len(toks)-1]
	eof := lexer.Token{Type: EOF, Pos: last.Pos}
	eof.Pos.Offset = tokenEnd(last)
	pl, err := lexer.Upgrade(&sliceLexer{toks: toks, eof: eof})
	if err != nil {
		return nil, err
	}
	return parser.ParseFromLexer(pl)
}

// blocks appends, in source order, the blocks of a line just parsed
// (each still empty: its inside is parsed separately).
func (n *gItem) blocks(out []*gBlock) []*gBlock {
	switch {
	case n.Section != nil:
		return append(out, n.Section.Body)
	case n.Chain != nil:
		return n.Chain.blocks(out)
	}
	return out
}

func (n *gBlockItem) blocks(out []*gBlock) []*gBlock {
	if n.Branch != nil {
		return n.Branch.Body.blocks(out)
	}
	return n.Chain.blocks(out)
}

func (n *gChain) blocks(out []*gBlock) []*gBlock {
	for _, st := range n.Steps {
		switch {
		case st.When != nil:
			out = append(out, st.When.Then)
			if st.When.Else != nil {
				out = st.When.Else.blocks(out)
			}
		case st.Block != nil:
			out = append(out, st.Block)
		case st.Bad != nil:
			if st.Bad.Block != nil {
				out = append(out, st.Bad.Block)
			}
		case st.Cmd != nil:
			if st.Cmd.Block != nil {
				out = append(out, st.Cmd.Block)
			}
		}
	}
	return out
}

// outOfPlace reports a header or a section written inside a block, or
// nil when t starts neither.
func outOfPlace(src *file.Source, t lexer.Token) *diag.Diagnostic {
	span := src.Span(t.Pos.Offset, tokenEnd(t))
	switch t.Value {
	case "section":
		return &diag.Diagnostic{Severity: diag.Error, Code: "flow/parse", Span: span,
			Message: "a section cannot be inside a block", Hint: "sections are declared at the top level of the file"}
	case "flow", "numbers", "timezone", "schedule", "holidays", "applet", "help", "hosts", "channel":
		return &diag.Diagnostic{Severity: diag.Error, Code: "flow/parse", Span: span,
			Message: fmt.Sprintf("the header %q cannot be inside a block", t.Value),
			Hint:    "headers such as `" + t.Value + "` belong at the top level of the file, not inside a block"}
	}
	return nil
}

// branchLabel returns the length of the branch label that toks start
// with (`1`, `"agent"`, `else`, `timeout 10m`, `on error`, each followed by
// "->"), or -1.
func branchLabel(toks []lexer.Token) int {
	n := 1
	if len(toks) > 2 && (toks[0].Value == "timeout" || toks[0].Value == "on") {
		n = 2
	}
	if len(toks) <= n || !isPunct(toks[n], "->") {
		return -1
	}
	return n
}

// endsInOpen reports whether the text of a Bad token ends in `<` (before
// a comment: the text of an unclosed parenthesis runs to the end of its
// line).
func endsInOpen(v string) bool {
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.HasSuffix(strings.TrimRight(v, " \t\r"), "<")
}

// dedentAt returns the index of the first token after the `<` at o that
// starts a line indented no deeper than the line holding o, with every
// block opened in between closed, or -1 (also when that token is a ">":
// the brackets then say otherwise).
func dedentAt(toks []lexer.Token, o int) int {
	ls := o
	for ls > 0 && toks[ls-1].Type != NL {
		ls--
	}
	indent, depth := toks[ls].Pos.Column, 0
	for j := o + 1; j < len(toks); j++ {
		t := toks[j]
		if toks[j-1].Type == NL && depth == 0 && t.Type != NL && t.Pos.Column <= indent && t.Pos.Line > toks[o].Pos.Line {
			if isPunct(t, ">") {
				return -1
			}
			return j
		}
		if isPunct(t, "<") {
			depth++
		} else if isPunct(t, ">") {
			if depth--; depth < 0 {
				return -1
			}
		}
	}
	return -1
}
