package lsp

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"path"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// Limits on what the server reads and holds. An editor sends whatever
// buffer the user opened; a workspace may be a home directory.
const (
	// MaxFileBytes is the largest .flow text (open buffer or file on
	// disk) that is checked; a larger one gets one diagnostic saying so.
	MaxFileBytes = 1 << 20
	// MaxFiles is how many .flow files of the workspace are checked as
	// one set; past it the rest are left out, and the log says so.
	MaxFiles = 2000
	// MaxMessageBytes is the largest JSON-RPC message read: a larger
	// Content-Length ends the connection before its body is read.
	MaxMessageBytes = 16 << 20
	// MaxDirectoryBytes bounds directory.json.
	MaxDirectoryBytes = 4 << 20
	// MaxScanEntries bounds the files and directories looked at for
	// .flow files, so that a workspace opened on a home directory does
	// not walk it whole on every save.
	MaxScanEntries = 100_000
)

// CodeTooLarge is the diagnostic on a file over MaxFileBytes.
const CodeTooLarge = "flow/too-large"

type document struct {
	uri     string
	version int
	text    string
	flow    bool // a .flow document (language flowc, or a .flow name); else only read as directory.json
}

// workspace is the server's state: the root, the open documents, the
// .flow files on disk, and the last analysis of them all.
type workspace struct {
	root   string // absolute directory; "" when the client named none
	rootFS fs.FS  // root as an os.Root-backed fs.FS: nothing outside is read
	logf   func(string, ...any)

	mu   sync.Mutex
	docs map[string]*document // open documents by URI
	// byPath is the URI of each open document by its path: a client
	// spells URIs its own way (VS Code writes "@" as "%40"), and a file
	// on disk must be the open document of the same path, not a second
	// file.
	byPath map[string]string
	disk   map[string]string // slash path in root → text of the .flow files; nil: rescan
	gen    int               // bumped by every change
	snap   *snapshot
	// parsed keeps each file's parse while its text is unchanged, so a
	// change re-parses only the file that changed.
	parsed map[string]parsed
	// compiled keeps the compiler's diagnostics of each parse: a
	// change recompiles only the file that changed. Dropped when files
	// on disk change (the applets a compile reads may have).
	compiled map[*syntax.File]diag.List
}

// parsed is what depends on a file's text alone, kept while it is
// unchanged: the parse, its index, its replies measured as SMS.
type parsed struct {
	text    string
	f       *syntax.File
	diags   diag.List
	idx     *Index
	replies []check.Reply
	rdiags  diag.List
}

// snapshot is one analysis of the whole file set.
type snapshot struct {
	gen     int
	files   []*fileState
	byURI   map[string]*fileState
	diags   map[string]diag.List // by URI, also for directory.json files
	dirs    map[string]*dirInfo  // by slash directory in root
	replies []check.Reply
	// versions are the open documents' versions, for publishing.
	versions map[string]int
	// root and byPath are the workspace's, when the snapshot was made.
	root   string
	byPath map[string]string
	// bySource finds the file a span points into.
	bySource map[*file.Source]*fileState
}

type fileState struct {
	uri     string
	name    string // slash path in root, or the absolute path of a document outside it
	version int    // the open document's version, or -1
	open    bool
	src     *file.Source
	f       *syntax.File
	info    *check.Info
	idx     *Index
	dir     *dirInfo // directory.json beside it; nil when none
}

type dirInfo struct {
	uri  string
	name string
	text string
	d    *directory.Directory // nil when the file is not valid
}

func newWorkspace(root string, logf func(string, ...any)) *workspace {
	w := &workspace{root: root, logf: logf, docs: map[string]*document{}, byPath: map[string]string{}, parsed: map[string]parsed{}}
	if root != "" {
		w.rootFS = file.OSDir(root)
	}
	return w
}

// pathOf turns a file URI into a path, "" when it is not a file URI.
func pathOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" {
		return ""
	}
	return filepath.FromSlash(u.Path)
}

// uriOf is the file URI of an absolute path.
func uriOf(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// inRoot is the slash path of an absolute path inside the root, or ""
// when it is outside (or there is no root).
func (w *workspace) inRoot(p string) string {
	if w.root == "" || p == "" {
		return ""
	}
	rel, err := filepath.Rel(w.root, p)
	if err != nil || rel == "." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || rel == ".." || filepath.IsAbs(rel) {
		return ""
	}
	rel = filepath.ToSlash(rel)
	if !fs.ValidPath(rel) {
		return ""
	}
	return rel
}

// uriOfRel is the URI of a slash path in the root: the open document's
// if it is open. Called with w.mu held.
func (w *workspace) uriOfRel(rel string) string {
	abs := filepath.Join(w.root, filepath.FromSlash(rel))
	if u, ok := w.byPath[abs]; ok {
		return u
	}
	return uriOf(abs)
}

// open and close keep docs and byPath together. Called with w.mu held.
func (w *workspace) open(d *document) {
	w.docs[d.uri] = d
	if p := pathOf(d.uri); p != "" {
		w.byPath[filepath.Clean(p)] = d.uri
	}
}

func (w *workspace) close(uri string) {
	delete(w.docs, uri)
	if p := pathOf(uri); p != "" && w.byPath[filepath.Clean(p)] == uri {
		delete(w.byPath, filepath.Clean(p))
	}
}

// change runs fn on the state under the lock and marks the analysis stale.
func (w *workspace) change(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn()
	w.gen++
}

// current returns the analysis of the present state, computing it when
// something changed since the last.
func (w *workspace) current() *snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.snap != nil && w.snap.gen == w.gen {
		return w.snap
	}
	w.snap = w.analyseSafely()
	return w.snap
}

// latest returns the last analysis, computing one only if there is none,
// with the present text of document uri (ok false when it is not open).
func (w *workspace) latest(uri string) (snap *snapshot, text string, ok bool) {
	w.mu.Lock()
	d, open := w.docs[uri]
	if open {
		text = d.text
	}
	snap = w.snap
	w.mu.Unlock()
	if snap == nil {
		snap = w.current()
	}
	return snap, text, open
}

// analyseSafely is analyse, where a panic in a checker (a bug, on text
// the user is typing) is logged and leaves the workspace unchecked until
// the next change, rather than ending the editor's session.
func (w *workspace) analyseSafely() (s *snapshot) {
	defer func() {
		if r := recover(); r != nil {
			w.logf("flowc lsp: internal error checking the workspace (please report it): %v\n%s", r, debug.Stack())
			s = &snapshot{gen: w.gen, byURI: map[string]*fileState{}, diags: map[string]diag.List{}, dirs: map[string]*dirInfo{}, bySource: map[*file.Source]*fileState{}}
		}
	}()
	return w.analyse()
}

// scan reads the .flow files under the root, skipping dot directories as
// `flowc check` does, at most MaxFiles of them.
func (w *workspace) scan() {
	w.disk = map[string]string{}
	w.compiled = map[*syntax.File]diag.List{}
	if w.rootFS == nil {
		return
	}
	n, entries := 0, 0
	err := fs.WalkDir(w.rootFS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == "." {
				return err
			}
			return nil // an unreadable directory is left out, not fatal
		}
		if entries++; entries > MaxScanEntries {
			w.logf("flowc lsp: more than %d files and directories under %s: the .flow files past %s are not checked", MaxScanEntries, w.root, name)
			return fs.SkipAll
		}
		if d.IsDir() {
			if name != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return fs.SkipDir
			}
			return nil
		}
		if path.Ext(name) != ".flow" || !d.Type().IsRegular() {
			return nil
		}
		if n >= MaxFiles {
			w.logf("flowc lsp: more than %d .flow files under %s: %s and later ones are not checked", MaxFiles, w.root, name)
			return fs.SkipAll
		}
		n++
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if info.Size() > MaxFileBytes {
			w.disk[name] = "" // reported as too large, never read
			return nil
		}
		b, err := fs.ReadFile(w.rootFS, name)
		if err != nil {
			w.logf("flowc lsp: %s: %v", name, err)
			return nil
		}
		w.disk[name] = string(b)
		return nil
	})
	if err != nil {
		w.logf("flowc lsp: reading %s: %v", w.root, err)
	}
}

// emptyFS is the directory of a document outside the workspace: its
// applet files are not read.
type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("outside the workspace root: flowc lsp reads no file there")}
}

// analyse checks every .flow file of the workspace, open buffers taking
// the place of their files, as `flowc check ROOT` would with the files
// saved. Called with w.mu held.
func (w *workspace) analyse() *snapshot {
	if w.disk == nil {
		w.scan()
	}
	s := &snapshot{root: w.root, byPath: maps.Clone(w.byPath), gen: w.gen, byURI: map[string]*fileState{}, diags: map[string]diag.List{}, dirs: map[string]*dirInfo{}, bySource: map[*file.Source]*fileState{}}
	type input struct {
		uri, name, text string
		version         int
		open, tooBig    bool
		rel             string // "" outside the root
	}
	var inputs []input
	seen := map[string]bool{}
	for rel, text := range w.disk {
		uri := w.uriOfRel(rel)
		in := input{uri: uri, name: rel, text: text, version: -1, rel: rel, tooBig: text == "" && !w.fits(rel)}
		if d, ok := w.docs[uri]; ok {
			in.text, in.version, in.open, in.tooBig = d.text, d.version, true, len(d.text) > MaxFileBytes
		}
		seen[uri] = true
		inputs = append(inputs, in)
	}
	for uri, d := range w.docs {
		if seen[uri] || !d.flow {
			continue
		}
		p := pathOf(uri)
		rel := w.inRoot(p)
		name := rel
		if name == "" {
			name = p
			if name == "" {
				name = uri
			}
		}
		inputs = append(inputs, input{uri: uri, name: name, text: d.text, version: d.version, open: true, rel: rel, tooBig: len(d.text) > MaxFileBytes})
	}
	sort.Slice(inputs, func(i, j int) bool { return inputs[i].name < inputs[j].name })

	res := &lang.Result{}
	var files []*fileState
	var replyDiags diag.List // check.Replies, file by file (it looks at no other)
	keep := map[string]parsed{}
	s.versions = map[string]int{}
	for _, in := range inputs {
		if in.open {
			s.versions[in.uri] = in.version
		}
		if in.tooBig {
			src := file.NewSource(in.name, "")
			var l diag.List
			l.Errorf(src.Span(0, 0), CodeTooLarge, "the file is larger than %d bytes: flowc lsp does not check it", MaxFileBytes)
			s.diags[in.uri] = l
			continue
		}
		p, ok := w.parsed[in.uri]
		if !ok || p.text != in.text || p.f.Source.Name != in.name {
			src := file.NewSource(in.name, in.text)
			src.Dir = emptyFS{}
			if in.rel != "" {
				if sub, err := fs.Sub(w.rootFS, path.Dir(in.rel)); err == nil {
					src.Dir = sub
				}
			}
			f, d := syntax.Parse(src)
			p = parsed{text: in.text, f: f, diags: d, idx: BuildIndex(f)}
			p.replies, p.rdiags = check.Replies([]*syntax.File{f}, check.DefaultMaxSegments)
		}
		keep[in.uri] = p
		fsd := &fileState{uri: in.uri, name: in.name, version: in.version, open: in.open, src: p.f.Source, f: p.f, idx: p.idx}
		if in.rel != "" {
			fsd.dir = w.directory(s, path.Dir(in.rel))
		}
		files = append(files, fsd)
		res.Files = append(res.Files, p.f)
		res.Diags = append(res.Diags, p.diags...)
		s.replies = append(s.replies, p.replies...)
		replyDiags = append(replyDiags, p.rdiags...)
	}
	w.parsed = keep
	infos, cd := check.Files(res.Files)
	res.Infos = infos
	res.Diags = append(res.Diags, cd...)
	res.Diags.Sort()
	all := append(append(diag.List{}, res.Diags...), w.compile(res)...)
	all = append(all, replyDiags...)
	// Inbox targets against each directory.json, for the flows beside it.
	groups := map[*dirInfo][]*syntax.File{}
	for i, fsd := range files {
		fsd.info = infos[i]
		s.files = append(s.files, fsd)
		s.byURI[fsd.uri] = fsd
		s.bySource[fsd.src] = fsd
		if fsd.dir != nil && fsd.dir.d != nil {
			groups[fsd.dir] = append(groups[fsd.dir], fsd.f)
		}
	}
	for di, fs := range groups {
		all = append(all, check.Directory(fs, di.d)...)
	}
	all = append(all, numberMirrors(infos, all)...)
	all.Sort()
	for _, d := range all {
		if fsd := s.bySource[d.Span.Source]; fsd != nil {
			s.diags[fsd.uri] = append(s.diags[fsd.uri], d)
			continue
		}
		if d.Span.Source != nil {
			s.foreign(w, d)
		}
	}
	for _, di := range s.dirs {
		if di == nil || di.d != nil || di.text == "" {
			continue
		}
		_, err := directory.Parse(di.name, []byte(di.text))
		var de *directory.Error
		if errors.As(err, &de) {
			src := file.NewSource(di.name, di.text)
			var l diag.List
			l.Errorf(src.Span(de.Offset, min(de.Offset+1, len(di.text))), "flow/directory", "%s", de.Msg).Hint =
				"docs/server.md describes directory.json; inbox targets are not checked until it is fixed"
			s.diags[di.uri] = l
		}
	}
	return s
}

// foreign files a diagnostic about a file that is not a flow: an
// applet's JavaScript, which the compiler reports at its line in the .js
// file. It is published for that file, and repeated at the applet's
// declaration in each flow that declares it, where the author of the
// flow sees it.
func (s *snapshot) foreign(w *workspace, d diag.Diagnostic) {
	name := d.Span.Source.Name
	if w.root != "" && fs.ValidPath(name) {
		u := w.uriOfRel(name)
		s.diags[u] = append(s.diags[u], d)
	}
	for _, f := range s.files {
		for _, decl := range f.info.Applets {
			if decl.Path != name {
				continue
			}
			m := d
			m.Span = decl.Span
			m.Message = fmt.Sprintf("%s (%s)", d.Message, d.Span)
			m.Hint = ""
			m.Related = []diag.Related{{Span: d.Span, Message: "the JavaScript"}}
			s.diags[f.uri] = append(s.diags[f.uri], m)
		}
	}
}

// compile is compiler.All over res, with the diagnostics of files whose
// parse is unchanged taken from the last analysis: Compile depends only
// on the file and its check.Info, which depends only on the file. As in
// compiler.All, a file with errors from the earlier stages is not
// compiled.
func (w *workspace) compile(res *lang.Result) diag.List {
	var out diag.List
	keep := map[*syntax.File]diag.List{}
	for i, f := range res.Files {
		if hasErrorIn(res.Diags, f) {
			continue
		}
		d, ok := w.compiled[f]
		if !ok {
			_, d = compiler.Compile(f, res.Infos[i])
		}
		keep[f] = d
		out = append(out, d...)
	}
	w.compiled = keep
	return out
}

func hasErrorIn(l diag.List, f *syntax.File) bool {
	for _, d := range l {
		if d.Severity == diag.Error && d.Span.Source == f.Source {
			return true
		}
	}
	return false
}

// uriOfName is the URI of a source named as analyse names them: a slash
// path in the root, or an absolute path.
func (s *snapshot) uriOfName(name string) string {
	abs := name
	if !filepath.IsAbs(name) && s.root != "" {
		abs = filepath.Join(s.root, filepath.FromSlash(name))
	}
	if u, ok := s.byPath[abs]; ok {
		return u
	}
	return uriOf(abs)
}

// fits reports whether the file at rel on disk is within MaxFileBytes
// (scan stores "" for the ones that are not).
func (w *workspace) fits(rel string) bool {
	st, err := fs.Stat(w.rootFS, rel)
	return err == nil && st.Size() <= MaxFileBytes
}

// directory reads directory.json in the slash directory dir of the root,
// once per analysis. Nil when there is none.
func (w *workspace) directory(s *snapshot, dir string) *dirInfo {
	if di, ok := s.dirs[dir]; ok {
		return di
	}
	name := path.Join(dir, directory.FileName)
	var di *dirInfo
	if st, err := fs.Stat(w.rootFS, name); err == nil && st.Mode().IsRegular() {
		di = &dirInfo{uri: w.uriOfRel(name), name: name}
		if d, ok := w.docs[di.uri]; ok {
			di.text = d.text
		} else if st.Size() <= MaxDirectoryBytes {
			if b, err := fs.ReadFile(w.rootFS, name); err == nil {
				di.text = string(b)
			}
		}
		if len(di.text) <= MaxDirectoryBytes {
			if d, err := directory.Parse(name, []byte(di.text)); err == nil {
				di.d = d
			}
		}
	}
	s.dirs[dir] = di
	return di
}

// Positions. The protocol counts characters in UTF-16 code units; a
// file.Source counts bytes (offsets) and runes (columns).

// lspPos is the protocol position of byte offset off of src.
func lspPos(src *file.Source, off int) Position {
	off = max(0, min(off, len(src.Text)))
	line := src.Pos(off).Line
	start := src.Offset(line, 1)
	n := 0
	for _, r := range src.Text[start:off] {
		n += utf16.RuneLen(r)
		if r == utf8.RuneError {
			n = max(n, 1)
		}
	}
	return Position{Line: line - 1, Character: n}
}

func lspRange(sp file.Span) Range {
	if sp.Source == nil {
		return Range{}
	}
	return Range{Start: lspPos(sp.Source, sp.Start), End: lspPos(sp.Source, sp.End)}
}

// offsetOf is the byte offset of protocol position p in src, clamped to
// the text (a position past a line's end is its end, as the protocol
// says).
func offsetOf(src *file.Source, p Position) int {
	if p.Line < 0 {
		return 0
	}
	line := p.Line + 1
	if line > src.Lines() {
		return len(src.Text)
	}
	off := src.Offset(line, 1)
	end := src.LineEnd(line)
	for units := 0; off < end && units < p.Character; {
		r, n := utf8.DecodeRuneInString(src.Text[off:end])
		units += max(utf16.RuneLen(r), 1)
		off += n
	}
	return off
}

// applyChange applies one didChange content change to text.
func applyChange(text string, c contentChange) (string, error) {
	if c.Range == nil {
		return c.Text, nil
	}
	src := file.NewSource("", text)
	start, end := offsetOf(src, c.Range.Start), offsetOf(src, c.Range.End)
	if end < start {
		return "", fmt.Errorf("change range ends (%d:%d) before it starts (%d:%d)", c.Range.End.Line, c.Range.End.Character, c.Range.Start.Line, c.Range.Start.Character)
	}
	// src.Text has no byte order mark; put it back so offsets agree
	// with what the client holds.
	if src.HadBOM {
		start, end = start+len(file.BOM), end+len(file.BOM)
	}
	return text[:start] + c.Text + text[end:], nil
}

// numberMirrors report a number served by two flows in the first file
// too: check.Files reports it where it is declared again, but the author
// of either file must see it, whichever one is open.
func numberMirrors(infos []*check.Info, have diag.List) diag.List {
	type first struct {
		flow string
		span file.Span
	}
	firsts := map[string]first{}
	var out diag.List
	mirrored := map[file.Span]bool{}
	for _, d := range have {
		if d.Code == check.CodeNumber {
			mirrored[d.Span] = true
		}
	}
	for _, info := range infos {
		for _, n := range info.Numbers {
			f, ok := firsts[n.Value]
			if !ok {
				firsts[n.Value] = first{info.Name, n.Span}
				continue
			}
			if f.flow == info.Name || mirrored[f.span] {
				continue
			}
			out.Errorf(f.span, check.CodeNumber, "number %s is also served by flow %q (%s); a number has exactly one SMS flow", n.Value, info.Name, n.Span).Related =
				[]diag.Related{{Span: n.Span, Message: "also declared here"}}
			mirrored[f.span] = true
		}
	}
	return out
}
