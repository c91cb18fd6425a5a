// Package runtime is what conditions, templates and applets run on: the
// typed message environment for expr-lang expressions, the functions a
// flow may call (hours, holiday), and the compile step that turns an
// expression into a program checked against that environment.
//
// Expressions are compiled once, when the flow is compiled, against the
// Env struct: a typo in a field name or a type error is a compile-time
// diagnostic, not a surprise at 3am. At run time the VM fills one Env per
// inbound event and runs the precompiled programs against it.
//
// Flow variables (from set, ask and run … as) are written as bare names in
// expressions; a compile-time patch rewrites each to a lookup in Env.Vars,
// so the environment stays a fixed struct (fast to fill, typed) while
// variables stay convenient to read.
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
package runtime
