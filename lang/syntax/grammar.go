package syntax

import (
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar. These structs are participle's: the struct tags are the
// productions, and participle fills them, one logical line at a time
// (recover.go). They are the parse layer only: convert.go turns them into
// the typed AST of ast.go, which is what the rest of flowc sees. Every
// node keeps the tokens it was parsed from (participle fills Tokens),
// which is where the AST's spans come from. Grammar() prints this grammar
// without the g prefix of the type names.
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

// gnode is any grammar node.
type gnode interface {
	tokens() []lexer.Token
}

// gFile is the grammar's root: a file's lines.
type gFile struct {
	Items []*gItem `parser:"( @@ NL )*"`
}

// Item is one top-level line: a header, a section or a statement.
type gItem struct {
	Tokens  []lexer.Token
	Header  *gHeader  `parser:"  @@"`
	Section *gSection `parser:"| @@"`
	Chain   *gChain   `parser:"| @@"`
}

// Header is a declaration such as `numbers "+15550100", "+15550101"`,
// `schedule office = "mon-fri 9-17"` or `applet lookup = "lookup.js"`.
type gHeader struct {
	Tokens  []lexer.Token
	Keyword string  `parser:"@('flow' | 'numbers' | 'timezone' | 'schedule' | 'holidays' | 'applet' | 'help' | 'hosts' | 'channel')"`
	Name    *gName  `parser:"@@?"`
	Eq      bool    `parser:"( @'=' NL? )?"`
	Values  []*gStr `parser:"( @@ ( ',' NL? @@ )* )?"`
}

// Name is an identifier with its position.
type gName struct {
	Tokens []lexer.Token
	Value  string `parser:"@Ident"`
}

// Str is a string literal; Raw keeps the quotes and escapes as written.
type gStr struct {
	Tokens []lexer.Token
	Raw    string `parser:"@String"`
}

// Section is a named block that `goto` can jump to.
type gSection struct {
	Tokens []lexer.Token
	Name   *gName  `parser:"'section' @@"`
	Body   *gBlock `parser:"@@"`
}

// Chain is steps run one after another: `reply "x" then inbox team:a`.
type gChain struct {
	Tokens []lexer.Token
	Steps  []*gStep `parser:"@@ ( 'then' NL? @@ )*"`
}

// Step is one element of a chain.
type gStep struct {
	Tokens []lexer.Token
	When   *gWhen    `parser:"  @@"`
	Block  *gBlock   `parser:"| @@"`
	Set    *gSet     `parser:"| @@"`
	Bad    *gBadStep `parser:"| @@"`
	Cmd    *gCommand `parser:"| @@"`
}

// When branches on a condition. Else, when present, is a whole chain:
// in `when c < … > else reply "x" then inbox team:a` both the reply and
// the inbox belong to the else branch.
type gWhen struct {
	Tokens []lexer.Token
	Cond   *gCondExpr `parser:"'when' @@"`
	Then   *gBlock    `parser:"@@"`
	Else   *gChain    `parser:"( 'else' NL? @@ )?"`
}

// CondExpr is the raw expr-lang text of a condition.
type gCondExpr struct {
	Tokens []lexer.Token
	Text   string `parser:"@Cond"`
}

// Block is `< … >`: statements, or for applets such as menu, branches.
type gBlock struct {
	Tokens []lexer.Token
	Items  []*gBlockItem `parser:"'<' NL? ( @@ NL )* '>'"`
}

// BlockItem is a labelled branch or a statement.
type gBlockItem struct {
	Tokens []lexer.Token
	Branch *gBranch `parser:"  @@"`
	Chain  *gChain  `parser:"| @@"`
}

// Branch is `LABEL -> chain` inside an applet's block.
type gBranch struct {
	Tokens []lexer.Token
	Label  *gLabel `parser:"@@ '->' NL?"`
	Body   *gChain `parser:"@@"`
}

// Label names a branch: a key the contact replies with, `timeout DUR`,
// `on EVENT` (e.g. `on error`) or `else`.
type gLabel struct {
	Tokens  []lexer.Token
	Else    bool   `parser:"(  @'else'"`
	Timeout string `parser:" | 'timeout' @Duration"`
	On      string `parser:" | 'on' @Ident"`
	Key     string `parser:" | @(Number | String | Ident | Keyword) )"`
}

// Set assigns a flow variable from an expression.
type gSet struct {
	Tokens []lexer.Token
	Name   *gName    `parser:"'set' @@ '='"`
	Expr   *gRawExpr `parser:"@@"`
}

// RawExpr is the raw expr-lang text after `set NAME =`.
type gRawExpr struct {
	Tokens []lexer.Token
	Text   string `parser:"@Expr"`
}

// BadStep stands where the parser gave up on a line (already reported),
// so that the rest of the file can still be parsed and checked.
type gBadStep struct {
	Tokens []lexer.Token
	Text   string  `parser:"@Bad"`
	Block  *gBlock `parser:"@@?"`
}

// Command is an applet call: a name, positional and tagged arguments as
// one flat list, and an optional block of branches. Which values are
// positional and which are tags (`by round-robin`, `as name`) is decided
// by the applet's signature in the registry, not by the grammar, so a new
// applet never needs a grammar change.
type gCommand struct {
	Tokens []lexer.Token
	Name   *gName    `parser:"@@"`
	Args   []*gValue `parser:"@@*"`
	Block  *gBlock   `parser:"@@?"`
}

// Value is one argument: `team:sales`, `email:"a@b.c"`, `"text"`, `2`,
// `10m`, `round-robin`, `lookup(contact.phone)` or `(expr)`.
type gValue struct {
	Tokens []lexer.Token
	Kind   string `parser:"@Kind?"`
	Tok    string `parser:"@(Ident | String | Number | Duration | Parens)"`
	Call   string `parser:"@Parens?"`
}

func (n *gItem) tokens() []lexer.Token      { return n.Tokens }
func (n *gHeader) tokens() []lexer.Token    { return n.Tokens }
func (n *gName) tokens() []lexer.Token      { return n.Tokens }
func (n *gStr) tokens() []lexer.Token       { return n.Tokens }
func (n *gSection) tokens() []lexer.Token   { return n.Tokens }
func (n *gChain) tokens() []lexer.Token     { return n.Tokens }
func (n *gStep) tokens() []lexer.Token      { return n.Tokens }
func (n *gWhen) tokens() []lexer.Token      { return n.Tokens }
func (n *gCondExpr) tokens() []lexer.Token  { return n.Tokens }
func (n *gBlock) tokens() []lexer.Token     { return n.Tokens }
func (n *gBlockItem) tokens() []lexer.Token { return n.Tokens }
func (n *gBranch) tokens() []lexer.Token    { return n.Tokens }
func (n *gLabel) tokens() []lexer.Token     { return n.Tokens }
func (n *gSet) tokens() []lexer.Token       { return n.Tokens }
func (n *gRawExpr) tokens() []lexer.Token   { return n.Tokens }
func (n *gBadStep) tokens() []lexer.Token   { return n.Tokens }
func (n *gCommand) tokens() []lexer.Token   { return n.Tokens }
func (n *gValue) tokens() []lexer.Token     { return n.Tokens }

// tokSpan is the byte range of a grammar node's tokens, without the
// newline and end-of-file tokens at either end.
func tokSpan(n gnode) (start, end int) {
	toks := n.tokens()
	for len(toks) > 0 && (toks[len(toks)-1].Type == NL || toks[len(toks)-1].Type == EOF) {
		toks = toks[:len(toks)-1]
	}
	for len(toks) > 0 && toks[0].Type == NL {
		toks = toks[1:]
	}
	if len(toks) == 0 {
		return 0, 0
	}
	return toks[0].Pos.Offset, tokenEnd(toks[len(toks)-1])
}

// typ classifies the value.
func (v *gValue) typ() ValueType {
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
		// user:(contact.owner) is a computed target (Value.Computed).
		if v.Call != "" || (tok.Type != Ident && tok.Type != String && tok.Type != Parens) {
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
