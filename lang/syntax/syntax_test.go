package syntax_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/diag/diagtest"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// TestParseErrors parses every testdata/*.flow file and compares the
// syntax errors with the `###` expectations written in it (see package
// diagtest).
func TestParseErrors(t *testing.T) {
	names, err := filepath.Glob("testdata/*.flow")
	if err != nil || len(names) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src := readSource(t, name)
			exps, err := diagtest.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := syntax.Parse(src)
			diagtest.Compare(t, exps, diags)
		})
	}
}

func readSource(t testing.TB, name string) *file.Source {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return file.NewSource(name, string(b))
}

// cardLine is the one-line flow of issue #2's card, its `...` filled.
const cardLine = `when hours("9-5") < menu "Reply 1 or 2" < 1 -> inbox team:sales ; 2 -> inbox team:support ; timeout 10m -> inbox team:sales ; else -> retry 2 > > else reply "We're closed." then inbox team:sales`

// TestCardLine: the card's line parses clean, its else binds the whole
// chain (reply and inbox), and the menu has its four branches.
func TestCardLine(t *testing.T) {
	f, diags := syntax.ParseString("card.flow", cardLine+"\n")
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	if len(f.Items) != 1 || f.Items[0].Chain == nil || len(f.Items[0].Chain.Steps) != 1 {
		t.Fatalf("want one statement, got:\n%s", syntax.Dump(f))
	}
	w := f.Items[0].Chain.Steps[0].When
	if w == nil {
		t.Fatalf("want a when, got:\n%s", syntax.Dump(f))
	}
	if w.Cond.Text != `hours("9-5")` {
		t.Errorf("condition = %q", w.Cond.Text)
	}
	if w.Else == nil || len(w.Else.Steps) != 2 {
		t.Fatalf("else chain: want 2 steps (reply, inbox), got:\n%s", syntax.Dump(f))
	}
	if r, i := w.Else.Steps[0].Cmd, w.Else.Steps[1].Cmd; r == nil || r.Name.Value != "reply" || i == nil || i.Name.Value != "inbox" {
		t.Errorf("else chain is not reply then inbox:\n%s", syntax.Dump(f))
	}
	if len(w.Then.Items) != 1 || w.Then.Items[0].Chain == nil {
		t.Fatalf("then block: want one statement:\n%s", syntax.Dump(f))
	}
	menu := w.Then.Items[0].Chain.Steps[0].Cmd
	if menu == nil || menu.Name.Value != "menu" || menu.Block == nil {
		t.Fatalf("want a menu with a block:\n%s", syntax.Dump(f))
	}
	var labels []string
	for _, it := range menu.Block.Items {
		if it.Branch == nil {
			t.Fatalf("menu block item is not a branch:\n%s", syntax.Dump(f))
		}
		labels = append(labels, it.Branch.Label.String())
	}
	if got := strings.Join(labels, ","); got != "1,2,timeout 10m,else" {
		t.Errorf("menu labels = %s", got)
	}
	// Formatted, it is the multi-line form of the same statement.
	out := syntax.Format(f)
	g, d := syntax.ParseString("card.flow", string(out))
	if len(d) != 0 || syntax.Dump(g) != syntax.Dump(f) {
		t.Errorf("formatted card line changed meaning (%v):\n%s", d, out)
	}
}
