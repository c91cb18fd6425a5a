package lsp

import (
	"path/filepath"
	"strings"
	"testing"
)

const sessionFlow = `flow a
numbers "+15550100"
timezone "America/New_York"
schedule office = "mon-fri 9-17:30, sat 10-14"
holidays "2026-12-25"
applet lookup = "applets/lookup.js"

when hours("office") <
  menu "Reply 1 for sales, 2 for support" <
    1 -> inbox team:sales
    2 -> goto support
  >
> else reply "We're closed."

section support <
  set order = body
  run lookup(order) as result
  reply "Thanks {{order}}, we will text you."
  inbox user:alice
>
`

var sessionFiles = map[string]string{
	"b.flow": `flow b
numbers "+15550100"

reply "b" then inbox team:support
`,
	"applets/lookup.js": "function main(ctx) { return ctx.args[0]; }\n",
	"directory.json": `{
  "users": [
    {"name": "alice", "email": "alice@example.com"},
    {"name": "bob", "email": "bob@example.com", "available": false}
  ],
  "teams": [
    {"name": "support", "members": ["bob"]},
    {"name": "sales", "members": ["alice", "bob"]}
  ]
}
`,
}

// TestSession drives one whole session through the protocol, as an
// editor does, and checks every answer.
func TestSession(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, sessionFiles)
	writeFiles(t, root, map[string]string{"a.flow": sessionFlow})
	c := startServer(t, Options{})
	a, b := uriOf(filepath.Join(root, "a.flow")), uriOf(filepath.Join(root, "b.flow"))
	dirURI := uriOf(filepath.Join(root, "directory.json"))

	var init initializeResult
	c.mustCall("initialize", initializeParams{RootURI: uriOf(root)}, &init)
	if !init.Capabilities.HoverProvider || init.Capabilities.TextDocumentSync.Change != 2 || init.Capabilities.PositionEncoding != "utf-16" {
		t.Fatalf("capabilities: %+v", init.Capabilities)
	}
	c.notify("initialized", struct{}{})

	// Open: a number served by two files is reported in both, also in
	// b.flow, which is not open.
	c.open(a, sessionFlow)
	da := c.waitDiags(a, 1)
	if d := hasCode(da, "flow/number"); d == nil || !strings.Contains(d.Message, `also served by flow "b"`) {
		t.Errorf("a.flow: want the number served by b too, got %+v", da)
	}
	if d := hasCode(c.waitDiags(b, -1), "flow/number"); d == nil || !strings.Contains(d.Message, `already served by flow "a"`) {
		t.Errorf("b.flow: want the number already served by a, got %+v", d)
	}
	if d := hasCode(da, "flow/missing-branch"); d == nil {
		t.Errorf("a.flow: want the menu's missing branches, got %+v", da)
	}

	// Change (incremental, unsaved): a misspelt applet.
	replyPos := c.posOf(a, `reply "Thanks`, 0)
	c.notify("textDocument/didChange", didChangeParams{TextDocument: versionedTextDocumentIdentifier{URI: a, Version: 2},
		ContentChanges: []contentChange{{Range: &Range{Start: replyPos, End: Position{Line: replyPos.Line, Character: replyPos.Character + 5}}, Text: "rply"}}})
	c.texts[a] = strings.Replace(sessionFlow, `reply "Thanks`, `rply "Thanks`, 1)
	d2 := c.waitDiags(a, 2)
	if d := hasCode(d2, "flow/applet"); d == nil || !strings.Contains(d.Message, `"rply"`) || d.Range.Start != replyPos {
		t.Errorf("after the change: want unknown applet rply at %v, got %+v", replyPos, d2)
	}
	// And back (a full-text change).
	c.replaceAll(a, 3, sessionFlow)
	if d := hasCode(c.waitDiags(a, 3), "flow/applet"); d != nil {
		t.Errorf("after undoing the change: %+v", d)
	}

	// Hover.
	hoverText := func(needle string, n int) string {
		t.Helper()
		var h *hover
		c.mustCall("textDocument/hover", c.at(a, needle, n), &h)
		if h == nil {
			t.Fatalf("no hover at %q+%d", needle, n)
		}
		return h.Contents.Value
	}
	for _, tc := range []struct {
		needle string
		n      int
		want   []string
	}{
		{`reply "Thanks`, 1, []string{"Send a text message back to the contact", "reply TEMPLATE"}},
		{`hours("office")`, 8, []string{"Mon–Fri 09:00–17:30, Sat 10:00–14:00, America/New_York; closed on 2026-12-25"}},
		{`team:sales`, 6, []string{"team:sales", "- alice", "- bob (unavailable)"}},
		{`{{order}}`, 3, []string{"variable order", "line 16: `set order = body`"}},
		{`"Thanks {{order}}`, 3, []string{"reply text", "characters", "1 SMS segment", "at least"}},
		{`lookup(order)`, 2, []string{"applet lookup", "lookup.js"}},
	} {
		got := hoverText(tc.needle, tc.n)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("hover at %q: want %q in\n%s", tc.needle, w, got)
			}
		}
	}

	// Completion.
	labels := func(needle string, n int) map[string]completionItem {
		t.Helper()
		var l completionList
		c.mustCall("textDocument/completion", c.at(a, needle, n), &l)
		out := map[string]completionItem{}
		for _, it := range l.Items {
			out[it.Label] = it
		}
		return out
	}
	if got := labels("goto support", 5); got["support"].Label == "" || len(got) != 1 {
		t.Errorf("after goto: want the section support only, got %v", got)
	}
	if got := labels("team:sales", 5); got["sales"].Label == "" || got["support"].Label == "" || got["alice"].Label != "" {
		t.Errorf("after team: want the teams, got %v", got)
	}
	if got := labels(`hours("office`, 7); got["office"].Label == "" || len(got) != 1 {
		t.Errorf(`in hours(": want the schedule, got %v`, got)
	}
	if got := labels("{{order}}", 2); got["order"].Label == "" || got["contact"].Label == "" || got["hours"].Label == "" || got["reply"].Label != "" {
		t.Errorf("in {{ }}: want variables, fields and functions, got %v", got)
	}
	if got := labels(`when hours(`, 5); got["order"].Label == "" || got["body"].Label == "" {
		t.Errorf("in a condition: want variables and fields, got %v", got)
	}
	got := labels(`  reply "Thanks`, 2)
	if it := got["reply"]; it.InsertText != `reply "${1:text}"` || it.InsertTextFormat != formatSnippet {
		t.Errorf("statement start: reply's snippet is %+v", it)
	}
	if it := got["ask"]; !strings.Contains(it.InsertText, " as ${") {
		t.Errorf("ask's snippet lacks its required tag: %q", it.InsertText)
	}
	if it := got["menu"]; !strings.Contains(it.InsertText, "<\n") {
		t.Errorf("menu's snippet lacks its block: %q", it.InsertText)
	}
	if got := labels("inbox user:alice", 6); got["user:alice"].Label == "" || got["team:sales"].Label == "" || got["by"].Label != "" {
		t.Errorf("after inbox: want the directory's targets, got %v", got)
	}
	if got := labels(`"We're closed.`, 4); len(got) != 0 {
		t.Errorf("inside a string's text: want nothing, got %v", got)
	}
	if got := labels("run lookup", 4); got["lookup"].InsertText != "lookup(${1:body})" {
		t.Errorf("after run: want the declared applet, got %v", got)
	}
	if got := labels("as result", 0); got["as"].InsertText != "as ${1:variable}" {
		t.Errorf("run before its tag: want as, got %v", got)
	}
	if got := labels("as result", 9); got["as"].Label != "" {
		t.Errorf("run with `as` already written offers it again: %v", got)
	}

	// Completion reads the buffer as it is now, checked or not.
	typed := strings.Replace(sessionFlow, "  inbox user:alice\n", "  inbox user:alice\n  goto \n", 1)
	c.replaceAll(a, 4, typed)
	var l completionList
	c.mustCall("textDocument/completion", textDocumentPositionParams{TextDocument: textDocumentIdentifier{URI: a}, Position: Position{Line: 19, Character: 7}}, &l)
	if len(l.Items) != 1 || l.Items[0].Label != "support" {
		t.Errorf("completion on a line just typed: %+v", l.Items)
	}
	c.replaceAll(a, 5, sessionFlow)
	c.waitDiags(a, 5)

	// Definition.
	def := func(needle string, n int) []Location {
		t.Helper()
		var locs []Location
		c.mustCall("textDocument/definition", c.at(a, needle, n), &locs)
		return locs
	}
	if locs := def("goto support", 6); len(locs) != 1 || locs[0].URI != a || textOf(t, sessionFlow, locs[0].Range) != "support" || locs[0].Range.Start.Line != 14 {
		t.Errorf("definition of the section: %+v", locs)
	}
	if locs := def("lookup(order)", 1); len(locs) != 1 || locs[0].URI != uriOf(filepath.Join(root, "applets", "lookup.js")) {
		t.Errorf("definition of the applet: %+v", locs)
	}
	if locs := def("team:sales", 6); len(locs) != 1 || locs[0].URI != dirURI || textOf(t, sessionFiles["directory.json"], locs[0].Range) != "sales" || locs[0].Range.Start.Line != 7 {
		t.Errorf("definition of the team: %+v", locs)
	}
	if locs := def("user:alice", 6); len(locs) != 1 || locs[0].Range.Start.Line != 2 {
		t.Errorf("definition of the user: %+v", locs)
	}
	if locs := def("{{order}}", 3); len(locs) != 1 || locs[0].Range.Start.Line != 15 {
		t.Errorf("definition of the variable: %+v", locs)
	}

	// References.
	refs := func(needle string, n int, decl bool) []Location {
		t.Helper()
		p := referenceParams{textDocumentPositionParams: c.at(a, needle, n)}
		p.Context.IncludeDeclaration = decl
		var locs []Location
		c.mustCall("textDocument/references", p, &locs)
		return locs
	}
	if locs := refs("set order", 5, true); len(locs) != 3 {
		t.Errorf("references of order: want set, run argument and {{ }}, got %+v", locs)
	} else {
		for _, l := range locs {
			if textOf(t, sessionFlow, l.Range) != "order" {
				t.Errorf("a reference of order covers %q", textOf(t, sessionFlow, l.Range))
			}
		}
	}
	if locs := refs("section support", 9, false); len(locs) != 1 || locs[0].Range.Start.Line != 10 {
		t.Errorf("references of section support without the declaration: %+v", locs)
	}
	if locs := refs("team:sales", 6, true); len(locs) != 2 || locs[0].URI != dirURI {
		t.Errorf("references of team sales: want the directory and the inbox, got %+v", locs)
	}

	// Rename.
	var we workspaceEdit
	c.mustCall("textDocument/rename", renameParams{textDocumentPositionParams: c.at(a, "{{order}}", 3), NewName: "order_no"}, &we)
	renamed := applyEdits(t, sessionFlow, we.Changes[a])
	if strings.Count(renamed, "order_no") != 3 || strings.Contains(strings.ReplaceAll(renamed, "order_no", ""), "order") {
		t.Errorf("rename order: %d edits gave\n%s", len(we.Changes[a]), renamed)
	}
	if err := c.call("textDocument/rename", renameParams{textDocumentPositionParams: c.at(a, "{{order}}", 3), NewName: "2x"}, &we); err == nil || !strings.Contains(err.Error(), "not a variable name") {
		t.Errorf("rename to 2x: %v", err)
	}
	if err := c.call("textDocument/rename", renameParams{textDocumentPositionParams: c.at(a, "{{order}}", 3), NewName: "body"}, &we); err == nil || !strings.Contains(err.Error(), "field of the message") {
		t.Errorf("rename to body: %v", err)
	}
	if err := c.call("textDocument/rename", renameParams{textDocumentPositionParams: c.at(a, "team:sales", 6), NewName: "x"}, &we); err == nil || !strings.Contains(err.Error(), "only sections and variables") {
		t.Errorf("rename a team: %v", err)
	}

	// Document symbols.
	var syms []documentSymbol
	c.mustCall("textDocument/documentSymbol", documentSymbolParams{TextDocument: textDocumentIdentifier{URI: a}}, &syms)
	var names []string
	var walk func([]documentSymbol)
	walk = func(ss []documentSymbol) {
		for _, s := range ss {
			names = append(names, s.Name)
			walk(s.Children)
		}
	}
	walk(syms)
	if strings.Join(names, ",") != "a,office,lookup,Reply 1 for sales, 2 for support,support" {
		t.Errorf("symbols: %q", names)
	}

	// Code action: add the menu's missing else branch, and the warning
	// about it goes.
	menuLine := c.posOf(a, "menu", 0)
	var actions []codeAction
	c.mustCall("textDocument/codeAction", codeActionParams{TextDocument: textDocumentIdentifier{URI: a}, Range: Range{Start: menuLine, End: menuLine}}, &actions)
	var elseAction *codeAction
	titles := []string{}
	for i := range actions {
		titles = append(titles, actions[i].Title)
		if actions[i].Title == "Add the missing else branch" {
			elseAction = &actions[i]
		}
	}
	if elseAction == nil || len(elseAction.Diagnostics) == 0 || !strings.Contains(strings.Join(titles, ";"), "Add the missing timeout branch") {
		t.Fatalf("code actions at the menu: %q", titles)
	}
	fixed := applyEdits(t, sessionFlow, elseAction.Edit.Changes[a])
	if !strings.Contains(fixed, "    2 -> goto support\n    else -> end\n  >\n") {
		t.Errorf("the else branch went elsewhere:\n%s", fixed)
	}
	c.replaceAll(a, 6, fixed)
	for _, d := range c.waitDiags(a, 6) {
		if strings.Contains(d.Message, "menu without else") {
			t.Errorf("the fix left %q", d.Message)
		}
	}

	// Formatting: the same text as flowc fmt.
	messy := "flow a\nnumbers   \"+15550102\"\nwhen  hours(\"9-5\")  <\nreply \"x\"\n>  else   reply \"y\"\n"
	c.replaceAll(a, 7, messy)
	var edits []textEdit
	c.mustCall("textDocument/formatting", documentFormattingParams{TextDocument: textDocumentIdentifier{URI: a}}, &edits)
	if got := applyEdits(t, messy, edits); got != "flow a\nnumbers \"+15550102\"\nwhen hours(\"9-5\") <\n  reply \"x\"\n> else reply \"y\"\n" {
		t.Errorf("formatted:\n%s", got)
	}
	c.replaceAll(a, 8, "flow a\nwhen x <\n")
	if err := c.call("textDocument/formatting", documentFormattingParams{TextDocument: textDocumentIdentifier{URI: a}}, &edits); err == nil || !strings.Contains(err.Error(), "a.flow:") {
		t.Errorf("formatting a file with a syntax error: want an error naming the place, got %v", err)
	}

	// Shutdown, exit.
	if err := c.call("shutdown", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call("textDocument/hover", c.at(a, "flow", 0), nil); err == nil {
		t.Error("a request after shutdown was answered")
	}
	c.notify("exit", nil)
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("Serve after shutdown and exit: %v", err)
		}
	case <-timeAfter():
		t.Fatal("the server did not exit")
	}
}
