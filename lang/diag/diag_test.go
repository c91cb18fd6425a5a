package diag

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/file"
)

func TestSortTextAndJSON(t *testing.T) {
	a := file.NewSource("a.flow", "rply \"x\"\nwhen (x == ) < end >\n")
	b := file.NewSource("b.flow", "inbox team:x\n")
	var l List
	l.Warnf(b.Span(0, 5), "flow/no-numbers", "no numbers")
	l.Errorf(a.Span(20, 21), "flow/expr", "unexpected token")
	l.Errorf(a.Span(0, 4), "flow/applet", "unknown applet %q", "rply").Hint = `did you mean "reply"?`
	l.Warnf(a.Span(0, 4), "flow/x", "a warning at the same place")
	l.Sort()
	var codes []string
	for _, d := range l {
		codes = append(codes, d.Code)
	}
	if got := strings.Join(codes, " "); got != "flow/applet flow/x flow/expr flow/no-numbers" {
		t.Errorf("sorted: %s", got)
	}
	if e, w := l.Count(); e != 2 || w != 2 || !l.HasErrors() || l.Err() == nil {
		t.Errorf("Count = %d, %d", e, w)
	}
	var sb strings.Builder
	WriteText(&sb, l[:2], false)
	want := "a.flow:1:1: error: unknown applet \"rply\" [flow/applet]\n  hint: did you mean \"reply\"?\n" +
		"a.flow:1:1: warning: a warning at the same place [flow/x]\n"
	if sb.String() != want {
		t.Errorf("WriteText one-line:\n%s\nwant:\n%s", sb.String(), want)
	}
	if got := l[:1].Err().Error(); got != strings.TrimSuffix(want[:strings.Index(want, "a.flow:1:1: warning")], "\n") {
		t.Errorf("ListError = %q", got)
	}
	out, err := json.Marshal(Report(l, 2))
	if err != nil {
		t.Fatal(err)
	}
	var back JSONReport
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Valid || back.Errors != 2 || back.Warnings != 2 || back.Files != 2 || len(back.Diagnostics) != 4 {
		t.Errorf("report: %s", out)
	}
	if d := back.Diagnostics[2]; d.Severity != Error || d.Range.Start.Line != 2 || d.Range.Start.Column != 12 || d.Range.End.Column != 13 {
		t.Errorf("diagnostic: %+v", d)
	}
	if !strings.Contains(string(out), `"severity":"warning"`) {
		t.Errorf("severity not written as a word: %s", out)
	}
	var s Severity
	if err := json.Unmarshal([]byte(`"fatal"`), &s); err == nil {
		t.Error("unknown severity accepted")
	}
	if (List{}).Err() != nil || Report(nil, 0).Diagnostics == nil {
		t.Error("empty list")
	}
}

// TestNotes: a note is neither an error nor a warning, fails no level
// but its own, and round-trips through JSON.
func TestNotes(t *testing.T) {
	src := file.NewSource("n.flow", "reply \"x\"\n")
	var l List
	l.Notef(src.Span(0, 5), "flow/fall-through", "goes on")
	if e, w := l.Count(); e != 0 || w != 0 || l.Notes() != 1 {
		t.Errorf("Count = %d, %d, Notes = %d", e, w, l.Notes())
	}
	if l.AtLeast(Warning) || !l.AtLeast(Note) || l.HasErrors() {
		t.Error("a note counted as a warning or an error")
	}
	b, err := json.Marshal(Report(l, 1))
	if err != nil {
		t.Fatal(err)
	}
	var r JSONReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Valid || r.Notes != 1 || r.Diagnostics[0].Severity != Note || !strings.Contains(string(b), `"severity":"note"`) {
		t.Errorf("report %s", b)
	}
}
