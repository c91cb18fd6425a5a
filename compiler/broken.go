package compiler

import (
	"regexp"
	"strings"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// fileErrors reports whether l has errors in f, and whether they are all
// syntax errors (the parser's, which leave the rest of the file parsed:
// the compiler can still say something about it), not check's (after
// which the compiler's assumptions about arguments do not hold).
func fileErrors(l diag.List, f *syntax.File) (errs, syntaxOnly bool) {
	syntaxOnly = true
	for _, d := range l {
		if d.Severity == diag.Error && d.Span.Source == f.Source {
			errs = true
			syntaxOnly = syntaxOnly && syntaxCodes[d.Code]
		}
	}
	return errs, syntaxOnly
}

var syntaxCodes = map[string]bool{"flow/parse": true, "flow/encoding": true}

// quotedName is a name a diagnostic's message is about: quoted, or the
// expression checker's `unknown name X`.
var quotedName = regexp.MustCompile(`"([A-Za-z_][A-Za-z0-9_.-]*)"|unknown name ([A-Za-z_][A-Za-z0-9_]*)`)

// meaningful keeps, of the compiler's diagnostics about a file with
// syntax errors, those the lines the parser gave up on cannot have
// caused: errors only (a warning that a variable is never read may be
// wrong when the line reading it is lost), and none naming something
// written on such a line (a variable set or a section declared there).
func meaningful(f *syntax.File, d diag.List) diag.List {
	lost := map[string]bool{}
	syntax.WalkFile(f, func(n syntax.Node) bool {
		if b, ok := n.(*syntax.BadStep); ok {
			for _, w := range strings.FieldsFunc(b.Text, func(r rune) bool {
				return !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
			}) {
				lost[w] = true
				for _, part := range strings.Split(w, ".") {
					lost[part] = true
				}
			}
		}
		return true
	})
	var out diag.List
next:
	for _, x := range d {
		if x.Severity != diag.Error {
			continue
		}
		for _, m := range quotedName.FindAllStringSubmatch(x.Message, -1) {
			if lost[m[1]] || lost[m[2]] {
				continue next
			}
		}
		out = append(out, x)
	}
	return out
}
