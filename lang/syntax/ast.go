package syntax

import (
	"strconv"

	"github.com/flowc-dev/flowc/lang/file"
)

// The typed AST, in the manner of go.starlark.net's syntax package: a
// file is a list of statements (Stmt), a chain a list of steps (Step),
// each a concrete node type with its span and its attached comments.
// Consumers switch on the node's type. The participle structs the
// parser fills (grammar.go) are converted into these (convert.go) and
// never appear here.
//
//	File    = { Stmt } .                       Stmts: *Header, *Section, *Chain
//	Block   = "<" { Stmt } ">" .               Stmts: *Chain, *Branch
//	Chain   = Step { "then" Step } .           Steps: *When, *Block, *Set, *Command, *BadStep
//	When    = "when" Cond Block [ "else" Chain ] .
//	Branch  = Label "->" Chain .
//	Command = Name { Value } [ Block ] .

// Node is any node of the AST.
type Node interface {
	// Pos is the byte range [start, end) of the node in its file.
	Pos() (start, end int)
	// Comments are the comments attached to a statement or a block (nil
	// for other nodes and for those without comments).
	Comments() *Comments
}

// Comments attached to a node: for a statement, Before are the
// whole-line comments directly above it and Suffix the comment at the end
// of its first line; for a block, After are the comments after its last
// statement, before its ">".
type Comments struct {
	Before []Comment
	Suffix []Comment
	After  []Comment
}

// node holds what every node has.
type node struct {
	start, end int
	comments   *Comments
}

func (n *node) Pos() (int, int)     { return n.start, n.end }
func (n *node) Comments() *Comments { return n.comments }

// Stmt is a line of a file or of a block: *Header, *Section or *Chain at
// the top level; *Chain or *Branch in a block.
type Stmt interface {
	Node
	stmt()
}

// Step is one step of a chain: *When, *Block, *Set, *Command or *BadStep.
type Step interface {
	Node
	step()
}

// File is one parsed .flow file.
type File struct {
	Source   *file.Source
	Comments []Comment // every comment, in order (the formatter's)
	// NotFlowText is set when the file is not .flow text at all (not
	// UTF-8, or a JSON document): Parse reported that once and the file
	// has no statements; later stages say nothing more about it.
	NotFlowText bool
	Stmts       []Stmt
}

// Header is a declaration such as `numbers "+15550100", "+15550101"`,
// `schedule office = "mon-fri 9-17"` or `applet lookup = "lookup.js"`.
type Header struct {
	node
	Keyword string
	Name    *Name // nil when the header has none
	Eq      bool
	Values  []*Str
}

// Section is a named block that `goto` can jump to.
type Section struct {
	node
	Name *Name
	Body *Block
}

// Chain is steps run one after another: `reply "x" then inbox team:a`.
type Chain struct {
	node
	Steps []Step
}

// Branch is `LABEL -> chain` inside an applet's block.
type Branch struct {
	node
	Label *Label
	Body  *Chain
}

// When branches on a condition. Else, when present, is a whole chain:
// in `when c < … > else reply "x" then inbox team:a` both the reply and
// the inbox belong to the else branch.
type When struct {
	node
	Cond *CondExpr
	Then *Block
	Else *Chain
}

// Block is `< … >`: statements, or for applets such as menu, branches.
type Block struct {
	node
	Stmts []Stmt
}

// Set assigns a flow variable from an expression.
type Set struct {
	node
	Name *Name
	Expr *RawExpr
}

// Command is an applet call: a name, positional and tagged arguments as
// one flat list, and an optional block of branches. Which values are
// positional and which are tags (`by round-robin`, `as name`) is decided
// by the applet's signature in the registry, not by the grammar, so a new
// applet never needs a grammar change.
type Command struct {
	node
	Name  *Name
	Args  []*Value
	Block *Block // nil without one
}

// BadStep stands where the parser gave up on a line (already reported), so
// that the rest of the file can still be parsed and checked. Block is a
// block the line opened (nil if none), parsed and checked leniently.
type BadStep struct {
	node
	Text  string
	Block *Block
}

// Name is an identifier.
type Name struct {
	node
	Value string
}

// Str is a string literal; Raw keeps the quotes and escapes as written.
type Str struct {
	node
	Raw string
}

// CondExpr is the raw expr-lang text of a condition.
type CondExpr struct {
	node
	Text string
}

// RawExpr is the raw expr-lang text after `set NAME =`.
type RawExpr struct {
	node
	Text string
}

// LabelKind is what a branch label matches.
type LabelKind int

const (
	KeyLabel     LabelKind = iota // a reply key or a route: 1, "agent", yes
	ElseLabel                     // else
	TimeoutLabel                  // timeout 10m
	OnLabel                       // on error
)

// Label names a branch: a key the contact replies with, `timeout DUR`,
// `on EVENT` (e.g. `on error`) or `else`. Exactly one of Else, Timeout,
// On and Key is set, as Kind says; Arg is the span of the duration or
// the event name.
type Label struct {
	node
	Kind    LabelKind
	Else    bool
	Timeout string // the duration, as written
	On      string // the event
	Key     string // the key as written (a string keeps its quotes)
	// ArgStart, ArgEnd: the byte range of the duration, the event or the
	// key, where a mistake in it is reported.
	ArgStart, ArgEnd int
}

// Value is one argument: `team:sales`, `email:"a@b.c"`, `"text"`, `2`,
// `10m`, `round-robin`, `lookup(contact.phone)` or `(expr)`.
type Value struct {
	node
	Kind string // "team:" in team:sales, with its colon
	Tok  string
	Call string // the parenthesised arguments of a call
	typ  ValueType
}

func (*Header) stmt()  {}
func (*Section) stmt() {}
func (*Chain) stmt()   {}
func (*Branch) stmt()  {}

func (*When) step()    {}
func (*Block) step()   {}
func (*Set) step()     {}
func (*Command) step() {}
func (*BadStep) step() {}

// Span returns the source range of a node of f.
func (f *File) Span(n Node) file.Span {
	start, end := n.Pos()
	return f.clampSpan(start, end)
}

// clampSpan keeps a span inside the text: the ">" that recovery adds to
// close a block left open at the end of the file has no text of its own.
func (f *File) clampSpan(start, end int) file.Span {
	n := len(f.Source.Text)
	return f.Source.Span(min(start, n), max(min(end, n), min(start, n)))
}

// Start is the byte offset where a node begins.
func Start(n Node) int {
	start, _ := n.Pos()
	return start
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
	VTarget                    // team:sales, email:"a@b.c", user:(contact.owner)
	VCall                      // lookup(contact.phone)
	VExpr                      // (expr)
	VBad                       // a kind with a number, a call on a non-name
)

// Type classifies the value.
func (v *Value) Type() ValueType { return v.typ }

// TargetKind is "team" for team:sales.
func (v *Value) TargetKind() string {
	if len(v.Kind) == 0 {
		return ""
	}
	return v.Kind[:len(v.Kind)-1]
}

// Computed reports whether the value is a target whose name an
// expression gives at run time: user:(contact.owner). Its Tok is the
// parenthesised expression; ExprText is the expression itself.
func (v *Value) Computed() bool {
	return v.typ == VTarget && len(v.Tok) > 1 && v.Tok[0] == '('
}

// ExprText is a computed target's expression without its parentheses,
// and the byte offset where it starts in the file.
func (v *Value) ExprText() (string, int) {
	if !v.Computed() {
		return "", 0
	}
	return v.Tok[1 : len(v.Tok)-1], Start(v) + len(v.Kind) + 1
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

// String renders a label as written.
func (l *Label) String() string {
	switch l.Kind {
	case ElseLabel:
		return "else"
	case TimeoutLabel:
		return "timeout " + l.Timeout
	case OnLabel:
		return "on " + l.On
	}
	return l.Key
}
