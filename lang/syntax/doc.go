// Package syntax turns .flow text into a typed AST, recovers from syntax
// errors locally, and formats files in the one canonical style.
//
// # Pipeline
//
//   - lexer.go: a hand-written lexer (a `when` condition and a `set`
//     expression are raw expr-lang text, which a regular lexer cannot
//     cut). Mistakes whose meaning is plain from the text (mistakes.go:
//     `=>`, `when a < 3 <`, `10 min`, curly quotes, `if … {`, unquoted
//     addresses, a pasted JSON document…) are reported there, once, with a
//     diag.Fix when the correction is certain, and lexing goes on as if
//     the correction had been made. layout.go does the same for mistakes
//     of layout and words: a block opened by indentation alone (`menu "…"`
//     without `<`, Python's `when x:`), a reply's text on the next line, a
//     quote ending a string early, `then then`, `elif`, `When`, a header's
//     YAML colon.
//   - recover.go: the token stream is cut into logical lines, each block's
//     inside into lines of its own; participle parses each line once,
//     with its nested blocks left empty, into the grammar's structs
//     (grammar.go). A line participle rejects becomes one BadStep,
//     reported once. So parsing is linear in the file whatever the number
//     of errors (TestParseWorkLinear bounds the tokens given to
//     participle).
//   - convert.go: the grammar's structs become the typed AST (ast.go):
//     statements (Stmt: *Header, *Section, *Chain, *Branch) and steps
//     (Step: *When, *Block, *Set, *Command, *BadStep), each with its byte
//     span and, for statements, its attached comments. No participle type
//     appears in the AST. Consumers switch on node types; Walk visits a
//     tree in source order.
//   - format.go: Format prints a File without errors canonically; Dump
//     renders its structure, which formatting must not change.
package syntax
