package lsp

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestChangesAgainstTheExpressionCache: with compiled expressions kept
// across changes (CompiledExprs), every version's diagnostics are what
// a fresh check gives: an expression that is unchanged while the flow's
// variables change is compiled again (total is a variable, then not,
// then is), and a change to one expression is seen.
func TestChangesAgainstTheExpressionCache(t *testing.T) {
	flow := func(set, cond string) string {
		return fmt.Sprintf(`flow c
numbers "+15550100"
timezone "UTC"
%s
when %s <
  reply "Many."
> else reply "Few."
inbox team:sales
`, set, cond)
	}
	versions := []struct {
		text      string
		wantError string // a part of the one error expected; "" for none
	}{
		{flow("", "total > 1"), "total"},
		{flow(`set total = len(body)`, "total > 1"), ""},
		{flow("", "total > 1"), "total"},
		{flow(`set total = len(body)`, "total > 1"), ""},
		{flow(`set total = len(body)`, `len(body) > "1"`), "between a number and a string"},
		{flow(`set total = len(body)`, "total > 1"), ""},
	}
	root := t.TempDir()
	c := startServer(t, Options{Debounce: 1})
	uri := uriOf(filepath.Join(root, "c.flow"))
	c.mustCall("initialize", initializeParams{RootURI: uriOf(root)}, nil)
	for i, v := range versions {
		if i == 0 {
			c.open(uri, v.text)
		} else {
			c.replaceAll(uri, i+1, v.text)
		}
		var errs []string
		for _, d := range c.waitDiags(uri, i+1) {
			if d.Severity == 1 {
				errs = append(errs, d.Message)
			}
		}
		switch {
		case v.wantError == "" && len(errs) > 0:
			t.Errorf("version %d: errors %q, want none", i+1, errs)
		case v.wantError != "" && (len(errs) != 1 || !strings.Contains(errs[0], v.wantError)):
			t.Errorf("version %d: errors %q, want one about %q", i+1, errs, v.wantError)
		}
	}
}
