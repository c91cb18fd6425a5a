package syntax

import (
	"strconv"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/flowc-dev/flowc/lang/file"
)

// The AST. These structs are also the participle grammar: the struct tags
// are the productions. Every node keeps the tokens it was parsed from
// (participle fills Tokens), which is where its span comes from.
//
//	File      = { Item NL } .
//	Item      = Header | Section | Chain .
//	Header    = HeaderKw [ Ident ] [ "=" ] [ String { "," String } ] .
//	Section   = "section" Ident Block .
//	Chain     = Step { "then" Step } .
//	Step      = When | Block | Set | Bad [ Block ] | Command .
//	When      = "when" Cond Block [ "else" Chain ] .
//	Block     = "<" [ NL ] { BlockItem NL } ">" .
//	BlockItem = Branch | Chain .
//	Branch    = Label "->" Chain .
//	Label     = "else" | "timeout" Duration | "on" Ident | Number | String | Ident .
//	Set       = "set" Ident "=" Expr .
//	Command   = Ident { Value } [ Block ] .
//	Value     = [ Kind ] ( Ident | String | Number | Duration | Parens ) [ Parens ] .

// Node is any AST node.
type Node interface {
	tokens() []lexer.Token
}

// File is one parsed .flow file.
type File struct {
	Source   *file.Source `parser:""`
	Comments []Comment    `parser:""`
	// NotFlowText is set when the file is not .flow text at all (not
	// UTF-8, or a JSON document): Parse reported that once and the file
	// has no items; later stages say nothing more about it.
	NotFlowText bool    `parser:""`
	Items       []*Item `parser:"( @@ NL )*"`
}

// Item is one top-level line: a header, a section or a statement.
type Item struct {
	Tokens  []lexer.Token
	Header  *Header  `parser:"  @@"`
	Section *Section `parser:"| @@"`
	Chain   *Chain   `parser:"| @@"`
}

// Header is a declaration such as `numbers "+15550100", "+15550101"`,
// `schedule office = "mon-fri 9-17"` or `applet lookup = "lookup.js"`.
type Header struct {
	Tokens  []lexer.Token
	Keyword string `parser:"@('flow' | 'numbers' | 'timezone' | 'schedule' | 'holidays' | 'applet' | 'help')"`
	Name    *Name  `parser:"@@?"`
	Eq      bool   `parser:"( @'=' NL? )?"`
	Values  []*Str `parser:"( @@ ( ',' NL? @@ )* )?"`
}

// Name is an identifier with its position.
type Name struct {
	Tokens []lexer.Token
	Value  string `parser:"@Ident"`
}

// Str is a string literal; Raw keeps the quotes and escapes as written.
type Str struct {
	Tokens []lexer.Token
	Raw    string `parser:"@String"`
}

// Section is a named block that `goto` can jump to.
type Section struct {
	Tokens []lexer.Token
	Name   *Name  `parser:"'section' @@"`
	Body   *Block `parser:"@@"`
}

// Chain is steps run one after another: `reply "x" then inbox team:a`.
type Chain struct {
	Tokens []lexer.Token
	Steps  []*Step `parser:"@@ ( 'then' NL? @@ )*"`
}

// Step is one element of a chain.
type Step struct {
	Tokens []lexer.Token
	When   *When    `parser:"  @@"`
	Block  *Block   `parser:"| @@"`
	Set    *Set     `parser:"| @@"`
	Bad    *BadStep `parser:"| @@"`
	Cmd    *Command `parser:"| @@"`
}

// When branches on a condition. Else, when present, is a whole chain:
// in `when c < … > else reply "x" then inbox team:a` both the reply and
// the inbox belong to the else branch.
type When struct {
	Tokens []lexer.Token
	Cond   *CondExpr `parser:"'when' @@"`
	Then   *Block    `parser:"@@"`
	Else   *Chain    `parser:"( 'else' NL? @@ )?"`
}

// CondExpr is the raw expr-lang text of a condition.
type CondExpr struct {
	Tokens []lexer.Token
	Text   string `parser:"@Cond"`
}

// Block is `< … >`: statements, or for applets such as menu, branches.
type Block struct {
	Tokens []lexer.Token
	Items  []*BlockItem `parser:"'<' NL? ( @@ NL )* '>'"`
}

// BlockItem is a labelled branch or a statement.
type BlockItem struct {
	Tokens []lexer.Token
	Branch *Branch `parser:"  @@"`
	Chain  *Chain  `parser:"| @@"`
}

// Branch is `LABEL -> chain` inside an applet's block.
type Branch struct {
	Tokens []lexer.Token
	Label  *Label `parser:"@@ '->' NL?"`
	Body   *Chain `parser:"@@"`
}

// Label names a branch: a key the contact replies with, `timeout DUR`,
// `on EVENT` (e.g. `on error`) or `else`.
type Label struct {
	Tokens  []lexer.Token
	Else    bool   `parser:"(  @'else'"`
	Timeout string `parser:" | 'timeout' @Duration"`
	On      string `parser:" | 'on' @Ident"`
	Key     string `parser:" | @(Number | String | Ident | Keyword) )"`
}

// Set assigns a flow variable from an expression.
type Set struct {
	Tokens []lexer.Token
	Name   *Name    `parser:"'set' @@ '='"`
	Expr   *RawExpr `parser:"@@"`
}

// RawExpr is the raw expr-lang text after `set NAME =`.
type RawExpr struct {
	Tokens []lexer.Token
	Text   string `parser:"@Expr"`
}

// BadStep stands where the parser gave up on a line (already reported),
// so that the rest of the file can still be parsed and checked.
type BadStep struct {
	Tokens []lexer.Token
	Text   string `parser:"@Bad"`
	Block  *Block `parser:"@@?"`
}

// Command is an applet call: a name, positional and tagged arguments as
// one flat list, and an optional block of branches. Which values are
// positional and which are tags (`by round-robin`, `as name`) is decided
// by the applet's signature in the registry, not by the grammar, so a new
// applet never needs a grammar change.
type Command struct {
	Tokens []lexer.Token
	Name   *Name    `parser:"@@"`
	Args   []*Value `parser:"@@*"`
	Block  *Block   `parser:"@@?"`
}

// Value is one argument: `team:sales`, `email:"a@b.c"`, `"text"`, `2`,
// `10m`, `round-robin`, `lookup(contact.phone)` or `(expr)`.
type Value struct {
	Tokens []lexer.Token
	Kind   string `parser:"@Kind?"`
	Tok    string `parser:"@(Ident | String | Number | Duration | Parens)"`
	Call   string `parser:"@Parens?"`
}

func (n *Item) tokens() []lexer.Token      { return n.Tokens }
func (n *Header) tokens() []lexer.Token    { return n.Tokens }
func (n *Name) tokens() []lexer.Token      { return n.Tokens }
func (n *Str) tokens() []lexer.Token       { return n.Tokens }
func (n *Section) tokens() []lexer.Token   { return n.Tokens }
func (n *Chain) tokens() []lexer.Token     { return n.Tokens }
func (n *Step) tokens() []lexer.Token      { return n.Tokens }
func (n *When) tokens() []lexer.Token      { return n.Tokens }
func (n *CondExpr) tokens() []lexer.Token  { return n.Tokens }
func (n *Block) tokens() []lexer.Token     { return n.Tokens }
func (n *BlockItem) tokens() []lexer.Token { return n.Tokens }
func (n *Branch) tokens() []lexer.Token    { return n.Tokens }
func (n *Label) tokens() []lexer.Token     { return n.Tokens }
func (n *Set) tokens() []lexer.Token       { return n.Tokens }
func (n *RawExpr) tokens() []lexer.Token   { return n.Tokens }
func (n *BadStep) tokens() []lexer.Token   { return n.Tokens }
func (n *Command) tokens() []lexer.Token   { return n.Tokens }
func (n *Value) tokens() []lexer.Token     { return n.Tokens }

// Span returns the source range of a node of f.
func (f *File) Span(n Node) file.Span {
	toks := n.tokens()
	// Trim synthetic and newline tokens at either end.
	for len(toks) > 0 && (toks[len(toks)-1].Type == NL || toks[len(toks)-1].Type == EOF) {
		toks = toks[:len(toks)-1]
	}
	for len(toks) > 0 && toks[0].Type == NL {
		toks = toks[1:]
	}
	if len(toks) == 0 {
		return f.Source.Span(0, 0)
	}
	return f.clampSpan(toks[0].Pos.Offset, tokenEnd(toks[len(toks)-1]))
}

// TokenSpan is the span of a single token.
func (f *File) TokenSpan(t lexer.Token) file.Span {
	return f.clampSpan(t.Pos.Offset, tokenEnd(t))
}

// clampSpan keeps a span inside the text: the ">" that recovery adds to
// close a block left open at the end of the file has no text of its own.
func (f *File) clampSpan(start, end int) file.Span {
	n := len(f.Source.Text)
	return f.Source.Span(min(start, n), max(min(end, n), min(start, n)))
}

// Start is the byte offset where a node begins.
func Start(n Node) int {
	toks := n.tokens()
	if len(toks) == 0 {
		return 0
	}
	return toks[0].Pos.Offset
}

// Value reports the decoded text of a string literal.
func (s *Str) Value() (string, error) { return strconv.Unquote(s.Raw) }

// ValueType classifies an argument.
type ValueType int

const (
	VIdent    ValueType = iota // round-robin
	VString                    // "text"
	VNumber                    // 2
	VDuration                  // 10m
	VTarget                    // team:sales, email:"a@b.c"
	VCall                      // lookup(contact.phone)
	VExpr                      // (expr)
	VBad                       // a kind with a number, a call on a non-name
)

// Type classifies the value.
func (v *Value) Type() ValueType {
	first := v.Tokens[0]
	var tok lexer.Token
	for _, t := range v.Tokens {
		if t.Type != Kind {
			tok = t
			break
		}
	}
	switch {
	case first.Type == Kind:
		if v.Call != "" || (tok.Type != Ident && tok.Type != String) {
			return VBad
		}
		return VTarget
	case v.Call != "":
		if tok.Type != Ident {
			return VBad
		}
		return VCall
	}
	switch tok.Type {
	case String:
		return VString
	case Number:
		return VNumber
	case Duration:
		return VDuration
	case Parens:
		return VExpr
	}
	return VIdent
}

// TargetKind is "team" for team:sales.
func (v *Value) TargetKind() string {
	if len(v.Kind) == 0 {
		return ""
	}
	return v.Kind[:len(v.Kind)-1]
}

// Text is the value's text: a string decoded, anything else as written
// (for a target, the part after the colon).
func (v *Value) Text() string {
	if len(v.Tok) > 0 && v.Tok[0] == '"' {
		if s, err := strconv.Unquote(v.Tok); err == nil {
			return s
		}
	}
	return v.Tok
}

// String renders the value as written.
func (v *Value) String() string { return v.Kind + v.Tok + v.Call }

// LabelText renders a label as written.
func (l *Label) String() string {
	switch {
	case l.Else:
		return "else"
	case l.Timeout != "":
		return "timeout " + l.Timeout
	case l.On != "":
		return "on " + l.On
	}
	return l.Key
}
