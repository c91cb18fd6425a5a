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
// keyword.go holds the one normalisation of a contact's reply
// (NormaliseReply) and the carrier-keyword classification on it
// (CarrierKeyword): the lowest package the server's opt-out stage, the
// VM's menu matcher and the checker's warning all import, so the three
// cannot disagree.
package runtime
