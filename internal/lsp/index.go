package lsp

// index.go is the only file of the package that walks syntax AST nodes:
// it reduces a parsed file to an Index of names and spans, and every
// feature (hover, completion, definition, references, rename, symbols,
// code actions) reads the Index. When the AST changes, this file is the
// one to port.

import (
	"strings"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// RefKind is what a name refers to.
type RefKind int

// The kinds of names the index records.
const (
	RefSection RefKind = iota
	RefSchedule
	RefApplet   // a JavaScript applet declared with `applet NAME = "file.js"`
	RefVariable // set NAME, ask … as NAME, run … as NAME
	RefTeam     // team:NAME
	RefUser     // user:NAME
	RefCommand  // the applet name of a statement (reply, inbox, …)
)

func (k RefKind) String() string {
	return [...]string{"section", "schedule", "applet", "variable", "team", "user", "command"}[k]
}

// Ref is one occurrence of a name: its definition (Def) or a use.
type Ref struct {
	Kind RefKind
	Name string
	Span file.Span // the name itself
	Def  bool
}

// Symbol is an entry of the document outline.
type Symbol struct {
	Kind     int // symSection… (protocol symbol kinds)
	Name     string
	Detail   string
	Span     file.Span // the whole construct
	Sel      file.Span // its name
	Children []Symbol
}

// Decision is a construct that decides between branches and may lack
// one: a menu, ask or run block, or a when. Code actions add the missing
// branch from it.
type Decision struct {
	Applet     string    // "menu", "ask", "run" or "when"
	Head       file.Span // the keyword or applet name
	Span       file.Span // the whole statement
	HasBlock   bool      // a block is written (always for when)
	Close      int       // offset of the block's closing '>' (when HasBlock)
	LastLine   int       // offset just past the last branch's line, where a new branch goes
	HasElse    bool
	HasTimeout bool
	HasKeys    bool // a run with routes (only then is a missing else a problem)
	Indent     string
}

// Region is a stretch of expression text: a condition, a set's
// expression, a `{{ }}` part, an applet call's or a value's parentheses.
type Region struct {
	Start, End int // byte offsets
}

// Index is what the features need to know about one file.
type Index struct {
	File      *syntax.File
	Refs      []Ref
	Symbols   []Symbol
	Decisions []Decision
	Exprs     []Region
	// Schedules are the specs as written, by name, for hover.
	Schedules map[string]string
	// Specs are hours("spec") arguments written in place, for hover.
	Specs []Ref
}

// BuildIndex indexes f.
func BuildIndex(f *syntax.File) *Index {
	x := &Index{File: f, Schedules: map[string]string{}}
	b := &indexer{x: x, f: f}
	var flowSym *Symbol
	for _, st := range f.Stmts {
		switch st := st.(type) {
		case *syntax.Header:
			b.header(st, &flowSym)
		case *syntax.Section:
			name := b.span(st.Name)
			b.ref(RefSection, st.Name.Value, name, true)
			sym := Symbol{Kind: symNamespace, Name: st.Name.Value, Detail: "section", Span: f.Span(st), Sel: name}
			sym.Children = b.block(st.Body, "")
			x.Symbols = append(x.Symbols, sym)
		case *syntax.Chain:
			x.Symbols = append(x.Symbols, b.chain(st, "")...)
		}
	}
	if flowSym != nil {
		x.Symbols = append([]Symbol{*flowSym}, x.Symbols...)
	}
	b.resolveVariables()
	return x
}

type indexer struct {
	x *Index
	f *syntax.File
	// uses are identifiers read in expressions: variables if the file
	// sets a variable of that name (else message fields, functions'
	// parameters, typos: not variables).
	uses []Ref
}

func (b *indexer) span(n syntax.Node) file.Span { return b.f.Span(n) }

func (b *indexer) ref(k RefKind, name string, sp file.Span, def bool) {
	b.x.Refs = append(b.x.Refs, Ref{Kind: k, Name: name, Span: sp, Def: def})
}

func (b *indexer) header(h *syntax.Header, flowSym **Symbol) {
	if h.Name == nil {
		return
	}
	name := b.span(h.Name)
	whole := b.span(h)
	switch h.Keyword {
	case "flow":
		*flowSym = &Symbol{Kind: symModule, Name: h.Name.Value, Detail: "flow", Span: whole, Sel: name}
	case "schedule":
		b.ref(RefSchedule, h.Name.Value, name, true)
		detail := ""
		if len(h.Values) == 1 {
			if v, err := h.Values[0].Value(); err == nil {
				b.x.Schedules[h.Name.Value] = v
				detail = v
			}
		}
		b.x.Symbols = append(b.x.Symbols, Symbol{Kind: symConstant, Name: h.Name.Value, Detail: detail, Span: whole, Sel: name})
	case "applet":
		b.ref(RefApplet, h.Name.Value, name, true)
		detail := ""
		if len(h.Values) == 1 {
			detail, _ = h.Values[0].Value()
		}
		b.x.Symbols = append(b.x.Symbols, Symbol{Kind: symFunction, Name: h.Name.Value, Detail: detail, Span: whole, Sel: name})
	}
}

// block indexes a block's items and returns the outline symbols in it.
func (b *indexer) block(bl *syntax.Block, _ string) []Symbol {
	if bl == nil {
		return nil
	}
	var syms []Symbol
	for _, st := range bl.Stmts {
		switch st := st.(type) {
		case *syntax.Branch:
			syms = append(syms, b.chain(st.Body, "")...)
		case *syntax.Chain:
			syms = append(syms, b.chain(st, "")...)
		}
	}
	return syms
}

func (b *indexer) chain(ch *syntax.Chain, _ string) []Symbol {
	if ch == nil {
		return nil
	}
	var syms []Symbol
	for _, st := range ch.Steps {
		switch st := st.(type) {
		case *syntax.When:
			b.expr(st.Cond.Text, syntax.Start(st.Cond))
			syms = append(syms, b.block(st.Then, "")...)
			start := syntax.Start(st)
			d := Decision{Applet: "when", Head: b.f.Source.Span(start, start+len("when")), Span: b.span(st), HasBlock: true, HasElse: st.Else != nil, Indent: b.indentAt(start)}
			d.Close, _ = b.closeOf(st.Then)
			b.x.Decisions = append(b.x.Decisions, d)
			syms = append(syms, b.chain(st.Else, "")...)
		case *syntax.Block:
			syms = append(syms, b.block(st, "")...)
		case *syntax.Set:
			b.ref(RefVariable, st.Name.Value, b.span(st.Name), true)
			b.expr(st.Expr.Text, syntax.Start(st.Expr))
		case *syntax.BadStep:
			syms = append(syms, b.block(st.Block, "")...)
		case *syntax.Command:
			syms = append(syms, b.command(st)...)
		}
	}
	return syms
}

func (b *indexer) command(cmd *syntax.Command) []Symbol {
	name := cmd.Name.Value
	b.ref(RefCommand, name, b.span(cmd.Name), false)
	for _, v := range cmd.Args {
		b.value(name, v)
	}
	a, known := registry.Lookup(name)
	if known {
		bound, _ := check.Bind(a, cmd.Args)
		if v := bound.Tags["as"]; v != nil && v.Type() == syntax.VIdent {
			b.ref(RefVariable, v.Tok, b.span(v), true)
		}
		switch name {
		case "goto":
			if v := bound.Positional[0]; v != nil && v.Type() == syntax.VIdent {
				b.ref(RefSection, v.Tok, b.span(v), false)
			}
		case "http": // the body is a variable's value: a read of it
			for _, tag := range []string{"json", "form"} {
				if v := bound.Tags[tag]; v != nil && v.Type() == syntax.VIdent {
					b.uses = append(b.uses, Ref{Kind: RefVariable, Name: v.Tok, Span: b.span(v)}) // kept if the file sets it
				}
			}
		case "run":
			if v := bound.Positional[0]; v != nil && v.Type() == syntax.VCall {
				start := syntax.Start(v)
				b.ref(RefApplet, v.Tok, b.f.Source.Span(start, start+len(v.Tok)), false)
			}
		}
	}
	var syms []Symbol
	if name == "menu" {
		label := "menu"
		if len(cmd.Args) > 0 && cmd.Args[0].Type() == syntax.VString {
			label = cmd.Args[0].Text()
		}
		syms = append(syms, Symbol{Kind: symEnum, Name: label, Detail: "menu", Span: b.span(cmd), Sel: b.span(cmd.Name)})
	}
	if name == "menu" || name == "ask" || name == "run" {
		b.x.Decisions = append(b.x.Decisions, b.decision(cmd))
	}
	inner := b.block(cmd.Block, "")
	if len(syms) > 0 {
		syms[0].Children = inner
		return syms
	}
	return inner
}

func (b *indexer) decision(cmd *syntax.Command) Decision {
	d := Decision{Applet: cmd.Name.Value, Head: b.span(cmd.Name), Span: b.span(cmd), Indent: b.indentAt(syntax.Start(cmd))}
	if cmd.Block == nil {
		return d
	}
	d.HasBlock = true
	d.Close, _ = b.closeOf(cmd.Block)
	for _, st := range cmd.Block.Stmts {
		br, ok := st.(*syntax.Branch)
		if !ok {
			continue
		}
		switch br.Label.Kind {
		case syntax.ElseLabel:
			d.HasElse = true
		case syntax.TimeoutLabel:
			d.HasTimeout = true
		case syntax.OnLabel:
		default:
			d.HasKeys = true
		}
		end := b.span(br).End
		if nl := strings.IndexByte(b.f.Source.Text[end:], '\n'); nl >= 0 && nl+end < d.Close {
			d.LastLine = end + nl + 1
		}
		d.Indent = b.indentAt(syntax.Start(br))
	}
	return d
}

// closeOf is the offset of bl's closing '>' and whether the text has
// one: a block left open at the end of the file is closed by the parser
// with no text of its own.
func (b *indexer) closeOf(bl *syntax.Block) (int, bool) {
	if bl == nil {
		return 0, false
	}
	_, end := bl.Pos()
	if end > 0 && end <= len(b.f.Source.Text) && b.f.Source.Text[end-1] == '>' {
		return end - 1, true
	}
	return 0, false
}

// indentAt is the white space the line holding off starts with.
func (b *indexer) indentAt(off int) string {
	text := b.f.Source.Text
	start := strings.LastIndexByte(text[:off], '\n') + 1
	end := start
	for end < len(text) && (text[end] == ' ' || text[end] == '\t') {
		end++
	}
	return text[start:end]
}

func (b *indexer) value(applet string, v *syntax.Value) {
	switch v.Type() {
	case syntax.VTarget:
		if v.Computed() { // user:(contact.owner): an expression, no name
			text, off := v.ExprText()
			b.expr(text, off)
			return
		}
		kind := v.TargetKind()
		if kind != "team" && kind != "user" {
			return
		}
		k := RefTeam
		if kind == "user" {
			k = RefUser
		}
		start, end := v.Pos()
		b.ref(k, v.Text(), b.f.Source.Span(start+len(v.Kind), end), false)
	case syntax.VString:
		if a, ok := registry.Lookup(applet); !ok || !takesTemplate(a) {
			return
		}
		parts, err := syntax.ParseTemplate(v.Tok, syntax.Start(v))
		if err != nil {
			return
		}
		for _, p := range parts {
			if p.IsExpr {
				b.expr(p.Text, p.Offset)
			}
		}
	case syntax.VCall, syntax.VExpr:
		// The parenthesised text: a call's arguments after its name, or
		// the whole value of an (expr).
		paren, off := v.Call, syntax.Start(v)+len(v.Kind)+len(v.Tok)
		if v.Type() == syntax.VExpr {
			paren, off = v.Tok, syntax.Start(v)+len(v.Kind)
		}
		if len(paren) >= 2 {
			b.expr(paren[1:len(paren)-1], off+1)
		}
	}
}

func takesTemplate(a *registry.Applet) bool {
	for _, p := range a.Params {
		if p.Kinds&registry.Template != 0 {
			return true
		}
	}
	return false
}

// expr records the names an expression (text, at byte offset off) uses:
// identifiers read as variables and hours("NAME") schedule names.
func (b *indexer) expr(text string, off int) {
	b.x.Exprs = append(b.x.Exprs, Region{Start: off, End: off + len(text)})
	for _, w := range exprWords(text) {
		sp := b.f.Source.Span(off+w.start, off+w.end)
		switch {
		case w.schedule:
			b.ref(RefSchedule, w.text, sp, false)
		case w.spec:
			b.x.Specs = append(b.x.Specs, Ref{Kind: RefSchedule, Name: w.text, Span: sp})
		case w.varsField || !w.field && !w.call:
			b.uses = append(b.uses, Ref{Kind: RefVariable, Name: w.text, Span: sp})
		}
	}
}

// resolveVariables keeps the identifiers that name a variable the file
// sets: the others are message fields or mistakes the compiler reports.
func (b *indexer) resolveVariables() {
	set := map[string]bool{}
	for _, r := range b.x.Refs {
		if r.Kind == RefVariable && r.Def {
			set[r.Name] = true
		}
	}
	for _, u := range b.uses {
		if set[u.Name] {
			b.x.Refs = append(b.x.Refs, u)
		}
	}
}
