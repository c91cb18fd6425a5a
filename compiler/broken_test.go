package compiler_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/file"
)

// TestBrokenFiles: every broken test file of the front end (syntax errors
// of every kind the parser recovers from) goes through the compiler's
// checks without a panic, and gives no program.
func TestBrokenFiles(t *testing.T) {
	var names []string
	for _, pat := range []string{"../lang/syntax/testdata/*.flow", "../lang/check/testdata/*.flow"} {
		m, _ := filepath.Glob(pat)
		names = append(names, m...)
	}
	if len(names) < 10 {
		t.Fatalf("only %d files", len(names))
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		res := lang.CheckSources([]*file.Source{file.NewSource(name, string(b))})
		progs, _ := compiler.All(res)
		if res.Diags.HasErrors() && len(progs) != 0 {
			t.Errorf("%s: has errors, but compiled to a program", name)
		}
	}
}
