package syntax_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/syntax"
)

var update = flag.Bool("update", false, "rewrite testdata/format/*.golden from the formatter's output")

// TestFormatGolden formats every testdata/format/*.input and compares the
// result with the .golden file beside it. The golden file must be a fixed
// point (formatting it again changes nothing), must parse to the same
// statements as the input, and must keep every comment of the input.
func TestFormatGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/format/*.input")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src := readSource(t, in)
			f, diags := syntax.Parse(src)
			if len(diags) != 0 {
				t.Fatalf("input does not parse: %v", diags)
			}
			got := syntax.Format(f)
			goldenName := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				if err := os.WriteFile(goldenName, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(goldenName)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Format(%s) differs from %s (run go test -update):\n--- got\n%s\n--- want\n%s", in, goldenName, got, want)
			}
			g, diags := syntax.ParseString(goldenName, string(want))
			if len(diags) != 0 {
				t.Fatalf("golden does not parse: %v", diags)
			}
			if syntax.Dump(g) != syntax.Dump(f) {
				t.Errorf("golden parses to different statements:\n--- input\n%s\n--- golden\n%s", syntax.Dump(f), syntax.Dump(g))
			}
			if again := syntax.Format(g); !bytes.Equal(again, want) {
				t.Errorf("Format is not idempotent on %s:\n%s", goldenName, again)
			}
			for _, c := range f.Comments {
				if !strings.Contains(string(want), c.Text) {
					t.Errorf("comment %q lost", c.Text)
				}
			}
			if len(g.Comments) == 0 && len(f.Comments) != 0 {
				t.Errorf("golden has no comments")
			}
		})
	}
}

// examples returns the .flow files of the repository's examples/.
func examples(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.flow"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	return names
}

// TestExamplesFormatted: every example is already in canonical form, so
// formatting it changes nothing (and formatting is idempotent on it).
func TestExamplesFormatted(t *testing.T) {
	for _, name := range examples(t) {
		src := readSource(t, name)
		f, diags := syntax.Parse(src)
		if len(diags) != 0 {
			t.Errorf("%s: %v", name, diags)
			continue
		}
		out := syntax.Format(f)
		if string(out) != src.Text {
			t.Errorf("%s is not formatted; flowc fmt gives:\n%s", name, out)
		}
		g, _ := syntax.ParseString(name, string(out))
		if again := syntax.Format(g); !bytes.Equal(again, out) {
			t.Errorf("%s: Format is not idempotent:\n%s", name, again)
		}
	}
}
