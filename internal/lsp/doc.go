// Package lsp is `flowc lsp`: a Language Server Protocol 3.17 server for
// .flow files over stdio, on github.com/sourcegraph/jsonrpc2 (which does
// the JSON-RPC framing) with the few protocol types flowc needs written
// out in protocol.go.
//
// The server holds the open buffers and the .flow files of the workspace
// root, and checks them as one set the way `flowc check ROOT` does
// (lang/syntax, lang/check, the compiler, the SMS-length and directory
// checks), with each open buffer in place of its file: so a number
// served by two files is reported in both, before either is saved.
// Diagnostics are published after every change, debounced
// (Options.Debounce), and each request is answered from the analysis of
// the latest text, except completion, which reads the buffer as it is
// and takes the names from the last analysis rather than wait for one.
// A file's parse, and the compiler's diagnostics of it, are kept while
// its text is unchanged (the latter until files on disk change: a
// compile reads the applets), and a compiled expression is kept while
// its source, the flow's variables and calendar are
// (runtime.CacheCompiled, CompiledExprs), so a change recompiles the
// expressions it touched, not the file's hundreds. Two diagnostics go
// where `flowc check` has none: a number served by two flows is reported in
// the first file too, and an applet's JavaScript error is reported in
// the .js file and at the applet's declaration in each flow.
//
// Every feature reads one Index per file (index.go, the only file that
// walks syntax AST nodes): sections, schedules, variables, declared
// applets, goto/hours/run references, targets, menus, and the decisions
// that may lack a branch. Completion reads the text before the cursor
// (a line being typed does not parse) and offers the Index's names, the
// registry's applets and the directory's teams and users.
//
// Reads are confined to the workspace root: through file.OSDir
// (os.Root), so neither ".." nor a symbolic link leaves it; a document
// outside the root is checked from its buffer alone. Limits:
// MaxMessageBytes per JSON-RPC message, MaxFileBytes per .flow file,
// MaxFiles per workspace, found among MaxScanEntries, MaxDirectoryBytes
// for directory.json.
package lsp
