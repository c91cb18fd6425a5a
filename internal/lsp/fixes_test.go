package lsp

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixesBecomeCodeActions: a diagnostic's Fixes (lang/diag) are
// offered as quick fixes with their edits: here the did-you-mean fix the
// check attaches to an unknown applet.
func TestFixesBecomeCodeActions(t *testing.T) {
	root := t.TempDir()
	text := "flow a\nnumbers \"+15550100\"\nwhen hours(\"mon-fri 9-17\") <\n  rply \"x\"\n> else end\n"
	writeFiles(t, root, map[string]string{"a.flow": text})
	s := &Server{ws: newWorkspace(root, t.Logf)}
	uri := uriOf(filepath.Join(root, "a.flow"))
	snap := s.ws.current()
	ds := snap.diags[uri]
	i := -1
	for j, d := range ds {
		if d.Code == "flow/applet" {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("no flow/applet diagnostic: %v", ds)
	}
	if len(ds[i].Fixes) != 1 {
		t.Fatalf("the check attached no single fix: %+v", ds[i])
	}
	title := ds[i].Fixes[0].Title
	call := func(h func(*Server, json.RawMessage) (any, error), params any) any {
		t.Helper()
		b, _ := json.Marshal(params)
		out, err := h(s, b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	line := Range{Start: Position{Line: 3, Character: 0}, End: Position{Line: 3, Character: 10}}
	actions := call((*Server).codeAction, codeActionParams{TextDocument: textDocumentIdentifier{URI: uri}, Range: line}).([]codeAction)
	if len(actions) != 1 {
		t.Fatalf("actions on line 4: %+v", actions)
	}
	a := actions[0]
	edits := a.Edit.Changes[uri]
	if a.Title != title || a.Kind != "quickfix" || !a.IsPreferred || len(a.Diagnostics) != 1 || len(edits) != 1 {
		t.Fatalf("the action: %+v", a)
	}
	if got := applyEdits(t, text, edits); !strings.Contains(got, "  reply \"x\"\n") {
		t.Errorf("the fix gives\n%s", got)
	}
	// Elsewhere, nothing: the range decides.
	if got := call((*Server).codeAction, codeActionParams{TextDocument: textDocumentIdentifier{URI: uri}, Range: Range{}}).([]codeAction); len(got) != 0 {
		t.Errorf("actions on line 1: %+v", got)
	}

	// And a literal spec in hours() reads in words on hover.
	h := call((*Server).hover, textDocumentPositionParams{TextDocument: textDocumentIdentifier{URI: uri}, Position: Position{Line: 2, Character: 14}}).(hover)
	if !strings.Contains(h.Contents.Value, "Mon–Fri 09:00–17:00, UTC") {
		t.Errorf("hover on the spec: %q", h.Contents.Value)
	}
}
