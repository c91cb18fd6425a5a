// Package compiler turns a checked .flow file into a vm.Program.
//
// It runs after lang/check (which has validated headers, applet
// arguments and expression syntax) and does what needs the whole flow:
//
//   - lowering: the structured statements become a bytecode graph. A
//     `when` is TEST + JUMP_FALSE; a menu is MENU followed by its branch
//     bodies, each ending in a jump to what follows the menu; sections are
//     laid out after the main body and `goto` is a JUMP;
//   - expressions: every condition, template part, `set` and applet
//     argument is compiled with expr-lang against runtime.Env, so type
//     errors are diagnostics at the exact column;
//   - analysis on the graph (analysis.go): dead ends (a path on which the
//     message is neither replied to, delivered, forwarded nor ended),
//     missing branches (each with a hint saying what to add; a missing
//     else and the dead end on the path it leaves open are one warning;
//     a menu's `default ->` key is reported as the else it was meant to
//     be), unreachable steps (with why), cycles that could spin without
//     waiting for a message, variables read before any path sets them
//     (a "may" analysis: the union over paths) and where some path
//     leaves them unset (a "must" analysis: the intersection; the
//     warning names the branch or condition of such a path, and skips a
//     read guarded with ?? or a nil comparison), and menu branches that
//     fall through into the steps after the menu where every other
//     branch ends (a note).
//
// Diagnostics are returned as a list, never just the first.
package compiler
