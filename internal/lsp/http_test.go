package lsp

import (
	"testing"

	"github.com/flowc-dev/flowc/lang/syntax"
)

// An http step's json body reads a variable: renaming or finding the
// references of the variable includes it.
func TestHTTPBodyIsAVariableRead(t *testing.T) {
	f, _ := syntax.ParseString("f.flow", `numbers "+15550100"
hosts "crm.example.com"
set lead = {phone: from}
http POST "https://crm.example.com/x" json lead as r
http POST "https://crm.example.com/y" form contact
`)
	x := BuildIndex(f)
	var uses []string
	for _, r := range x.Refs {
		if r.Kind == RefVariable && !r.Def {
			uses = append(uses, r.Name+"@"+r.Span.StartPos().String())
		}
	}
	if len(uses) != 1 || uses[0] != "lead@4:44" {
		t.Fatalf("variable reads: %q, want lead at 4:44", uses)
	}
}
