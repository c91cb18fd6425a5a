package scenario

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseScenario: any .flowtest text parses to tests or to an error
// naming its line; it never panics or hangs.
func FuzzParseScenario(f *testing.F) {
	files, _ := filepath.Glob("../../examples/*.flowtest")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	if len(files) == 0 {
		f.Fatal("no .flowtest examples")
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Parse("../../examples/fuzz.flowtest", src)
		if e, ok := err.(*Error); ok && e.Pos.Line <= 0 {
			t.Fatalf("error without a line: %v", err)
		}
	})
}
