// Package vm runs a compiled flow once per inbound event.
//
// A Program is a small bytecode graph (after expr-lang/expr's vm): a
// byte-sized Opcode per instruction, with parallel slices for its one
// argument and its source location, plus side tables (templates, menus,
// targets, applet calls) that arguments index. Conditions and template
// parts are expr-lang programs compiled once by the compiler.
//
// Run is pure: it takes the program, the conversation's State (nil for a
// new conversation), one Event (an inbound message or a timer firing) and
// an Env through which the clock, the contact directory and the applet
// runner come in. It performs no I/O of its own: it returns the Actions
// to apply (replies, inbox deliveries, forwards, tags, variables), the new
// State (where the conversation waits, until when, with which variables)
// or nil when the conversation is over, and a Trace of the steps taken
// with their source locations. The server applies the actions in one
// transaction; `flowc run` and `flowc test` print or check them.
//
// A menu or ask suspends the conversation: State.PC points at it, and the
// contact's next message resumes there; a timer event at or after
// State.Deadline takes the timeout branch. Every event has a step budget,
// so no flow can spin. A Program is immutable once built and safe for
// concurrent use by many goroutines.
package vm
