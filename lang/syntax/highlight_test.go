package syntax

import (
	"strings"
	"testing"
)

// TestHighlight: the spans cover the tokens and comments of a flow, in
// order, with the lexer's classes, and never overlap.
func TestHighlight(t *testing.T) {
	src := "# sales\nflow sales\nwhen hours(\"9-5\") <\n  reply \"hi\" then inbox team:sales\n  menu \"x\" < timeout 10m -> end >\n>\n"
	spans := Highlight(src)
	got := map[string]string{}
	end := 0
	for _, s := range spans {
		if s.Start < end {
			t.Fatalf("overlap at %d", s.Start)
		}
		end = s.End
		got[src[s.Start:s.End]] = s.Class
	}
	for text, class := range map[string]string{"# sales": "comment", "flow": "keyword", "sales": "ident", `"hi"`: "string",
		"team:": "kind", "10m": "duration", "->": "punct", "then": "keyword"} {
		if got[text] != class {
			t.Errorf("%q: class %q, want %q (all: %v)", text, got[text], class, got)
		}
	}
	if !strings.Contains(src, "hours") {
		t.Fatal()
	}
}
