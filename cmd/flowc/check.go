package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/internal/buildinfo"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/lang/file"
)

func init() {
	register(command{name: "check", summary: "lint .flow files (for editors and CI)", run: runCheck})
}

// CodeDirectory is the error for a directory file that cannot be used.
const CodeDirectory = "flow/directory"

// stdinDefaultName names standard input when --stdin-filename is not given.
const stdinDefaultName = "stdin.flow"

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "flowc check [--format text|json|sarif|github|short] [--fail-on error|warning] [--strict] [--directory FILE] [--max-segments N] [--fix [--diff]] [PATH… | - [--stdin-filename NAME]]", stderr)
	format := fs.String("format", "text", "output format: text (rustc style), json, sarif (SARIF 2.1.0), github (workflow annotations) or short (one line per diagnostic, for problem matchers)")
	failOn := fs.String("fail-on", "error", "exit 2 when a diagnostic is at this level or worse: error or warning")
	strict := fs.Bool("strict", false, "refuse warnings too (--fail-on warning), as serve --strict and deploy --strict do")
	dirFile := fs.String("directory", "", "the directory file (users, teams, contacts) to check inbox targets against; default: directory.json beside the flows, if any")
	maxSegments := fs.Int("max-segments", check.DefaultMaxSegments, "warn about a reply or prompt sent as more SMS segments than this")
	stdinName := fs.String("stdin-filename", "", "with - (or no PATH): the name standard input is checked as; diagnostics name it and directory.json is looked up beside it")
	fix := fs.Bool("fix", false, "apply the diagnostics' fixes to the files (with -: write the fixed text to stdout), then check again")
	diff := fs.Bool("diff", false, "with --fix (implied): print the fixes as a unified diff on stdout instead of writing them")
	fs.BoolVar(diff, "d", false, "short for --diff")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	usage := func(err error) int {
		fmt.Fprintln(stderr, "flowc check:", err)
		return exitUsage
	}
	if err := oneOf("format", *format, "text", "json", "sarif", "github", "short"); err != nil {
		return usage(err)
	}
	if err := oneOf("fail-on", *failOn, "error", "warning"); err != nil {
		return usage(err)
	}
	if *maxSegments < 1 {
		return usage(fmt.Errorf("--max-segments must be at least 1, not %d", *maxSegments))
	}
	fromStdin := len(paths) == 1 && paths[0] == "-" || len(paths) == 0 && *stdinName != ""
	switch {
	case !fromStdin && *stdinName != "":
		return usage(errors.New("--stdin-filename needs - as the only PATH"))
	case !fromStdin && slicesContains(paths, "-"):
		return usage(errors.New("- (standard input) cannot be combined with other paths"))
	case len(paths) == 0:
		paths = []string{"."}
	}
	*fix = *fix || *diff
	if *fix && (fromStdin || *diff) && *format != "text" && *format != "short" {
		return usage(fmt.Errorf("--fix with - or --diff writes the text on stdout: --format %s would write there too; use text or short", *format))
	}

	var srcs []*file.Source
	var searched []string // where directory.json may be
	if fromStdin {
		name := *stdinName
		if name == "" {
			name = stdinDefaultName
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return usage(err)
		}
		srcs = []*file.Source{file.NewSource(name, string(b))}
		searched = []string{filepath.Dir(name)}
	} else {
		names, err := lang.FindFiles(paths)
		if err != nil {
			return usage(err)
		}
		if len(names) == 0 {
			return usage(fmt.Errorf("no .flow files in %v", paths))
		}
		if srcs, err = lang.ReadSources(names); err != nil {
			return usage(err)
		}
		for _, p := range paths {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				searched = append(searched, p)
			} else {
				searched = append(searched, filepath.Dir(p))
			}
		}
	}
	dir, ddiags, err := loadCheckDirectory(*dirFile, searched)
	if err != nil {
		return usage(err)
	}
	run := func(srcs []*file.Source) (diag.List, []check.Reply, int) {
		res := lang.CheckSources(srcs)
		diags := checkAll(res)
		replies, rdiags := check.Replies(res.Files, *maxSegments)
		diags = append(diags, rdiags...)
		diags = append(diags, ddiags...)
		diags = append(diags, check.Directory(res.Files, dir)...)
		diags.Sort()
		return diags, replies, len(res.Files)
	}
	diags, replies, nfiles := run(srcs)

	if *fix {
		// Fix, check again, and fix what the new check finds, until
		// nothing changes: the compiler's checks (variables, sections)
		// only run on files the front end passes, so a typo there is
		// found once the applet's name is fixed.
		cur := srcs
		applied := make([]int, len(srcs))
		var notes []string
		for round := 0; round < maxFixRounds; round++ {
			next, n, skipped := applyCheckFixes(cur, diags)
			notes = skipped
			if !changed(cur, next) {
				break
			}
			for i := range n {
				applied[i] += n[i]
			}
			cur = next
			diags, replies, nfiles = run(cur)
		}
		for _, n := range notes {
			fmt.Fprintln(stderr, n)
		}
		for i, src := range srcs {
			if cur[i] == src {
				if fromStdin && !*diff {
					io.WriteString(stdout, bom(src)+src.Text)
				}
				continue
			}
			switch {
			case *diff:
				d, err := unifiedDiff(src.Name, []byte(src.Text), []byte(cur[i].Text))
				if err != nil {
					return usage(err)
				}
				stdout.Write(d)
			case fromStdin:
				io.WriteString(stdout, bom(src)+cur[i].Text)
			default:
				if err := writeFileAtomic(src.Name, []byte(bom(src)+cur[i].Text)); err != nil {
					return usage(err)
				}
			}
			verb := "fixed"
			if *diff {
				verb = "would fix"
			}
			fmt.Fprintf(stderr, "%s %s: %d fix(es)\n", verb, src.Name, applied[i])
		}
	}

	switch *format {
	case "json":
		r := diag.Report(diags, nfiles)
		r.Replies = jsonReplies(replies)
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return usage(err)
		}
	case "sarif":
		mod, _, _ := buildinfo.Read()
		if err := diag.WriteSARIF(stdout, diags, mod); err != nil {
			return usage(err)
		}
	case "github":
		diag.WriteGitHub(stdout, diags)
	default:
		diag.WriteText(stderr, diags, *format == "text")
		if len(diags) > 0 {
			e, w := diags.Count()
			notes := ""
			if n := diags.Notes(); n > 0 {
				notes = fmt.Sprintf(", %d note(s)", n)
			}
			if *format == "text" {
				fmt.Fprintln(stderr)
			}
			fmt.Fprintf(stderr, "%d error(s), %d warning(s)%s in %d file(s)\n", e, w, notes, nfiles)
		}
	}
	level := diag.Error
	if *failOn == "warning" || *strict {
		level = diag.Warning
	}
	if diags.AtLeast(level) {
		return exitFail
	}
	return exitOK
}

// maxFixRounds bounds the rounds of --fix: fixes that undo each other
// must not loop for ever.
const maxFixRounds = 10

// bom is the byte order mark src was read with, if any: --fix writes
// it back.
func bom(src *file.Source) string {
	if src.HadBOM {
		return file.BOM
	}
	return ""
}

func changed(a, b []*file.Source) bool {
	for i := range a {
		if a[i] != b[i] && a[i].Text != b[i].Text {
			return true
		}
	}
	return false
}

// applyCheckFixes applies the fixes of diags to srcs, file by file, in
// the order of the diagnostics, and returns the sources as fixed (the
// same *Source where nothing changed), the number of fixes applied to
// each, and a line for each fix it left: one overlapping a fix applied
// first (the next round of --fix takes it if it still applies), one
// that cannot be applied, one in a file that is not one of srcs (the
// directory file) or in several files.
func applyCheckFixes(srcs []*file.Source, diags diag.List) ([]*file.Source, []int, []string) {
	index := map[*file.Source]int{}
	for i, s := range srcs {
		index[s] = i
	}
	per := make([][]diag.Fix, len(srcs))
	var notes []string
	for _, d := range diags {
		for _, f := range d.Fixes {
			var src *file.Source
			for _, e := range f.Edits {
				if src == nil {
					src = e.Span.Source
				} else if e.Span.Source != src {
					src = nil
					break
				}
			}
			i, ok := index[src]
			if !ok {
				notes = append(notes, fmt.Sprintf("%s: fix %q not applied: it edits a file other than the flows checked, or several", d.Span, f.Title))
				continue
			}
			per[i] = append(per[i], f)
		}
	}
	out := make([]*file.Source, len(srcs))
	applied := make([]int, len(srcs))
	for i, src := range srcs {
		out[i] = src
		if len(per[i]) == 0 {
			continue
		}
		text, err := diag.ApplyFixes(src.Text, per[i])
		applied[i] = len(per[i])
		if se, ok := err.(*diag.SkippedError); ok {
			notes = append(notes, strings.Split(se.Error(), "\n")...)
			applied[i] -= len(se.Skipped)
		}
		if text != src.Text {
			fixed := file.NewSource(src.Name, text)
			fixed.Dir, fixed.HadBOM = src.Dir, src.HadBOM
			out[i] = fixed
		}
	}
	return out, applied, notes
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// loadCheckDirectory reads the directory to check inbox targets against:
// the file named by --directory (which must exist), else directory.json
// in the searched directories, else none (nil: no directory checks). Two
// different directory.json files would check some flows against the
// wrong people: that is a usage error. A file that cannot be used is an
// error diagnostic at its place in the file, so that every output
// format carries it.
func loadCheckDirectory(named string, searched []string) (*directory.Directory, diag.List, error) {
	path := named
	if path == "" {
		for _, d := range searched {
			p := filepath.Join(d, directory.FileName)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			switch {
			case path == "":
				path = p
			case !sameFile(path, p):
				return nil, nil, fmt.Errorf("the paths have two directory files, %s and %s: check them separately or name one with --directory", path, p)
			}
		}
		if path == "" {
			return nil, nil, nil
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("--directory %s: no such file", path)
		}
		return nil, nil, err
	}
	d, err := directory.Parse(path, b)
	var de *directory.Error
	if errors.As(err, &de) {
		src := file.NewSource(path, string(b))
		var l diag.List
		l.Errorf(src.Span(de.Offset, min(de.Offset+1, len(b))), CodeDirectory, "%s", de.Msg).Hint =
			"docs/server.md describes directory.json; inbox targets are not checked until it is fixed"
		return nil, l, nil
	}
	return d, nil, err
}

// jsonReplies is the "replies" array of `flowc check --format json`.
func jsonReplies(rs []check.Reply) []diag.JSONReply {
	out := make([]diag.JSONReply, 0, len(rs))
	for _, r := range rs {
		out = append(out, diag.JSONReply{
			File: r.Span.Source.Name, Range: diag.JSONRange{Start: r.Span.StartPos(), End: r.Span.EndPos()},
			Kind: r.Kind, Chars: r.Chars, Units: r.Units, Encoding: r.Encoding, Segments: r.Segments, Exact: r.Exact,
		})
	}
	return out
}

// checkAll runs every check available on a loaded file set: the front
// end's, then the compiler's (names, types, control flow) on the files
// the front end found no errors in.
func checkAll(res *lang.Result) diag.List {
	_, cd := compiler.All(res)
	all := append(diag.List{}, res.Diags...)
	all = append(all, cd...)
	all.Sort()
	return all
}
