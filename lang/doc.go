// Package lang is the front end of flowc: it finds .flow files, parses
// them and runs the file-set checks.
//
// The pipeline, one package per stage, each depending only on the ones
// before it (after go.starlark.net):
//
//	lang/file      source text, byte offsets, line:column, spans, snippets
//	lang/diag      diagnostics: severity, stable code, message, span, hint
//	lang/syntax    tokens → typed AST (participle per line), local recovery, formatter
//	lang/schedule  the business-hours spec language used by hours()
//	lang/sms       GSM-7/UCS-2 encoding and SMS segments of a text
//	lang/directory the directory file (users, teams, contacts): format and
//	               validation, shared with the server
//	lang/registry  applet signatures: what each applet accepts
//	lang/check     checks that need only the files: headers, numbers,
//	               applet arguments, expression syntax; and, for
//	               `flowc check`, SMS length and inbox targets against
//	               a directory
//	compiler       names, types, control flow → vm.Program
//	vm             runs a Program once per inbound message
//	vm/inbound     the inbound stage around vm (STOP/START/HELP, the
//	               contact, resuming, timers): one package for the
//	               server, `flowc run` and `flowc test`
//
// The front end reads through file systems: each file.Source carries the
// fs.FS of its directory (Source.Dir: os.Root-backed on disk, the request
// bundle for a server deploy, see LoadFS), and applet files are read from
// it only, by paths lang/check validates (relative, clean, inside,
// regular, at most check.MaxAppletBytes). So compiling a flow never
// reads a file the flow was not given with.
//
// Text enters once: file.NewSource drops a UTF-8 byte order mark (so
// columns are those the editor shows), and syntax.Parse first asks
// whether the text is .flow text at all: bytes that are not UTF-8, or a
// JSON document (a GUI builder's export), are one flow/encoding error and
// an empty File marked NotFlowText, about which no later stage says more.
//
// Every "did you mean" comes from check.Suggest (edit distance, a swap of
// neighbours counting one), each kind of name from its own candidates:
// the registry's applets, the file's declared applets, schedules and
// sections, the flow's variables and the expression environment's
// fields and functions, the directory's teams and users.
package lang
