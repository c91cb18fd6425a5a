package lsp

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"reflect"
	"regexp"

	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/runtime"
)

func (s *Server) definition(params json.RawMessage) (any, error) {
	var p textDocumentPositionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	snap, f, off, err := s.at(p)
	if err != nil {
		return nil, err
	}
	r := refAt(f.idx, off)
	if r == nil {
		return nil, nil
	}
	switch r.Kind {
	case RefApplet:
		// An applet's definition is its JavaScript, not the header that
		// names it: that is where a reader wants to go.
		rel := appletFile(f, r.Name)
		if rel == "" || s.ws.rootFS == nil {
			return defsOf(f, r), nil
		}
		if st, err := fs.Stat(s.ws.rootFS, rel); err != nil || !st.Mode().IsRegular() {
			return defsOf(f, r), nil
		}
		return []Location{{URI: snap.uriOfName(rel)}}, nil
	case RefTeam, RefUser:
		if loc, ok := directoryLocation(f.dir, r.Kind, r.Name); ok {
			return []Location{loc}, nil
		}
		return nil, nil
	case RefCommand:
		return nil, nil
	}
	return defsOf(f, r), nil
}

// defsOf are the definitions in f of the name r refers to.
func defsOf(f *fileState, r *Ref) []Location {
	var out []Location
	for _, d := range f.idx.Refs {
		if d.Def && d.Kind == r.Kind && d.Name == r.Name {
			out = append(out, Location{URI: f.uri, Range: lspRange(d.Span)})
		}
	}
	return out
}

func (s *Server) references(params json.RawMessage) (any, error) {
	var p referenceParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	snap, f, off, err := s.at(p.textDocumentPositionParams)
	if err != nil {
		return nil, err
	}
	r := refAt(f.idx, off)
	if r == nil {
		return []Location{}, nil
	}
	out := []Location{}
	add := func(g *fileState) {
		for _, u := range g.idx.Refs {
			if u.Kind == r.Kind && u.Name == r.Name && (p.Context.IncludeDeclaration || !u.Def) {
				out = append(out, Location{URI: g.uri, Range: lspRange(u.Span)})
			}
		}
	}
	switch r.Kind {
	case RefTeam, RefUser:
		// Targets are the directory's: every flow checked against the
		// same directory.json refers to the same team.
		if p.Context.IncludeDeclaration {
			if loc, ok := directoryLocation(f.dir, r.Kind, r.Name); ok {
				out = append(out, loc)
			}
		}
		for _, g := range snap.files {
			if g.dir == f.dir {
				add(g)
			}
		}
	case RefCommand:
		for _, g := range snap.files {
			add(g)
		}
	default:
		// Sections, schedules, variables and applets belong to one file.
		add(f)
	}
	return out, nil
}

// directoryLocation finds the "name" of team or user name in
// directory.json, by walking its JSON tokens (so that a "name" of a
// contact or an e-mail text never matches).
func directoryLocation(di *dirInfo, kind RefKind, name string) (Location, bool) {
	if di == nil {
		return Location{}, false
	}
	want := "teams"
	if kind == RefUser {
		want = "users"
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(di.text)))
	// path tracks where the decoder is: the top-level key, the depth.
	depth, top, key := 0, "", ""
	expectKey := false
	stack := []bool{} // true for an object
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return Location{}, false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, true)
				depth++
				expectKey = true
			case '[':
				stack = append(stack, false)
				depth++
			case '}', ']':
				stack = stack[:len(stack)-1]
				depth--
				if depth == 1 && t == ']' {
					top = ""
				}
				expectKey = len(stack) > 0 && stack[len(stack)-1]
			}
			continue
		case string:
			inObject := len(stack) > 0 && stack[len(stack)-1]
			if inObject && expectKey {
				key = t
				if depth == 1 {
					top = t
				}
				expectKey = false
				continue
			}
			if depth == 3 && top == want && key == "name" && t == name {
				// The token ended at InputOffset; it began at the quote
				// after before's white space and colon.
				end := int(dec.InputOffset())
				start := int(before)
				for start < end && di.text[start] != '"' {
					start++
				}
				src := file.NewSource(di.name, di.text)
				return Location{URI: di.uri, Range: lspRange(src.Span(start+1, end-1))}, true
			}
		}
		if len(stack) > 0 && stack[len(stack)-1] {
			expectKey = true
		}
	}
}

func (s *Server) documentSymbols(params json.RawMessage) (any, error) {
	var p documentSymbolParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	snap := s.ws.current()
	f := snap.byURI[p.TextDocument.URI]
	if f == nil {
		return []documentSymbol{}, nil
	}
	var conv func([]Symbol) []documentSymbol
	conv = func(in []Symbol) []documentSymbol {
		out := []documentSymbol{}
		for _, sym := range in {
			out = append(out, documentSymbol{Name: sym.Name, Detail: sym.Detail, Kind: sym.Kind,
				Range: lspRange(sym.Span), SelectionRange: lspRange(sym.Sel), Children: conv(sym.Children)})
		}
		return out
	}
	return conv(f.idx.Symbols), nil
}

var (
	sectionName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*$`)
	variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// renameTarget is the section or variable under the cursor.
func (s *Server) renameTarget(p textDocumentPositionParams) (*fileState, *Ref, error) {
	_, f, off, err := s.at(p)
	if err != nil {
		return nil, nil, err
	}
	r := refAt(f.idx, off)
	if r == nil || (r.Kind != RefSection && r.Kind != RefVariable) {
		return nil, nil, rpcError(codeRequestFailed, "only sections and variables can be renamed; the cursor is on no section or variable name")
	}
	return f, r, nil
}

func (s *Server) prepareRename(params json.RawMessage) (any, error) {
	var p textDocumentPositionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	_, r, err := s.renameTarget(p)
	if err != nil {
		return nil, err
	}
	return prepareRenameResult{Range: lspRange(r.Span), Placeholder: r.Name}, nil
}

func (s *Server) rename(params json.RawMessage) (any, error) {
	var p renameParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	f, r, err := s.renameTarget(p.textDocumentPositionParams)
	if err != nil {
		return nil, err
	}
	if err := validName(r.Kind, p.NewName); err != nil {
		return nil, err
	}
	for _, u := range f.idx.Refs {
		if u.Kind == r.Kind && u.Name == p.NewName && u.Def {
			return nil, rpcError(codeRequestFailed, "a %s named %q already exists (line %d)", r.Kind, p.NewName, u.Span.StartPos().Line)
		}
	}
	var edits []textEdit
	for _, u := range f.idx.Refs {
		if u.Kind == r.Kind && u.Name == r.Name {
			edits = append(edits, textEdit{Range: lspRange(u.Span), NewText: p.NewName})
		}
	}
	return workspaceEdit{Changes: map[string][]textEdit{f.uri: edits}}, nil
}

func validName(k RefKind, name string) error {
	re := variableName
	if k == RefSection {
		re = sectionName
	}
	if !re.MatchString(name) {
		if k == RefSection {
			return rpcError(codeInvalidParams, "%q is not a section name: letters, digits and _, words joined by -", name)
		}
		return rpcError(codeInvalidParams, "%q is not a variable name: letters, digits and _, not starting with a digit", name)
	}
	if exprOperators[name] || isKeyword(name) {
		return rpcError(codeInvalidParams, "%q is a keyword of the language", name)
	}
	if k == RefVariable {
		for _, f := range structFields(reflect.TypeOf(runtime.Env{})) {
			if f.Label == name {
				return rpcError(codeInvalidParams, "%q is a field of the message: a variable of that name could not be read", name)
			}
		}
	}
	return nil
}

func isKeyword(s string) bool {
	switch s {
	case "when", "else", "then", "set", "section", "flow", "numbers", "timezone", "schedule", "holidays", "applet", "help", "hosts", "channel":
		return true
	}
	return false
}
