package check

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

func TestSuggest(t *testing.T) {
	for _, c := range []struct {
		name       string
		candidates []string
		want       string
	}{
		{"nmae", []string{"name", "phone", "email"}, "name"}, // a swap is one edit
		{"bdy", []string{"body", "from", "to"}, "body"},
		{"ofice", []string{"office", "weekend"}, "office"},
		{"slaes", []string{"sales", "support"}, "sales"},
		{"crm", []string{"lookup"}, ""},
		{"ab", []string{"ac"}, ""}, // one edit of two letters is a different word
		{"x", []string{"y"}, ""},
		{"total", []string{"total"}, ""}, // the name itself is no suggestion
		{"zzzzzz", []string{"office"}, ""},
	} {
		if got := Suggest(c.name, c.candidates); got != c.want {
			t.Errorf("Suggest(%q, %q) = %q, want %q", c.name, c.candidates, got, c.want)
		}
	}
}

// TestNameFix: a fix only when the span holds exactly the name, alone or
// between matching quotes, and then it replaces the name alone.
func TestNameFix(t *testing.T) {
	src := file.NewSource("a.flow", "rply \"x\"\nwhen hours(\"ofice\") < x >\nrun lookp(body)\nhours('o\\x66ice') `ofice` \"ofice'\n")
	at := func(sub string) file.Span {
		i := strings.Index(src.Text, sub)
		if i < 0 {
			t.Fatalf("%q not in the source", sub)
		}
		return src.Span(i, i+len(sub))
	}
	for _, c := range []struct {
		sp         file.Span
		name, want string // want: the text replaced, "" for no fix
	}{
		{at("rply"), "rply", "rply"},
		{at(`"ofice"`), "ofice", "ofice"},
		{at("`ofice`"), "ofice", "ofice"},
		{at("ofice"), "ofice", "ofice"},
		{at("lookp(body)"), "lookp", ""},                      // more than the name
		{at(`'o\x66ice'`), "office", ""},                      // an escape: the text is not the name
		{at(`"ofice'`), "ofice", ""},                          // quotes that do not match
		{at("rply \""), "rply", ""},                           // the name and more
		{file.Span{}, "rply", ""},                             // no place
		{src.Span(len(src.Text)-2, len(src.Text)+5), "x", ""}, // out of range
	} {
		fx := NameFix(c.sp, c.name, "NEW")
		if c.want == "" {
			if fx != nil {
				t.Errorf("%q at %v: fix %+v, want none", c.name, c.sp, fx)
			}
			continue
		}
		if len(fx) != 1 || len(fx[0].Edits) != 1 {
			t.Fatalf("%q at %v: fixes %+v", c.name, c.sp, fx)
		}
		e := fx[0].Edits[0]
		if got := src.Text[e.Span.Start:e.Span.End]; got != c.want || e.New != "NEW" || fx[0].Title != `replace "`+c.name+`" with "NEW"` {
			t.Errorf("%q at %v: edit replaces %q with %q (%q)", c.name, c.sp, got, e.New, fx[0].Title)
		}
	}
	var d diag.Diagnostic
	DidYouMean(&d, at("rply"), "rply", "reply")
	if d.Hint != `did you mean "reply"?` || len(d.Fixes) != 1 {
		t.Errorf("DidYouMean: %+v", d)
	}
}
