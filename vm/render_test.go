package vm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/vm"
)

// TestTemplatesOfEveryLength: a reply's template renders to its parts
// joined, whatever its number of parts (up to four are joined by
// concatenation, longer ones by a builder), and a part whose expression
// fails is left out of the text, with the error reported at it.
func TestTemplatesOfEveryLength(t *testing.T) {
	for n := 1; n <= 9; n++ {
		for _, failing := range []int{-1, 0, n - 1, n / 2} {
			var tmpl, want strings.Builder
			for i := range n {
				switch {
				case i == failing:
					tmpl.WriteString("{{int(body)}}")
				case i%2 == 0:
					fmt.Fprintf(&tmpl, "L%d ", i)
					fmt.Fprintf(&want, "L%d ", i)
				default:
					tmpl.WriteString("{{body}}")
					want.WriteString("abc")
				}
			}
			p := compileFlow(t, "flow f\nnumbers \"+15550100\"\nreply \""+tmpl.String()+"\"\n")
			res := send(t, p, returning(nil), vm.Options{}, "abc")
			if got := actions(res)[0]; got != fmt.Sprintf("reply %q", want.String()) {
				t.Errorf("%d parts, part %d failing (%s): %s, want reply %q", n, failing, tmpl.String(), got, want.String())
			}
			if wantErrs := map[bool]int{true: 1, false: 0}[failing >= 0]; len(res.Errors) != wantErrs {
				t.Errorf("%d parts, part %d failing: errors %q", n, failing, res.Errors)
			}
		}
	}
}
