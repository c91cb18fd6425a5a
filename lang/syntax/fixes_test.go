package syntax_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// apply makes every edit of every fix in diags (they never overlap),
// from the end of the text backwards.
func apply(t *testing.T, text string, diags diag.List) string {
	t.Helper()
	var edits []diag.Edit
	for _, d := range diags {
		for _, f := range d.Fixes {
			edits = append(edits, f.Edits...)
		}
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].Span.Start > edits[j].Span.Start })
	for k, e := range edits {
		if k > 0 && e.Span.End > edits[k-1].Span.Start {
			t.Fatalf("edits overlap: %v and %v", e, edits[k-1])
		}
		text = text[:e.Span.Start] + e.New + text[e.Span.End:]
	}
	return text
}

// TestFixes: the machine-applicable fixes of the parser's diagnostics
// turn each mistake into what was meant, and the result parses clean.
func TestFixes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"when len(body) < 5 < reply \"short\" >\n", "when (len(body) < 5) < reply \"short\" >\n"},
		{"when count < limit < reply \"few\" >\nreply \"x\"\n", "when (count < limit) < reply \"few\" >\nreply \"x\"\n"},
		{"when count <= 3 <\n  reply \"few\"\n>\n", "when (count <= 3) <\n  reply \"few\"\n>\n"},
		{"menu \"1 or 2\" <\n  1 => inbox team:sales\n  2 => inbox team:support\n>\n", "menu \"1 or 2\" <\n  1 -> inbox team:sales\n  2 -> inbox team:support\n>\n"},
		{"menu \"1\" <\n  1 -> inbox team:sales\n  timeout 10 min -> inbox team:sales\n>\n", "menu \"1\" <\n  1 -> inbox team:sales\n  timeout 10m -> inbox team:sales\n>\n"},
		{"menu \"1\" <\n  timeout 2 hours -> inbox team:sales\n>\n", "menu \"1\" <\n  timeout 2h -> inbox team:sales\n>\n"},
		{"reply “Hello there”\n", "reply \"Hello there\"\n"},
		{"reply 'Hello' then inbox team:sales\n", "reply \"Hello\" then inbox team:sales\n"},
		{"reply ‘Hi’ then inbox team:sales\n", "reply \"Hi\" then inbox team:sales\n"},
		{"reply \"Hi {{contact.name ?? \"there\"}}!\"\n", "reply \"Hi {{contact.name ?? 'there'}}!\"\n"},
		{"set greeting \"Hello\"\n", "set greeting = \"Hello\"\n"},
		{"forward email:owner@example.com\n", "forward email:\"owner@example.com\"\n"},
		{"forward webhook:https://agents.example.com/in\n", "forward webhook:\"https://agents.example.com/in\"\n"},
		{"if hours(\"9-5\") < reply \"open\" >\n", "when hours(\"9-5\") < reply \"open\" >\n"},
	} {
		_, diags := syntax.ParseString("fix.flow", c.in)
		if len(diags) == 0 {
			t.Errorf("%q: no diagnostic", c.in)
			continue
		}
		got := apply(t, c.in, diags)
		if got != c.want {
			t.Errorf("%q fixed:\n%q, want\n%q", c.in, got, c.want)
			continue
		}
		if _, d := syntax.ParseString("fixed.flow", got); len(d) != 0 {
			t.Errorf("%q fixed still has %v", c.in, d)
		}
	}
}

// TestOneDiagnosticPerMistake: mistakes that used to cascade give one
// diagnostic, at the mistake. (A pasted JSON document cannot carry a
// `###` marker, which would make it invalid JSON, hence this test.)
func TestOneDiagnosticPerMistake(t *testing.T) {
	for _, c := range []struct {
		name, text, msg string
		line, col       int
	}{
		{"pasted JSON", "flow f\nreply \"before\"\n{\n  \"name\": \"Sales flow\",\n  \"steps\": [{\"type\": \"reply\", \"text\": \"Hi\"}]\n}\nreply \"after\"\n",
			"pasted JSON document", 3, 1},
		{"curly quotes", "reply “We’re closed” then inbox team:sales\n", "curly quotes", 1, 7},
		{"stray run", "reply \"x\" ~~~ @@@\n", "unexpected characters \"~~~\"", 1, 11},
		{"if and braces", "if hours(\"9-5\") {\n  reply \"open\"\n} else {\n  reply \"closed\"\n}\nreply \"after\"\n", `flowc has no "if"`, 1, 1},
		{"when with braces", "when hours(\"9-5\") {\n  reply \"open\"\n} else {\n  reply \"closed\"\n}\n", `blocks are written "< … >"`, 1, 19},
		{"when without < and its else", "when hours(\"9-5\")\n  reply \"open\"\n> else reply \"closed\"\nreply \"after\"\n", "expected '<'", 1, 18},
	} {
		_, diags := syntax.ParseString("m.flow", c.text)
		if len(diags) != 1 {
			t.Errorf("%s: want one diagnostic, got %v", c.name, diags)
			continue
		}
		p := diags[0].Span.Source.Pos(diags[0].Span.Start)
		if !strings.Contains(diags[0].Message, c.msg) || p.Line != c.line || p.Column != c.col {
			t.Errorf("%s: got %v, want %q at %d:%d", c.name, diags[0], c.msg, c.line, c.col)
		}
	}
}
