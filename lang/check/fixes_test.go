package check_test

import (
	"testing"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// TestCheckFixes: the fixes check attaches turn the mistake into what was
// meant, and the result checks clean.
func TestCheckFixes(t *testing.T) {
	const head = "flow f\nnumbers \"+15550100\"\napplet lookup = \"lookup.js\"\n"
	for _, c := range []struct{ in, want string }{
		{`ask "Name?" as name < timeout 2hrs -> reply "slow" >`, `ask "Name?" as name < timeout 2h -> reply "slow" >`},
		{`menu "1" < 1 -> inbox team:a ; timeout 10mins -> inbox team:a >`, `menu "1" < 1 -> inbox team:a ; timeout 10m -> inbox team:a >`},
		{`run lookup(from) as c < on eror -> inbox team:a >`, `run lookup(from) as c < on error -> inbox team:a >`},
		{`reply "Thanks!" inbox team:a`, `reply "Thanks!" then inbox team:a`},
	} {
		text := head + c.in + "\n"
		f, _ := syntax.ParseString("testdata/fix.flow", text)
		_, diags := check.Files([]*syntax.File{f})
		got := text
		n := 0
		for i := len(diags) - 1; i >= 0; i-- {
			for _, fx := range diags[i].Fixes {
				for _, e := range fx.Edits {
					got = got[:e.Span.Start] + e.New + got[e.Span.End:]
					n++
				}
			}
		}
		if n != 1 || got != head+c.want+"\n" {
			t.Errorf("%s: %d edits, fixed to\n%s", c.in, n, got[len(head):])
			continue
		}
		f, _ = syntax.ParseString("testdata/fix.flow", got)
		if _, d := check.Files([]*syntax.File{f}); d.HasErrors() {
			t.Errorf("%s fixed still has %v", c.in, d)
		}
	}
}
