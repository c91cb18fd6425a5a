package diag

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/lang/file"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestTextGolden")

// span is the span of the n-th (0-based) occurrence of sub in src.
func span(t *testing.T, src *file.Source, sub string, n int) file.Span {
	t.Helper()
	at := 0
	for i := 0; ; i++ {
		k := strings.Index(src.Text[at:], sub)
		if k < 0 {
			t.Fatalf("%q: occurrence %d of %q not found", src.Name, n, sub)
		}
		if i == n {
			return src.Span(at+k, at+k+len(sub))
		}
		at += k + len(sub)
	}
}

// replace is a fix replacing sp with s.
func replace(title string, sp file.Span, s string) Fix {
	return Fix{Title: title, Edits: []Edit{{Span: sp, New: s}}}
}

// TestTextGolden draws each shape of diagnostic: a plain one with a
// hint, a fix, related spans in the same file and in another, a span over
// several lines (at a line's first character and inside a line), a
// long one cut, tabs and wide and combining characters before and
// inside the span, a span at the end of a line and of the file, and a
// diagnostic without a place. testdata/text/NAME.txt holds each
// expected text (go test -run TestTextGolden -update rewrites them).
func TestTextGolden(t *testing.T) {
	cases := map[string]func(t *testing.T) List{
		"simple": func(t *testing.T) List {
			src := file.NewSource("a.flow", "# greeting\nrply \"hi\"\n")
			var l List
			d := l.Errorf(span(t, src, "rply", 0), "flow/applet", "unknown applet %q", "rply")
			d.Hint = `did you mean "reply"?`
			return l
		},
		"fix": func(t *testing.T) List {
			src := file.NewSource("a.flow", "schedule office = \"mon-fri 9-17\"\nwhen hours(\"ofice\") < rply \"hi\" >\n")
			var l List
			d := l.Errorf(span(t, src, "\"ofice\"", 0), "flow/schedule", "no schedule named %q", "ofice")
			d.Hint = `did you mean "office"?`
			d.Fixes = []Fix{replace(`replace "ofice" with "office"`, span(t, src, "ofice", 0), "office")}
			d = l.Errorf(span(t, src, "rply", 0), "flow/applet", "unknown applet %q", "rply")
			d.Fixes = []Fix{{Title: "insert and delete", Edits: []Edit{{Span: span(t, src, "rply", 0), New: "reply"}, {Span: src.Span(len(src.Text)-1, len(src.Text)-1), New: " # fixed"}}}}
			d = l.Warnf(span(t, src, " \"hi\"", 0), "flow/x", "a deletion")
			d.Fixes = []Fix{replace("delete it", span(t, src, " \"hi\"", 0), "")}
			return l
		},
		"related": func(t *testing.T) List {
			src := file.NewSource("a.flow", "menu \"pick\" <\n  1 -> reply \"a\"\n  2 -> reply \"b\"\n  1 -> reply \"c\"\n>\n")
			other := file.NewSource("b.flow", "number +15550001\n")
			var l List
			d := l.Errorf(span(t, src, "1", 1), "flow/branch", "duplicate key %q", "1")
			d.Related = []Related{{Span: span(t, src, "1", 0), Message: "first defined here"}}
			d = l.Errorf(span(t, other, "+15550001", 0), "flow/number", "number +15550001 is served by two flows")
			d.Related = []Related{{Span: file.NewSource("c.flow", "# c\nnumber +15550001\n").Span(11, 20), Message: "also served here"}, {Message: "a note with no place"}}
			return l
		},
		"same-line": func(t *testing.T) List {
			src := file.NewSource("a.flow", "set x = a + bb + ccc\n")
			var l List
			d := l.Errorf(span(t, src, "bb", 0), "flow/x", "three spans on a line")
			d.Related = []Related{{Span: span(t, src, "a", 0), Message: "left"}, {Span: span(t, src, "ccc", 0), Message: "right"}}
			d = l.Errorf(span(t, src, "ccc", 0), "flow/x", "the primary's label is last")
			d.Related = []Related{{Span: span(t, src, "a", 0), Message: "only label"}}
			return l
		},
		"multiline": func(t *testing.T) List {
			src := file.NewSource("a.flow", "section main <\n  menu \"pick\" <\n    1 -> reply \"a\"\n  >\n>\nset x = f(1,\n  2)\n")
			var l List
			menu := span(t, src, "menu", 0)
			menu.End = strings.Index(src.Text, "  >\n") + 3
			l.Errorf(menu, "flow/branch", "a span from a line's first character")
			call := span(t, src, "(1,\n  2)", 0)
			d := l.Errorf(call, "flow/expr", "a span from inside a line")
			d.Related = []Related{{Span: span(t, src, "f", 0), Message: "called here"}}
			whole := src.Span(0, strings.Index(src.Text, ">\nset")+2)
			d = l.Errorf(whole, "flow/x", "nested spans, the outer one ending with its newline")
			d.Related = []Related{{Span: menu, Message: "inner"}}
			return l
		},
		"long-span": func(t *testing.T) List {
			var b strings.Builder
			b.WriteString("section s <\n")
			for i := 0; i < 20; i++ {
				b.WriteString("  reply \"x\"\n")
			}
			b.WriteString(">\n")
			src := file.NewSource("a.flow", b.String())
			var l List
			l.Warnf(src.Span(0, len(src.Text)-1), "flow/x", "a section of 22 lines")
			return l
		},
		"long-line": func(t *testing.T) List {
			src := file.NewSource("a.flow", "reply \""+strings.Repeat("a", 300)+" rply "+strings.Repeat("b", 300)+"\"\n")
			var l List
			l.Errorf(span(t, src, "rply", 0), "flow/x", "in the middle of a long line")
			return l
		},
		"wide": func(t *testing.T) List {
			src := file.NewSource("a.flow", "\treply \"日本\"\t{{ rply }}\nreply \"e\u0301\u0301x 👍🏽 y\" rply\n")
			var l List
			l.Errorf(span(t, src, "rply", 0), "flow/x", "after tabs and wide characters")
			l.Errorf(span(t, src, "日本", 0), "flow/x", "wide characters underlined")
			l.Errorf(span(t, src, "rply", 1), "flow/x", "after combining marks and an emoji with a modifier")
			l.Errorf(span(t, src, "e\u0301\u0301x", 0), "flow/x", "combining marks underlined")
			return l
		},
		"edges": func(t *testing.T) List {
			src := file.NewSource("a.flow", "reply \"x\r\nreply \"y\"")
			var l List
			l.Errorf(src.Span(8, 8), "flow/parse", "unterminated string: an empty span at the end of a CRLF line")
			l.Errorf(src.Span(len(src.Text), len(src.Text)), "flow/parse", "an empty span at the end of the file")
			l.Errorf(file.Span{}, "flow/x", "a diagnostic without a place").Hint = "a hint\non two lines"
			big := file.NewSource("big.flow", strings.Repeat("\n", 120)+"rply\n")
			d := l.Errorf(span(t, big, "rply", 0), "flow/x", "three-digit line numbers")
			d.Related = []Related{{Span: big.Span(0, 0), Message: "line 1"}}
			return l
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			WriteText(&b, build(t), true)
			got := b.String()
			path := filepath.Join("testdata", "text", name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestTextAnySpans draws diagnostics with spans, related spans and fixes
// anywhere in a text of tabs, CRLF, wide, combining and invalid
// characters, and long lines, some splitting a character: nothing
// panics, every diagnostic has its header, and the output is UTF-8.
func TestTextAnySpans(t *testing.T) {
	pieces := []string{"reply", " ", "\t", "\r\n", "\n", "日本", "e\u0301", "👍🏽", "\xff", "{{ x }}", strings.Repeat("a", 150), "<", ">"}
	seed := uint32(1)
	rnd := func(n int) int { // xorshift: deterministic, no math/rand state
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return int(seed % uint32(n))
	}
	for iter := 0; iter < 300; iter++ {
		var b strings.Builder
		for i := 0; i < 5+rnd(40); i++ {
			b.WriteString(pieces[rnd(len(pieces))])
		}
		src := file.NewSource("r.flow", b.String())
		other := file.NewSource("o.flow", "x\ny\n")
		n := len(src.Text)
		sp := func() file.Span {
			s := rnd(n + 1)
			return src.Span(s, s+rnd(n-s+1))
		}
		var l List
		for k := 0; k < 1+rnd(3); k++ {
			d := l.Errorf(sp(), "flow/x", "d%d", k)
			for j := 0; j < rnd(4); j++ {
				r := sp()
				if rnd(4) == 0 {
					r = other.Span(0, 3)
				}
				d.Related = append(d.Related, Related{Span: r, Message: "label"})
			}
			if rnd(2) == 0 {
				e1 := sp()
				d.Fixes = append(d.Fixes, Fix{Title: "f", Edits: []Edit{{Span: e1, New: pieces[rnd(len(pieces))]}}})
			}
		}
		var out strings.Builder
		WriteText(&out, l, true)
		text := out.String()
		for k := range l {
			if !strings.Contains(text, fmt.Sprintf("error[flow/x]: d%d\n", k)) {
				t.Fatalf("text %q: diagnostic %d missing:\n%s", src.Text, k, text)
			}
		}
		if !utf8.ValidString(text) {
			t.Fatalf("text %q: output is not UTF-8:\n%q", src.Text, text)
		}
	}
}
