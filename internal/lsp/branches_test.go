package lsp

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingBranchActions: "add the missing else / timeout branch" for
// each construct that can lack one, written over lines or on one line;
// applying every action leaves no flow/missing-branch diagnostic.
func TestMissingBranchActions(t *testing.T) {
	text := `flow a
numbers "+15550100"
applet pick = "pick.js"

when hours("9-5") <
  ask "Your order?" as order
  menu "1 or 2?" < 1 -> reply "one" ; 2 -> reply "two" >
  run pick(body) as p <
    "x" -> reply "x"
  >
> else end
when body == "hi" < reply "hello" >
reply "bye"
`
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"a.flow": text, "pick.js": "function main(ctx) { return 'x'; }\n"})
	uri := uriOf(filepath.Join(root, "a.flow"))
	missing := func(s *Server) int {
		n := 0
		for _, d := range s.ws.current().diags[uri] {
			if d.Code == "flow/missing-branch" {
				n++
			}
		}
		return n
	}
	s := &Server{ws: newWorkspace(root, t.Logf)}
	if n := missing(s); n != 5 {
		t.Fatalf("want 5 missing branches (ask timeout, menu else and timeout, run else, when else), got %d: %v", n, s.ws.current().diags[uri])
	}
	whole := Range{End: Position{Line: 100}}
	b, _ := json.Marshal(codeActionParams{TextDocument: textDocumentIdentifier{URI: uri}, Range: whole})
	out, err := s.codeAction(b)
	if err != nil {
		t.Fatal(err)
	}
	var edits []textEdit
	var titles []string
	for _, a := range out.([]codeAction) {
		titles = append(titles, a.Title)
		edits = append(edits, a.Edit.Changes[uri]...)
	}
	if len(edits) != 5 {
		t.Fatalf("actions: %q", titles)
	}
	// Apply them all, last position first.
	for i := 0; i < len(edits); i++ {
		for j := i + 1; j < len(edits); j++ {
			if before(edits[j].Range.Start, edits[i].Range.Start) {
				edits[i], edits[j] = edits[j], edits[i]
			}
		}
	}
	fixed := applyEdits(t, text, edits)
	for _, want := range []string{
		`ask "Your order?" as order < timeout 1h -> end >`,
		`2 -> reply "two" ; else -> end ; timeout 1h -> end >`,
		"    \"x\" -> reply \"x\"\n    else -> end\n  >",
		`when body == "hi" < reply "hello" > else end`,
	} {
		if !strings.Contains(fixed, want) {
			t.Errorf("want %q in\n%s", want, fixed)
		}
	}
	writeFiles(t, root, map[string]string{"a.flow": fixed})
	if n := missing(&Server{ws: newWorkspace(root, t.Logf)}); n != 0 {
		t.Errorf("after the actions, %d missing branches remain:\n%s", n, fixed)
	}
}

func before(p, q Position) bool {
	return p.Line < q.Line || p.Line == q.Line && p.Character < q.Character
}
