package check_test

// The diagnostics corpus: broken flows written the way real users break
// them, each mistake annotated with the place a careful human would
// point to, scored for exact positions, hints and one diagnostic per
// mistake (docs/benchmarks.md, "Diagnostics corpus"). The annotations
// say where the mistake is, not where flowc reports it today: the misses
// the test logs are the work list for the parser and checker.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/lang/file"
)

// brokenDir holds the cases: each *.flow file is one case, and each
// subdirectory holding .flow files is one case of several files checked
// together (as `flowc check DIR` does). validDir holds files that must
// check clean. Both sit two levels below testdata, out of reach of
// TestCheck's `###` golden files (testdata/*.flow, testdata/*/*.flow).
const (
	brokenDir = "testdata/corpus/broken"
	validDir  = "testdata/corpus/valid"
)

// The floors are the best figures reached (every mistake of the corpus,
// 2 Dec 2026); the test fails when a change makes any of them worse.
// Never lower them: a new case that misses is a parser or checker fix to
// make (targets, docs/benchmarks.md: exact 1.0, hint 0.9, clean 1.0). A rate is compared with a margin of
// rounding (eps), since 63/90 and 0.70 need not be the same float.
const (
	floorExact = 1.00 // share of mistakes reported exactly at their place (and code)
	floorHint  = 1.00 // share of hint-worthy mistakes whose diagnostic has a hint
	floorClean = 1.00 // share of cases with no more diagnostics than mistakes
	minCases   = 60
	eps        = 1e-9
)

// mistake is one `# expect:` annotation:
//
//	# expect: LINE:COL CODE [hint]
//	# expect: FILE:LINE:COL CODE [hint]
//
// CODE is a diagnostic code or * (any code); "hint" says a hint is
// reasonable to expect. FILE (relative to the annotating file's
// directory) names another file of the case, such as an applet's .js.
// A case whose file cannot hold comments (a JSON export) keeps its
// annotations in NAME.expect beside NAME.flow.
type mistake struct {
	File      string // as diagnostics name it
	Line, Col int
	Code      string // "" for any
	Hint      bool
	Spec      string // the annotation, for messages
}

var expectLine = regexp.MustCompile(`^#\s*expect:\s*(.*)$`)
var expectSpec = regexp.MustCompile(`^(?:(\S+):)?(\d+):(\d+)\s+(\*|[a-z][a-z0-9-]*/[a-z0-9-]+)(\s+hint)?\s*$`)

// parseExpect reads the annotations of text; name is the annotating
// file's name, the base of FILE paths and the default file.
func parseExpect(name, text string) ([]mistake, error) {
	var out []mistake
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		m := expectLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		s := expectSpec.FindStringSubmatch(m[1])
		if s == nil {
			return nil, fmt.Errorf("%s:%d: malformed annotation %q (want LINE:COL CODE|* [hint])", name, n, m[1])
		}
		mk := mistake{File: name, Code: s[4], Hint: s[5] != "", Spec: m[1]}
		if s[1] != "" {
			mk.File = filepath.Join(filepath.Dir(name), filepath.FromSlash(s[1]))
		}
		mk.Line, _ = strconv.Atoi(s[2])
		mk.Col, _ = strconv.Atoi(s[3])
		if mk.Code == "*" {
			mk.Code = ""
		}
		out = append(out, mk)
	}
	return out, sc.Err()
}

// checkPlace fails for an annotation pointing outside its file, so that
// an edit that shifts lines cannot leave annotations silently stale.
func checkPlace(mk mistake) error {
	b, err := os.ReadFile(mk.File)
	if err != nil {
		return fmt.Errorf("%s: %v", mk.Spec, err)
	}
	src := file.NewSource(mk.File, string(b))
	if mk.Line < 1 || mk.Line > src.Lines() {
		return fmt.Errorf("%s:%d: annotation %q: the file has %d lines", mk.File, mk.Line, mk.Spec, src.Lines())
	}
	line := strings.TrimRight(src.Line(mk.Line), "\r\n")
	if n := utf8.RuneCountInString(line); mk.Col < 1 || mk.Col > n+1 {
		return fmt.Errorf("%s:%d: annotation %q: the line has %d characters", mk.File, mk.Line, mk.Spec, n)
	}
	return nil
}

// outcome is how flowc answered one mistake.
type outcome struct {
	mistake
	Exact  bool             // a diagnostic starts at the place, with the code
	Got    *diag.Diagnostic // the diagnostic that answers it: the exact one, else the nearest on its line; nil: none
	Hinted bool             // Got has a hint
}

// score is a case's result: every mistake's outcome and the diagnostics
// (errors and warnings; notes are not counted) beyond one per mistake.
type score struct {
	Name     string
	Outcomes []outcome
	Diags    diag.List // errors and warnings
	Extra    int       // diagnostics beyond one per mistake
}

func samePath(a, b string) bool { return filepath.Clean(a) == filepath.Clean(b) }

// scoreCase matches diagnostics to mistakes. A diagnostic answers at
// most one mistake: first every exact match, then, for the rest, the
// nearest unused diagnostic on the mistake's line (a wrong column).
func scoreCase(name string, ms []mistake, all diag.List) score {
	s := score{Name: name}
	for _, d := range all {
		if d.Severity >= diag.Warning {
			s.Diags = append(s.Diags, d)
		}
	}
	used := make([]bool, len(s.Diags))
	s.Outcomes = make([]outcome, len(ms))
	for i, mk := range ms {
		s.Outcomes[i].mistake = mk
		for j, d := range s.Diags {
			p := d.Span.StartPos()
			if used[j] || d.Span.Source == nil || !samePath(d.Span.Source.Name, mk.File) ||
				p.Line != mk.Line || p.Column != mk.Col || (mk.Code != "" && d.Code != mk.Code) {
				continue
			}
			used[j] = true
			s.Outcomes[i].Exact, s.Outcomes[i].Got = true, &s.Diags[j]
			break
		}
	}
	for i := range s.Outcomes {
		o := &s.Outcomes[i]
		if o.Got == nil {
			best := -1
			for j, d := range s.Diags {
				p := d.Span.StartPos()
				if used[j] || d.Span.Source == nil || !samePath(d.Span.Source.Name, o.File) || p.Line != o.Line {
					continue
				}
				if best < 0 || abs(p.Column-o.Col) < abs(s.Diags[best].Span.StartPos().Column-o.Col) {
					best = j
				}
			}
			if best >= 0 {
				used[best] = true
				o.Got = &s.Diags[best]
			}
		}
		o.Hinted = o.Got != nil && strings.TrimSpace(o.Got.Hint) != ""
	}
	s.Extra = max(0, len(s.Diags)-len(ms))
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// rates sums the scores: the share of mistakes reported exactly, of
// hint-worthy mistakes with a hint, and of cases without a cascade.
type rates struct {
	Cases, Mistakes, Exact, HintWanted, Hinted, Clean, Extra int
}

func sum(scores []score) rates {
	var r rates
	for _, s := range scores {
		r.Cases++
		if s.Extra == 0 {
			r.Clean++
		}
		r.Extra += s.Extra
		for _, o := range s.Outcomes {
			r.Mistakes++
			if o.Exact {
				r.Exact++
			}
			if o.Hint {
				r.HintWanted++
				if o.Hinted {
					r.Hinted++
				}
			}
		}
	}
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (r rates) exact() float64 { return ratio(r.Exact, r.Mistakes) }
func (r rates) hint() float64  { return ratio(r.Hinted, r.HintWanted) }
func (r rates) clean() float64 { return ratio(r.Clean, r.Cases) }

// checkPaths runs what `flowc check PATH…` runs (cmd/flowc/check.go):
// load and check, the compiler's analysis, the texts' lengths, and the
// inbox targets against directory.json beside the paths.
func checkPaths(t *testing.T, paths ...string) diag.List {
	t.Helper()
	res, err := lang.Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	_, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	_, rd := check.Replies(res.Files, check.DefaultMaxSegments)
	all = append(all, rd...)
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			p = filepath.Dir(p)
		}
		b, err := os.ReadFile(filepath.Join(p, directory.FileName))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		d, err := directory.Parse(filepath.Join(p, directory.FileName), b)
		if err != nil {
			t.Fatalf("the corpus's own directory is broken: %v", err)
		}
		all = append(all, check.Directory(res.Files, d)...)
		break
	}
	all.Sort()
	return all
}

// corpusCase is one case: the paths to check and its annotated files.
type corpusCase struct {
	Name      string
	Path      string   // the .flow file or the directory
	Annotated []string // files whose annotations count (.flow and .expect)
}

func corpusCases(t *testing.T) []corpusCase {
	t.Helper()
	ents, err := os.ReadDir(brokenDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusCase
	for _, e := range ents {
		p := filepath.Join(brokenDir, e.Name())
		switch {
		case e.IsDir():
			flows, _ := filepath.Glob(filepath.Join(p, "*.flow"))
			if len(flows) == 0 {
				continue // shared files, such as applets/
			}
			exp, _ := filepath.Glob(filepath.Join(p, "*.expect"))
			out = append(out, corpusCase{Name: e.Name() + "/", Path: p, Annotated: append(flows, exp...)})
		case strings.HasSuffix(e.Name(), ".flow"):
			c := corpusCase{Name: e.Name(), Path: p, Annotated: []string{p}}
			if x := strings.TrimSuffix(p, ".flow") + ".expect"; fileExists(x) {
				c.Annotated = append(c.Annotated, x)
			}
			out = append(out, c)
		}
	}
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// mistakesOf reads a case's annotations; an .expect file annotates its
// .flow file.
func mistakesOf(t *testing.T, c corpusCase) []mistake {
	t.Helper()
	var ms []mistake
	for _, a := range c.Annotated {
		b, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		name := a
		if strings.HasSuffix(a, ".expect") {
			name = strings.TrimSuffix(a, ".expect") + ".flow"
		}
		m, err := parseExpect(name, string(b))
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m...)
	}
	if len(ms) == 0 {
		t.Fatalf("%s: no `# expect:` annotation", c.Path)
	}
	for _, mk := range ms {
		if err := checkPlace(mk); err != nil {
			t.Fatal(err)
		}
	}
	return ms
}

func TestCorpus(t *testing.T) {
	cases := corpusCases(t)
	if len(cases) < minCases {
		t.Fatalf("the corpus has %d cases, want at least %d", len(cases), minCases)
	}
	var scores []score
	for _, c := range cases {
		scores = append(scores, scoreCase(c.Name, mistakesOf(t, c), checkPaths(t, c.Path)))
	}
	t.Log("\n" + report(scores))
	r := sum(scores)
	t.Logf("%d cases, %d mistakes: exact %d/%d (%.0f%%), hint %d/%d (%.0f%%), no cascade %d/%d (%.0f%%, %d extra diagnostics)",
		r.Cases, r.Mistakes, r.Exact, r.Mistakes, 100*r.exact(), r.Hinted, r.HintWanted, 100*r.hint(),
		r.Clean, r.Cases, 100*r.clean(), r.Extra)
	if r.exact()+eps < floorExact {
		t.Errorf("exact positions %.3f, below the floor %.2f", r.exact(), floorExact)
	}
	if r.hint()+eps < floorHint {
		t.Errorf("hints %.3f, below the floor %.2f", r.hint(), floorHint)
	}
	if r.clean()+eps < floorClean {
		t.Errorf("cases without a cascade %.3f, below the floor %.2f", r.clean(), floorClean)
	}
}

// TestCorpusValid: valid flows get no error and no warning, checked as
// `flowc check examples/` and `flowc check testdata/corpus/valid` do.
func TestCorpusValid(t *testing.T) {
	for _, dir := range []string{"../../examples", validDir} {
		flows, _ := filepath.Glob(filepath.Join(dir, "*.flow"))
		if len(flows) == 0 {
			t.Fatalf("%s: no .flow files", dir)
		}
		for _, d := range checkPaths(t, dir) {
			if d.Severity >= diag.Warning {
				t.Errorf("false positive in a valid file: %v", d)
			}
		}
	}
}

// report lists every miss grouped by cause, for whoever fixes them.
func report(scores []score) string {
	var pos, code, none, hint, casc []string
	for _, s := range scores {
		for _, o := range s.Outcomes {
			at := fmt.Sprintf("%s %d:%d", s.Name, o.Line, o.Col)
			switch {
			case o.Exact:
			case o.Got == nil:
				none = append(none, fmt.Sprintf("%-40s nothing on that line (want %s); flowc: %s", at, o.Spec, places(s.Diags)))
			case o.Got.Span.StartPos().Column == o.Col:
				code = append(code, fmt.Sprintf("%-40s got %s, want %s: %s", at, o.Got.Code, o.Code, o.Got.Message))
			default:
				pos = append(pos, fmt.Sprintf("%-40s got col %d: %s [%s]", at, o.Got.Span.StartPos().Column, o.Got.Message, o.Got.Code))
			}
			if o.Hint && !o.Hinted && o.Got != nil {
				hint = append(hint, fmt.Sprintf("%-40s %s [%s]", at, o.Got.Message, o.Got.Code))
			}
		}
		if s.Extra > 0 {
			casc = append(casc, fmt.Sprintf("%-40s %d diagnostics for %d mistake(s): %s", s.Name, len(s.Diags), len(s.Outcomes), places(s.Diags)))
		}
	}
	var b strings.Builder
	for _, g := range []struct {
		title string
		lines []string
	}{
		{"wrong position (the mistake's place, then where flowc puts it)", pos},
		{"right place, other code", code},
		{"nothing reported on the mistake's line", none},
		{"no hint", hint},
		{"cascades", casc},
	} {
		sort.Strings(g.lines)
		fmt.Fprintf(&b, "%s: %d\n", g.title, len(g.lines))
		for _, l := range g.lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

// places lists where diagnostics start, with their codes.
func places(l diag.List) string {
	if len(l) == 0 {
		return "nothing"
	}
	var ds []string
	for _, d := range l {
		p := d.Span.StartPos()
		ds = append(ds, fmt.Sprintf("%d:%d %s", p.Line, p.Column, d.Code))
	}
	return strings.Join(ds, ", ")
}

// TestCorpusScoring checks the scoring itself on synthetic diagnostics,
// so that a bug in it cannot make the corpus pass.
func TestCorpusScoring(t *testing.T) {
	src := file.NewSource("x.flow", "reply \"a\"\nrply \"b\"\ninbox team:x\n")
	at := func(line, col int) file.Span {
		off := src.Offset(line, col)
		return src.Span(off, off+1)
	}
	mk := func(line, col int, code string, hint bool) mistake {
		return mistake{File: "x.flow", Line: line, Col: col, Code: code, Hint: hint, Spec: "test"}
	}
	d := func(sev diag.Severity, line, col int, code, hint string) diag.Diagnostic {
		return diag.Diagnostic{Severity: sev, Span: at(line, col), Code: code, Message: "m", Hint: hint}
	}

	// Exact, with a hint, and a note that is not a cascade.
	s := scoreCase("a", []mistake{mk(2, 1, "flow/applet", true)}, diag.List{
		d(diag.Error, 2, 1, "flow/applet", "did you mean reply?"), d(diag.Note, 3, 1, "flow/fall-through", ""),
	})
	if r := sum([]score{s}); r.Exact != 1 || r.Hinted != 1 || r.Clean != 1 || r.Extra != 0 {
		t.Errorf("exact case: %+v", r)
	}

	// The right line, a wrong column, no hint, and a second diagnostic:
	// not exact, unhinted, a cascade of one.
	s = scoreCase("b", []mistake{mk(2, 1, "", true)}, diag.List{
		d(diag.Error, 2, 6, "flow/parse", ""), d(diag.Warning, 3, 1, "flow/dead-end", "h"),
	})
	if r := sum([]score{s}); r.Exact != 0 || r.Hinted != 0 || r.HintWanted != 1 || r.Clean != 0 || r.Extra != 1 {
		t.Errorf("wrong column: %+v", r)
	}
	if s.Outcomes[0].Got == nil || s.Outcomes[0].Got.Span.StartPos().Column != 6 {
		t.Errorf("wrong column: answered by %v, want the diagnostic at 2:6", s.Outcomes[0].Got)
	}

	// The right place but another code is not exact; a hint not asked
	// for does not count either way.
	s = scoreCase("c", []mistake{mk(3, 7, "flow/unknown-target", false)}, diag.List{d(diag.Error, 3, 7, "flow/args", "h")})
	if r := sum([]score{s}); r.Exact != 0 || r.HintWanted != 0 || r.Clean != 1 {
		t.Errorf("other code: %+v", r)
	}

	// One diagnostic cannot answer two mistakes at the same place, and a
	// diagnostic in another file answers neither.
	other := file.NewSource("y.flow", "rply \"b\"\n")
	s = scoreCase("d", []mistake{mk(2, 1, "", true), mk(2, 1, "", true)}, diag.List{
		d(diag.Error, 2, 1, "flow/applet", "h"),
		{Severity: diag.Error, Span: other.Span(0, 1), Code: "flow/applet", Hint: "h"},
	})
	if r := sum([]score{s}); r.Exact != 1 || r.Hinted != 1 || r.Clean != 1 {
		t.Errorf("two mistakes, one diagnostic: %+v", r)
	}

	// Nothing reported: not exact, no hint, no cascade.
	s = scoreCase("e", []mistake{mk(1, 1, "", true)}, nil)
	if r := sum([]score{s}); r.Exact != 0 || r.Hinted != 0 || r.Clean != 1 || s.Outcomes[0].Got != nil {
		t.Errorf("nothing reported: %+v", r)
	}
	if !strings.Contains(report([]score{s}), "nothing reported on the mistake's line: 1") {
		t.Errorf("report does not list the unreported mistake:\n%s", report([]score{s}))
	}
}

func TestCorpusAnnotations(t *testing.T) {
	ms, err := parseExpect("dir/a.flow", "# expect: 3:12 flow/parse hint\nreply \"x\" # expect: 4:1 *\n  # expect: b.js:1:2 flow/applet-js\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []mistake{
		{File: "dir/a.flow", Line: 3, Col: 12, Code: "flow/parse", Hint: true},
		{File: filepath.Join("dir", "b.js"), Line: 1, Col: 2, Code: "flow/applet-js"},
	}
	// An annotation must be on a line of its own: the trailing one is
	// part of a statement and is not read.
	if len(ms) != len(want) {
		t.Fatalf("got %d annotations, want %d: %+v", len(ms), len(want), ms)
	}
	for i, w := range want {
		g := ms[i]
		g.Spec = ""
		if g != w {
			t.Errorf("annotation %d: got %+v, want %+v", i, g, w)
		}
	}
	for _, bad := range []string{"# expect: 3 flow/parse", "# expect: 3:1 parse", "# expect: 3:1 * hints"} {
		if _, err := parseExpect("a.flow", bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
