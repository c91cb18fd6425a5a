package lang

import (
	"fmt"
	"io/fs"
	"os"
	"path"
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

// ReadSources reads the named files. Each one's applets are read from
// its directory on disk, rooted there (file.OSDir).
func ReadSources(names []string) ([]*file.Source, error) {
	out := make([]*file.Source, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		src := file.NewSource(n, string(b))
		src.Dir = file.OSDir(filepath.Dir(n))
		out = append(out, src)
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

// LoadFS is Load over a file system: paths and file names are
// slash-separated names inside fsys (fs.ValidPath), and each flow's
// applets are read from its directory inside fsys. Nothing outside fsys
// is read: a server deploying a bundle passes the bundle (an in-memory
// fs.FS) and its own files stay out of reach.
func LoadFS(fsys fs.FS, paths []string) (*Result, error) {
	var names []string
	seen := map[string]bool{}
	for _, p := range paths {
		err := fs.WalkDir(fsys, p, func(name string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && name != p && len(d.Name()) > 1 && d.Name()[0] == '.':
				return fs.SkipDir
			case d.IsDir() || seen[name] || (name != p && path.Ext(name) != ".flow"):
				return nil
			}
			names = append(names, name)
			seen[name] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no .flow files in %v", paths)
	}
	srcs := make([]*file.Source, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		src := file.NewSource(n, string(b))
		if src.Dir, err = fs.Sub(fsys, path.Dir(n)); err != nil {
			return nil, err
		}
		srcs = append(srcs, src)
	}
	return CheckSources(srcs), nil
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
