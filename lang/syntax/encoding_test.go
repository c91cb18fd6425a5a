package syntax_test

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/syntax"
)

// guiExport is what a GUI flow builder exports: JSON, which the lexer
// would report as one error per brace, colon and comma.
const guiExport = `
  {
  "flow": "support",
  "numbers": ["+15550100"],
  "steps": [
    {"type": "reply", "text": "Thanks, we got it"},
    {"type": "inbox", "target": {"team": "support"}}
  ]
}
`

// TestJSONExport: a JSON document is one error, at its first character
// (the JSON cannot hold a ### marker, so this is not a testdata script).
func TestJSONExport(t *testing.T) {
	for name, text := range map[string]string{
		"object": guiExport,
		"array":  `[{"type": "reply", "text": "hi"}]`,
		"bom":    "\ufeff" + `{"flow": "x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			f, diags := syntax.ParseString("export.flow", text)
			if len(diags) != 1 {
				t.Fatalf("want one diagnostic, got %d: %v", len(diags), diags)
			}
			d := diags[0]
			pos := d.Span.Source.Pos(d.Span.Start)
			wantLine, wantCol := 1, 1
			if name == "object" {
				wantLine, wantCol = 2, 3 // the '{' after a blank line and two spaces
			}
			if pos.Line != wantLine || pos.Column != wantCol || d.Code != "flow/encoding" ||
				d.Message != "this looks like a JSON export, not a .flow file" || !strings.Contains(d.Hint, "docs/language.md") {
				t.Errorf("got %s: %s [%s] hint %q; want %d:%d flow/encoding, a JSON export, a hint naming docs/language.md",
					pos, d.Message, d.Code, d.Hint, wantLine, wantCol)
			}
			if !f.NotFlowText || len(f.Stmts) != 0 {
				t.Errorf("want an empty file marked NotFlowText, got NotFlowText=%v and %d items", f.NotFlowText, len(f.Stmts))
			}
		})
	}
}

// TestBrokenJSONIsFlowText: text that starts with { but is not JSON is
// lexed as a flow (its errors are the lexer's), not called an export.
func TestBrokenJSONIsFlowText(t *testing.T) {
	_, diags := syntax.ParseString("x.flow", "{ reply \"hi\"\n")
	for _, d := range diags {
		if d.Code == "flow/encoding" {
			t.Errorf("not JSON, yet reported as an export: %v", d)
		}
	}
	if len(diags) == 0 {
		t.Error("a stray { is an error")
	}
}

// TestUTF16: a file saved as UTF-16 is one error at its first byte, and
// the hint says it is UTF-16.
func TestUTF16(t *testing.T) {
	text := "\xff\xfef\x00l\x00o\x00w\x00 \x00x\x00\n\x00"
	_, diags := syntax.ParseString("utf16.flow", text)
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic, got %v", diags)
	}
	d := diags[0]
	if p := d.Span.Source.Pos(d.Span.Start); p.Line != 1 || p.Column != 1 || d.Code != "flow/encoding" ||
		d.Message != "this file is not valid UTF-8 at byte 0: save the file as UTF-8" || !strings.Contains(d.Hint, "UTF-16") {
		t.Errorf("got %s: %s [%s] hint %q", p, d.Message, d.Code, d.Hint)
	}
}
