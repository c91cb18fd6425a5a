package diagtest

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

func TestParseAndCompare(t *testing.T) {
	src := file.NewSource("t.flow", strings.Join([]string{
		`rply "x"       ### 1: error flow/applet "unknown" hint "reply" fix "^reply \"x\" "`,
		`set x = 1 +* 2`,
		`#          ^ flow/expr`,
		`#            ^ "second"`,
		`menu "m" < help -> end >  ### warning flow/opt-out-keyword ### flow/x`,
		``,
	}, "\n"))
	exps, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 5 {
		t.Fatalf("got %d expectations: %v", len(exps), exps)
	}
	if e := exps[1]; e.Line != 2 || e.Column != 12 || e.Code != "flow/expr" || e.Pattern != nil {
		t.Errorf("caret marker: %+v", e)
	}
	if e := exps[2]; e.Line != 2 || e.Column != 14 || e.Code != "" || e.Pattern.String() != "second" {
		t.Errorf("second caret marker: %+v", e)
	}
	if e := exps[0]; e.Column != 1 || e.Severity != "error" || e.Hint.String() != "reply" || e.Fix.String() != `^reply "x" ` {
		t.Errorf("### marker: %+v", e)
	}

	var l diag.List
	d := l.Errorf(src.Span(0, 4), "flow/applet", "unknown applet")
	d.Hint = `did you mean "reply"?`
	d.Fixes = []diag.Fix{{Title: "reply", Edits: []diag.Edit{{Span: src.Span(0, 4), New: "reply"}}}}
	l.Errorf(src.Span(src.Offset(2, 12), src.Offset(2, 13)), "flow/expr", "unexpected")
	l.Errorf(src.Span(src.Offset(2, 14), src.Offset(2, 15)), "flow/expr", "second one")
	l.Warnf(src.Span(src.Offset(5, 12), src.Offset(5, 16)), "flow/opt-out-keyword", "never chosen")
	l.Errorf(src.Span(src.Offset(5, 1), src.Offset(5, 5)), "flow/x", "x")
	if m := Mismatches(exps, l); len(m) != 0 {
		t.Errorf("mismatches: %v", m)
	}

	// A fix that gives another text, or none, does not meet a fix
	// expectation.
	for _, fixes := range [][]diag.Fix{
		{{Title: "rep", Edits: []diag.Edit{{Span: src.Span(0, 4), New: "rep"}}}},
		nil,
	} {
		l2 := append(diag.List(nil), l...)
		l2[0].Fixes = fixes
		if m := Mismatches(exps, l2); len(m) != 2 {
			t.Errorf("fixes %+v: mismatches %v", fixes, m)
		}
	}

	// A wrong column, an extra diagnostic, and one missing.
	l[1].Span = src.Span(src.Offset(2, 11), src.Offset(2, 12))
	l = append(l, diag.Diagnostic{Code: "flow/extra", Span: src.Span(0, 1)})
	l = l[1:]
	got := strings.Join(Mismatches(exps, l), "\n")
	for _, want := range []string{
		"t.flow:1: ### 1: error flow/applet \"unknown\" hint \"reply\" fix \"^reply \\\"x\\\" \": expected diagnostic not reported",
		"t.flow:2: ### flow/expr: expected diagnostic not reported",
		"t.flow:2:11: unexpected error: unexpected [flow/expr]",
		"t.flow:1:1: unexpected warning:  [flow/extra]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("mismatches lack %q:\n%s", want, got)
		}
	}
}

func TestBadMarkers(t *testing.T) {
	for _, line := range []string{
		`reply ### `,
		`reply ### 3:`,
		`reply ### flow/x "unclosed`,
		`reply ### flow/x "(" `,
		`reply ### flow/x "a" junk`,
		`reply ### flow/x hint`,
		`reply ### flow/x fix`,
		`reply ### flow/x fix "a" hint "b"`,
		`#  ^ flow/x`,
	} {
		if _, err := Parse(file.NewSource("t.flow", line+"\n")); err == nil {
			t.Errorf("%q: no error", line)
		}
	}
}
