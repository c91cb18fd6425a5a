package check_test

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/sms"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// TestRepliesThreshold: a reply of 4 GSM-7 segments warns at the
// default of 3 and not at --max-segments 4; one typographic apostrophe
// makes a 200-character text UCS-2 (3 segments of 67) and the hint names
// it; a templated reply is "at least" its literal text.
func TestRepliesThreshold(t *testing.T) {
	long := strings.Repeat("a", 4*153)
	text := "numbers \"+15550100\"\n" +
		"reply \"" + long + "\"\n" +
		"menu \"We’re " + strings.Repeat("b", 196) + "\" <\n  timeout 1h -> end\n  else -> end\n>\n" +
		"ask \"" + strings.Repeat("c", 470) + "{{contact.name}}\" as x <\n  timeout 1h -> end\n>\n"
	f, pd := syntax.ParseString("r.flow", text)
	if len(pd) != 0 {
		t.Fatal(diag.ListError(pd))
	}
	files := []*syntax.File{f}
	replies, d := check.Replies(files, 0)
	if len(replies) != 3 {
		t.Fatalf("%d replies, want 3", len(replies))
	}
	want := []check.Reply{
		{Kind: "reply", Exact: true, Length: sms.Length{Chars: 612, Units: 612, Encoding: sms.GSM7, Segments: 4}},
		{Kind: "menu", Exact: true, Length: sms.Length{Chars: 202, Units: 202, Encoding: sms.UCS2, Segments: 4}},
		{Kind: "ask", Exact: false, Length: sms.Length{Chars: 470, Units: 470, Encoding: sms.GSM7, Segments: 4}},
	}
	for i, r := range replies {
		r.Span = want[i].Span
		if r != want[i] {
			t.Errorf("reply %d = %+v, want %+v", i, r, want[i])
		}
	}
	if len(d) != 3 {
		t.Fatalf("diagnostics:\n%v", diag.ListError(d))
	}
	if !strings.Contains(d[0].Message, "this reply is sent as 4 SMS segments (612 characters, GSM-7), more than 3") ||
		d[0].Severity != diag.Warning || d[0].Span.StartPos().Line != 2 {
		t.Errorf("reply warning %v", d[0])
	}
	if !strings.Contains(d[1].Hint, `'’' (U+2019) makes the whole text UCS-2`) {
		t.Errorf("menu hint %q", d[1].Hint)
	}
	if !strings.Contains(d[2].Message, "at least 4 SMS segments") {
		t.Errorf("ask warning %q", d[2].Message)
	}
	if _, d := check.Replies(files, 4); len(d) != 0 {
		t.Errorf("--max-segments 4:\n%v", diag.ListError(d))
	}
}

// TestRepliesTooLongIsTheCompilers: over 1,600 characters the compiler's
// flow/too-long error says it all; no segment warning on top.
func TestRepliesTooLongIsTheCompilers(t *testing.T) {
	f, _ := syntax.ParseString("r.flow", "reply \""+strings.Repeat("a", 1700)+"\"\n")
	replies, d := check.Replies([]*syntax.File{f}, 0)
	if len(d) != 0 || len(replies) != 1 || replies[0].Segments != 12 {
		t.Errorf("replies %+v, diagnostics %v", replies, d)
	}
}
