package lang

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// FindFiles expands paths (files or directories, searched recursively for
// *.flow) into a sorted list of .flow files. A named file is taken
// whatever its extension.
func FindFiles(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if !seen[p] {
				out = append(out, p)
				seen[p] = true
			}
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && len(d.Name()) > 1 && d.Name()[0] == '.' {
				return filepath.SkipDir
			}
			if !d.IsDir() && filepath.Ext(path) == ".flow" && !seen[path] {
				found = append(found, path)
				seen[path] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// ReadSources reads the named files.
func ReadSources(names []string) ([]*file.Source, error) {
	out := make([]*file.Source, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, file.NewSource(n, string(b)))
	}
	return out, nil
}

// Result is a parsed and checked file set.
type Result struct {
	Files []*syntax.File
	Infos []*check.Info
	Diags diag.List
}

// CheckSources parses and checks sources as one set.
func CheckSources(srcs []*file.Source) *Result {
	r := &Result{}
	for _, s := range srcs {
		f, d := syntax.Parse(s)
		r.Files = append(r.Files, f)
		r.Diags = append(r.Diags, d...)
	}
	infos, d := check.Files(r.Files)
	r.Infos = infos
	r.Diags = append(r.Diags, d...)
	r.Diags.Sort()
	return r
}

// Load finds, reads, parses and checks the .flow files under paths. The
// error is for I/O problems only; problems in the files are diagnostics.
func Load(paths []string) (*Result, error) {
	names, err := FindFiles(paths)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no .flow files in %v", paths)
	}
	srcs, err := ReadSources(names)
	if err != nil {
		return nil, err
	}
	return CheckSources(srcs), nil
}
