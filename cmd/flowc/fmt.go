package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
)

func init() {
	register(command{name: "fmt", summary: "format .flow files in the canonical style", run: runFmt})
}

// runFmt mirrors `opa fmt`: print the formatted file to stdout by
// default; -w writes it back, -l lists files whose formatting differs,
// -d prints a diff, --fail exits 2 when any file would change. With no
// path it formats stdin. The output is re-parsed, and must parse to the
// same statements, before anything is written.
func runFmt(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("fmt", "flowc fmt [-w] [-l] [-d] [--fail] [PATH…]", stderr)
	write := fs.Bool("w", false, "write the result back to the source file instead of stdout")
	list := fs.Bool("l", false, "list files whose formatting differs from flowc fmt's")
	diff := fs.Bool("d", false, "display diffs instead of rewriting files")
	fail := fs.Bool("fail", false, "exit 2 if any file would be changed")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) == 0 {
		if *write {
			fmt.Fprintln(stderr, "flowc fmt: -w needs a path")
			return exitUsage
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "flowc fmt:", err)
			return exitUsage
		}
		return fmtOne(file.NewSource("<stdin>", string(b)), fmtOpts{list: *list, diff: *diff, fail: *fail}, stdout, stderr)
	}
	names, err := lang.FindFiles(paths)
	if err != nil {
		fmt.Fprintln(stderr, "flowc fmt:", err)
		return exitUsage
	}
	code := exitOK
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			fmt.Fprintln(stderr, "flowc fmt:", err)
			return exitUsage
		}
		c := fmtOne(file.NewSource(n, string(b)), fmtOpts{write: *write, list: *list, diff: *diff, fail: *fail}, stdout, stderr)
		code = max(code, c)
	}
	return code
}

type fmtOpts struct{ write, list, diff, fail bool }

func fmtOne(src *file.Source, o fmtOpts, stdout, stderr io.Writer) int {
	out, diags := formatSource(src)
	if diags.HasErrors() {
		diag.WriteText(stderr, diags, true)
		return exitFail
	}
	changed := !bytes.Equal(out, []byte(src.Text))
	switch {
	case o.list || o.diff:
		if changed && o.list {
			fmt.Fprintln(stdout, src.Name)
		}
		if changed && o.diff {
			d, err := unifiedDiff(src.Name, []byte(src.Text), out)
			if err != nil {
				fmt.Fprintln(stderr, "flowc fmt:", err)
				return exitUsage
			}
			stdout.Write(d)
		}
	case o.write:
		if changed {
			if err := writeFileAtomic(src.Name, out); err != nil {
				fmt.Fprintln(stderr, "flowc fmt:", err)
				return exitUsage
			}
		}
	default:
		stdout.Write(out)
	}
	if changed && o.fail {
		return exitFail
	}
	return exitOK
}

// formatSource formats src and re-parses the result, refusing output
// that does not parse to the same statements (a formatter bug must
// never destroy a file).
func formatSource(src *file.Source) ([]byte, diag.List) {
	f, diags := syntax.Parse(src)
	if diags.HasErrors() {
		return nil, diags
	}
	out := syntax.Format(f)
	g, d2 := syntax.Parse(file.NewSource(src.Name, string(out)))
	if d2.HasErrors() || syntax.Dump(g) != syntax.Dump(f) {
		var l diag.List
		l.Errorf(src.Span(0, 0), "flow/fmt", "internal error: formatting %s changed its meaning; the file was left as it is (please report this)", src.Name)
		return nil, l
	}
	return out, nil
}

func writeFileAtomic(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".flowc-fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// unifiedDiff shells out to diff(1) as opa fmt -d does, labelling the
// sides like gofmt -d.
func unifiedDiff(name string, a, b []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "flowc-fmt")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fa, fb := filepath.Join(dir, "orig"), filepath.Join(dir, "new")
	if err := os.WriteFile(fa, a, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(fb, b, 0o600); err != nil {
		return nil, err
	}
	out, err := exec.Command("diff", "-u", "--label", name+".orig", "--label", name, fa, fb).Output()
	if len(out) > 0 {
		return out, nil // diff exits 1 when files differ
	}
	return out, err
}
