package check_test

import (
	"reflect"
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

// TestCallArgs: a call's arguments are split at top-level commas only,
// each at the offset of its text.
func TestCallArgs(t *testing.T) {
	text := `run lookup( from, "a,b" , f(1, [2,3]) ,) as c` + "\n"
	f, diags := syntax.ParseString("c.flow", text)
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	call := f.Stmts[0].(*syntax.Chain).Steps[0].(*syntax.Command).Args[0]
	var got []string
	for _, a := range check.CallArgs(call) {
		if text[a.Offset:a.Offset+len(a.Text)] != a.Text {
			t.Errorf("%q is not at offset %d", a.Text, a.Offset)
		}
		got = append(got, a.Text)
	}
	if want := []string{"from", `"a,b"`, "f(1, [2,3])"}; !reflect.DeepEqual(got, want) {
		t.Errorf("args %q, want %q", got, want)
	}
}
