// Package runtime is what conditions, templates and applets run on: the
// typed message environment for expr-lang expressions, the functions a
// flow may call (hours, holiday), and the compile step that turns an
// expression into a program checked against that environment.
//
// Expressions are compiled once, when the flow is compiled, against the
// Env struct: a typo in a field name or a type error is a compile-time
// diagnostic, not a surprise at 3am. At run time the VM fills one Env per
// inbound event and runs the precompiled programs against it. The Env is
// compiled as a struct value (not a pointer), so that expr loads its
// fields by index (OpLoadField) rather than by name; it is run as *Env.
//
// Flow variables (from set, ask and run … as) are written as bare names in
// expressions; a compile-time patch rewrites each to a lookup in Env.Vars,
// so the environment stays a fixed struct (fast to fill, typed) while
// variables stay convenient to read.
//
// Contact data is plain data (plain.go). Contact.Name, Owner and the
// values of Fields are *string so that the checker types them as
// strings that may be missing (`contact.name + 1` is a compile error,
// `contact.name ?? 'there'` checks); a third compile-time patch wraps
// every read of them, and every use of `contact` or `contact.fields` as
// a whole, in a call that turns the pointer into its string or nil and
// the struct into a map. No pointer leaves an expression: a variable, an
// applet argument, ctx.contact and stored state hold strings, lists and
// maps, and Render prints lists as "a, b" and maps as JSON.
//
// Every evaluation is bounded before it works or allocates (budget.go,
// guard.go): expr-lang's VM has no step limit and charges memory only
// for collections, after some builtins have already built their result.
// A second compile-time patch therefore charges a Budget, found through
// $env (Env.Budget, hidden from expressions): each closure iteration
// costs the size of its body in nodes, each scan of a string or a
// collection by a builtin or an operator costs its length (a collection
// counted with all it holds), a regex match the text times the pattern's
// program; string + and the builtins that can outgrow their arguments
// (repeat, replace, join, toJSON, …) compute the size of their result
// and refuse it past MaxString before building it. The VM gives every
// event one Budget, so all expressions and templates of a message share
// MaxEventSteps and MaxEventBytes; each evaluation also has its own
// MaxSteps and MaxBytes. Statically huge constructs (nested loops over
// variables or ranges, literal ranges past MaxLiteralRange) are also
// reported at compile time, as Compiled.Warnings (cost.go).
//
// The commonest shapes of expression (hours("…") with a literal spec,
// holiday(), one read of a message field, a contact field or a variable,
// alone or with a literal fallback: `contact.name ?? 'there'`) also get a
// native form (native.go), which Eval and EvalText run instead of expr's
// VM: it skips the argument slice, the boxed time and the reflection an
// expr run costs. Such an expression is still compiled and checked by
// expr, and TestNativeFormsAgreeWithExpr holds the two to the same
// values. Compiled.ReadsContact tells the VM when an expression cannot
// read the contact, so it looks the contact up only when needed.
//
// keyword.go holds the one normalisation of a contact's reply
// (NormaliseReply) and the carrier-keyword classification on it
// (CarrierKeyword): the lowest package the server's opt-out stage, the
// VM's menu matcher and the checker's warning all import, so the three
// cannot disagree.
//
// words.go puts expr-lang's messages into flowc's words (CompileMessage
// for the parser and checker, EvalMessage for the vm): types are named
// string, number, bool, list, map, time, nil (unset), never Go's
// (*string, map[string]interface {}, runtime.Contact), and tokens as
// written (`=`, not Operator("=")). Positions stay expr's, except that
// WrongOperand decides, for a string used with a number, which operand is
// the mistake and what to write (`body > 100`: len(body) or int(body));
// the compiler's hint comes from it, and a run-time error points at that
// operand. evalerr.go names the variable behind a run-time nil ("xs is
// nil (unset): all() needs a list"), the usual result of a set that
// failed.
package runtime
