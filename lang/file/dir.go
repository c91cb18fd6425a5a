package file

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Files is the file system the files a source refers to (applets) are
// read from: Dir when set, else the directory of Name on disk, rooted
// there (OSDir). Names inside it are relative, slash-separated and never
// leave it.
func (s *Source) Files() fs.FS {
	if s.Dir != nil {
		return s.Dir
	}
	return OSDir(filepath.Dir(s.Name))
}

// OSDir is the directory dir on disk as an fs.FS that cannot be left:
// names must be fs.ValidPath (relative, no "..") and a symbolic link
// pointing outside dir fails to open (os.Root). Unlike os.DirFS it holds
// nothing open between calls.
func OSDir(dir string) fs.FS { return osDir(dir) }

type osDir string

func (d osDir) root(op, name string) (*os.Root, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return os.OpenRoot(string(d))
}

func (d osDir) Open(name string) (fs.File, error) {
	r, err := d.root("open", name)
	if err != nil {
		return nil, err
	}
	defer r.Close() // the file stays open: it has its own descriptor
	return r.Open(filepath.FromSlash(name))
}

func (d osDir) Stat(name string) (fs.FileInfo, error) {
	r, err := d.root("stat", name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Stat(filepath.FromSlash(name))
}
