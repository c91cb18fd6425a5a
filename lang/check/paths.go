package check

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// MaxAppletBytes bounds an applet's .js file. A file over it is refused
// from its size before any of it is read, and reading stops there even
// if the file grows meanwhile.
const MaxAppletBytes = 256 << 10

// appletDecl checks the path of `applet NAME = "path"` and that the file
// is there, reporting at the path's line:col, and returns the
// declaration. The declaration is kept even when the path is refused,
// so `run NAME(…)` is not also reported as unknown.
//
// Applet files are read from the flow's own directory only (the
// source's Files: a directory on disk rooted there, or the bundle a
// deploy was given): the path must be relative, clean and stay inside.
// So a flow cannot make whoever compiles it (a server taking deploys)
// read /etc/shadow, /dev/zero or ../secrets, and no message ever quotes
// a file the flow was not given with.
func (c *checker) appletDecl(h *syntax.Header, name, declared string) AppletDecl {
	d := AppletDecl{Name: name, Span: c.f.Span(h)}
	at := c.f.Span(h.Values[0])
	if msg := AppletPathProblem(declared); msg != "" {
		c.diags.Errorf(at, CodeApplet, "%s", msg)
		return d
	}
	d.File = declared
	d.Path = filepath.Join(filepath.Dir(c.f.Source.Name), filepath.FromSlash(declared))
	if _, err := StatApplet(c.f.Source.Files(), declared); err != nil {
		e := c.diags.Errorf(at, CodeApplet, "%v", err)
		if errors.Is(err, fs.ErrNotExist) {
			if s, hint := appletPathHint(c.f.Source.Files(), declared); s != "" {
				e.Hint = fmt.Sprintf("did you mean %q?", s)
				e.Fixes = []diag.Fix{{Title: fmt.Sprintf("replace with %q", s), Edits: []diag.Edit{{Span: at, New: strconv.Quote(s)}}}}
			} else {
				e.Hint = hint
			}
		}
	}
	return d
}

// Bounds of the search for a near-miss applet file: a flow checked in a
// large directory (a home directory) must not have its whole tree read.
const (
	maxScanEntries = 2000
	maxScanDepth   = 4
)

// appletPathHint looks, for a declared applet file that does not exist,
// for the .js file in fsys it probably meant: the closest path by edit
// distance (a misspelt file or directory name). Without one, hint says
// which .js files the declared directory holds, or that it holds none.
// Hidden directories and node_modules are not searched.
func appletPathHint(fsys fs.FS, declared string) (suggest, hint string) {
	var paths []string
	n := 0
	_ = fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if n++; n > maxScanEntries {
			return fs.SkipAll
		}
		if err != nil {
			return nil // an unreadable directory: search the rest
		}
		if e.IsDir() {
			if p != "." && (strings.HasPrefix(e.Name(), ".") || e.Name() == "node_modules" || strings.Count(p, "/") >= maxScanDepth) {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".js") { // a link or a FIFO too: StatApplet judges the file meant
			paths = append(paths, p)
		}
		return nil
	})
	if s := Suggest(declared, paths); s != "" {
		return s, ""
	}
	dir := path.Dir(declared)
	var here []string
	for _, p := range paths {
		if path.Dir(p) == dir {
			here = append(here, path.Base(p))
		}
	}
	where := "the flow's directory"
	if dir != "." {
		where = dir + "/"
		if st, err := fs.Stat(fsys, dir); err != nil || !st.IsDir() {
			return "", fmt.Sprintf("there is no directory %s beside the flow: the path is read from the flow's own directory", where)
		}
	}
	switch {
	case len(here) == 0:
		return "", fmt.Sprintf("%s holds no .js file: write the applet there, or give the path of one", where)
	case len(here) <= 5:
		return "", fmt.Sprintf(".js files in %s: %s", where, strings.Join(here, ", "))
	}
	return "", fmt.Sprintf("%s holds %d .js files, none named like %s", where, len(here), path.Base(declared))
}

// AppletPathProblem says what is wrong with an applet path as declared,
// or "" when it is a clean relative path inside the flow's directory.
func AppletPathProblem(p string) string {
	const inside = "give the path from the flow's directory, e.g. \"applets/lookup.js\""
	switch {
	case p == "":
		return "applet path is empty; " + inside
	case strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Sprintf("applet path %q contains a control character", p)
	case strings.Contains(p, `\`):
		return fmt.Sprintf("applet path %q contains a backslash; separate directories with /", p)
	case strings.HasPrefix(p, "/") || filepath.IsAbs(p) || filepath.VolumeName(p) != "":
		return fmt.Sprintf("applet path %q is absolute: applets are read from the flow's directory only; %s", p, inside)
	case p == ".." || strings.HasPrefix(p, "../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "/../"):
		return fmt.Sprintf("applet path %q leaves the flow's directory (..): applets are read from the flow's directory and below only", p)
	case p == ".":
		return fmt.Sprintf("applet path %q does not name a file; %s", p, inside)
	case !fs.ValidPath(p):
		if c := path.Clean(p); fs.ValidPath(c) && c != "." {
			return fmt.Sprintf("applet path %q is not clean; write %q", p, c)
		}
		return fmt.Sprintf("applet path %q does not name a file; %s", p, inside)
	}
	return ""
}

// StatApplet checks that name in fsys is a regular file within
// MaxAppletBytes, without opening it (opening a FIFO blocks). The error
// names only the path as declared.
func StatApplet(fsys fs.FS, name string) (fs.FileInfo, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, appletFileError(name, err)
	}
	return st, checkAppletInfo(name, st)
}

func checkAppletInfo(name string, st fs.FileInfo) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("applet file %s is not a regular file", name)
	}
	if st.Size() > MaxAppletBytes {
		return fmt.Errorf("applet file %s is %d KiB, over the %d KiB limit for applets", name, (st.Size()+1023)>>10, MaxAppletBytes>>10)
	}
	return nil
}

// noFileError is a declared applet file that is not there; it is
// fs.ErrNotExist, so that the checker can look for the file meant.
type noFileError string

func (e noFileError) Error() string        { return fmt.Sprintf("applet file %s: no such file", string(e)) }
func (e noFileError) Is(target error) bool { return target == fs.ErrNotExist }

func appletFileError(name string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return noFileError(name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("applet file %s: permission denied", name)
	}
	// The innermost error only: a *PathError's text could name the
	// directory the flow is in.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("applet file %s cannot be read: %v", name, err)
}

// ReadApplet reads an applet's file from fsys with the checks of
// StatApplet, made again on the open file, and never more than
// MaxAppletBytes of it.
func ReadApplet(fsys fs.FS, name string) ([]byte, error) {
	if msg := AppletPathProblem(name); msg != "" {
		return nil, errors.New(msg)
	}
	if _, err := StatApplet(fsys, name); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, appletFileError(name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, appletFileError(name, err)
	}
	if err := checkAppletInfo(name, st); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxAppletBytes+1))
	if err != nil {
		return nil, appletFileError(name, err)
	}
	if len(b) > MaxAppletBytes {
		return nil, fmt.Errorf("applet file %s is over the %d KiB limit for applets", name, MaxAppletBytes>>10)
	}
	return b, nil
}
