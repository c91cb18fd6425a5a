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
	if len(f.Stmts) != 1 {
		t.Fatalf("want one statement, got:\n%s", syntax.Dump(f))
	}
	ch, ok := f.Stmts[0].(*syntax.Chain)
	if !ok || len(ch.Steps) != 1 {
		t.Fatalf("want one chain of one step, got:\n%s", syntax.Dump(f))
	}
	w, ok := ch.Steps[0].(*syntax.When)
	if !ok {
		t.Fatalf("want a when, got:\n%s", syntax.Dump(f))
	}
	if w.Cond.Text != `hours("9-5")` {
		t.Errorf("condition = %q", w.Cond.Text)
	}
	if w.Else == nil || len(w.Else.Steps) != 2 {
		t.Fatalf("else chain: want 2 steps (reply, inbox), got:\n%s", syntax.Dump(f))
	}
	r, rok := w.Else.Steps[0].(*syntax.Command)
	i, iok := w.Else.Steps[1].(*syntax.Command)
	if !rok || r.Name.Value != "reply" || !iok || i.Name.Value != "inbox" {
		t.Errorf("else chain is not reply then inbox:\n%s", syntax.Dump(f))
	}
	if len(w.Then.Stmts) != 1 {
		t.Fatalf("then block: want one statement:\n%s", syntax.Dump(f))
	}
	inner, ok := w.Then.Stmts[0].(*syntax.Chain)
	if !ok {
		t.Fatalf("then block: want a chain:\n%s", syntax.Dump(f))
	}
	menu, ok := inner.Steps[0].(*syntax.Command)
	if !ok || menu.Name.Value != "menu" || menu.Block == nil {
		t.Fatalf("want a menu with a block:\n%s", syntax.Dump(f))
	}
	var labels []string
	for _, it := range menu.Block.Stmts {
		br, ok := it.(*syntax.Branch)
		if !ok {
			t.Fatalf("menu block item is not a branch:\n%s", syntax.Dump(f))
		}
		labels = append(labels, br.Label.String())
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

// TestComments: each statement carries the comments written above it and
// at the end of its line, inner statements included.
func TestComments(t *testing.T) {
	f, diags := syntax.ParseString("c.flow", `# the flow
flow c
numbers "+15550100"  # the line
# before the menu
menu "1 or 2" <
  # before one
  1 -> inbox team:a  # one's
  2 -> inbox team:b
  # after the branches
>
`)
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	got := map[string]string{}
	syntax.WalkFile(f, func(n syntax.Node) bool {
		if c := n.Comments(); c != nil {
			var what string
			switch n := n.(type) {
			case *syntax.Header:
				what = n.Keyword
			case *syntax.Chain:
				what = n.Steps[0].(*syntax.Command).Name.Value
			case *syntax.Branch:
				what = n.Label.String()
			case *syntax.Block:
				what = "menu block"
			}
			for _, b := range c.Before {
				got[what] += "before:" + b.Text + ";"
			}
			for _, s := range c.Suffix {
				got[what] += "suffix:" + s.Text + ";"
			}
			for _, a := range c.After {
				got[what] += "after:" + a.Text + ";"
			}
		}
		return true
	})
	want := map[string]string{
		"flow":       "before:# the flow;",
		"numbers":    "suffix:# the line;",
		"menu":       "before:# before the menu;",
		"1":          "before:# before one;suffix:# one's;",
		"menu block": "after:# after the branches;",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: comments %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("comments attached to %v, want only %v", got, want)
	}
}
