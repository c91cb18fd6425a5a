// Package diagtest checks diagnostics against expectations written in
// the .flow test files themselves, in the style of go.starlark.net's
// test scripts: the expected diagnostics sit in comments on the line
// that causes them.
//
// # Markers
//
// A `###` comment on a line expects one diagnostic on that line:
//
//	rply "x"                    ### flow/applet "unknown applet"
//	when count < 3 < reply "a"  ### 14: flow/parse "unexpected number 3"
//	help -> reply "x"           ### warning flow/opt-out-keyword
//
// After `###` come, in this order and each optional (but at least a
// code or a pattern):
//
//   - COLUMN ":" — the 1-based column (in runes) where the diagnostic
//     starts; without it any column matches;
//   - "error", "warning" or "note" — the severity; without it any matches;
//   - CODE — the diagnostic code, e.g. flow/parse;
//   - PATTERN — a Go string literal ("…" or `…`) holding a regular
//     expression the message must match;
//   - hint PATTERN — a regular expression the diagnostic's hint must
//     match (without it the hint is not looked at);
//   - fix PATTERN — the diagnostic must carry fixes, and once they are
//     applied (diag.ApplyFixes) the text of the marker's line (its `###`
//     comment included) must match this regular expression, e.g.
//     `rply "x"  ### flow/applet fix "^reply \"x\""` (without it the
//     fixes are not looked at).
//
// Several `###` on one line expect several diagnostics there. A marker
// line, a comment holding only spaces and a caret followed by the same
// specification, expects a diagnostic on the nearest line above that is
// not a marker line, starting at the caret's column:
//
//	set total = price *+ 2
//	#                  ^ flow/expr "unexpected token"
//
// Compare demands that the diagnostics equal the expectations exactly:
// every diagnostic expected, every expectation met.
//
// The `###` is found by text, not by the lexer, so a marker works even on
// a line whose string is unterminated; do not write "###" inside a string
// of a test file. Inside an unclosed parenthesis `#` is not a comment to
// the lexer (expr-lang uses it), so a marker there becomes part of the
// expression.
package diagtest

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// Expect is one expected diagnostic.
type Expect struct {
	File     string
	Line     int
	Column   int    // 0: any column
	Severity string // "": any severity
	Code     string // "": any code
	Pattern  *regexp.Regexp
	Hint     *regexp.Regexp
	Fix      *regexp.Regexp // the line once the fixes are applied
	Spec     string         // the marker's text, for messages
}

func (e Expect) String() string {
	return fmt.Sprintf("%s:%d: ### %s", e.File, e.Line, e.Spec)
}

var (
	caretLine = regexp.MustCompile(`^(\s*#\s*)\^(.*)$`)
	colPrefix = regexp.MustCompile(`^(\d+)\s*:\s*`)
	codeWord  = regexp.MustCompile(`^[a-z][a-z0-9-]*/[a-z0-9-]+`)
)

// Parse reads the expectations written in src.
func Parse(src *file.Source) ([]Expect, error) {
	var out []Expect
	target := 0 // the last line that is not a marker line
	for n := 1; n <= src.Lines(); n++ {
		line := src.Line(n)
		if m := caretLine.FindStringSubmatch(line); m != nil {
			if target == 0 {
				return nil, fmt.Errorf("%s:%d: caret marker with no line above it", src.Name, n)
			}
			e, err := parseSpec(m[2])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", src.Name, n, err)
			}
			e.File, e.Line = src.Name, target
			e.Column = len([]rune(m[1])) + 1
			out = append(out, e)
			continue
		}
		target = n
		parts := strings.Split(line, "###")
		for _, spec := range parts[1:] {
			e, err := parseSpec(spec)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", src.Name, n, err)
			}
			e.File, e.Line = src.Name, n
			out = append(out, e)
		}
	}
	return out, nil
}

func parseSpec(spec string) (Expect, error) {
	e := Expect{Spec: strings.TrimSpace(spec)}
	s := e.Spec
	if m := colPrefix.FindStringSubmatch(s); m != nil {
		e.Column, _ = strconv.Atoi(m[1])
		s = s[len(m[0]):]
	}
	for _, sev := range []string{"error", "warning", "note"} {
		if strings.HasPrefix(s, sev+" ") || s == sev {
			e.Severity = sev
			s = strings.TrimSpace(s[len(sev):])
		}
	}
	if m := codeWord.FindString(s); m != "" {
		e.Code = m
		s = strings.TrimSpace(s[len(m):])
	}
	quoted := func() (*regexp.Regexp, error) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, fmt.Errorf("bad marker %q: want [COLUMN:] [error|warning|note] [CODE] [\"REGEXP\"] [hint \"REGEXP\"] [fix \"REGEXP\"]", spec)
		}
		pat, _ := strconv.Unquote(q)
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("bad marker %q: %v", spec, err)
		}
		s = strings.TrimSpace(s[len(q):])
		return re, nil
	}
	var err error
	if s != "" && !strings.HasPrefix(s, "hint ") && !strings.HasPrefix(s, "fix ") {
		if e.Pattern, err = quoted(); err != nil {
			return e, err
		}
	}
	if strings.HasPrefix(s, "hint ") {
		s = strings.TrimSpace(s[len("hint "):])
		if e.Hint, err = quoted(); err != nil {
			return e, err
		}
	}
	if strings.HasPrefix(s, "fix ") {
		s = strings.TrimSpace(s[len("fix "):])
		if e.Fix, err = quoted(); err != nil {
			return e, err
		}
	}
	if s != "" {
		return e, fmt.Errorf("bad marker %q: unexpected %q", spec, s)
	}
	if e.Code == "" && e.Pattern == nil {
		return e, fmt.Errorf("bad marker %q: it needs a code or a pattern", spec)
	}
	return e, nil
}

func (e Expect) matches(d diag.Diagnostic) bool {
	p := d.Span.StartPos()
	name := ""
	if d.Span.Source != nil {
		name = d.Span.Source.Name
	}
	return name == e.File && p.Line == e.Line &&
		(e.Column == 0 || p.Column == e.Column) &&
		(e.Severity == "" || d.Severity.String() == e.Severity) &&
		(e.Code == "" || d.Code == e.Code) &&
		(e.Pattern == nil || e.Pattern.MatchString(d.Message)) &&
		(e.Hint == nil || e.Hint.MatchString(d.Hint)) &&
		(e.Fix == nil || e.Fix.MatchString(fixedLine(d, e.Line)))
}

// fixedLine is line n of d's file once d's fixes are applied, or "\x00"
// (which no pattern of a test file matches) when d has none or they
// cannot be applied.
func fixedLine(d diag.Diagnostic, n int) string {
	if len(d.Fixes) == 0 || d.Span.Source == nil {
		return "\x00"
	}
	text, err := diag.ApplyFixes(d.Span.Source.Text, d.Fixes)
	if err != nil {
		return "\x00"
	}
	return file.NewSource("", text).Line(n)
}

// specificity orders expectations so that the most demanding ones claim
// their diagnostic first.
func (e Expect) specificity() int {
	n := 0
	if e.Column != 0 {
		n += 4
	}
	if e.Code != "" {
		n += 2
	}
	if e.Pattern != nil {
		n++
	}
	if e.Hint != nil {
		n++
	}
	if e.Fix != nil {
		n++
	}
	return n
}

// Compare reports, through t, every diagnostic not expected and every
// expectation not met.
func Compare(t testing.TB, exps []Expect, diags diag.List) {
	t.Helper()
	for _, m := range Mismatches(exps, diags) {
		t.Error(m)
	}
}

// Mismatches returns a message for every diagnostic not expected and
// every expectation not met.
func Mismatches(exps []Expect, diags diag.List) []string {
	order := make([]int, len(exps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return exps[order[a]].specificity() > exps[order[b]].specificity() })
	used := make([]bool, len(diags))
	var out []string
	for _, i := range order {
		e := exps[i]
		found := false
		for j, d := range diags {
			if !used[j] && e.matches(d) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			out = append(out, fmt.Sprintf("%s: expected diagnostic not reported", e))
		}
	}
	for j, d := range diags {
		if !used[j] {
			out = append(out, fmt.Sprintf("%s: unexpected %s: %s [%s]", d.Span, d.Severity, d.Message, d.Code))
		}
	}
	return out
}
