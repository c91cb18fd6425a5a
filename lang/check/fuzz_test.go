package check_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// FuzzCheck: checking whatever Parse returns never panics and reports
// spans inside the text.
//
//	go test ./lang/check -run '^$' -fuzz FuzzCheck -fuzztime 2m
func FuzzCheck(f *testing.F) {
	for _, pat := range []string{"../../examples/*.flow", "testdata/*.flow", "testdata/*/*.flow", "../syntax/testdata/*.flow"} {
		names, _ := filepath.Glob(pat)
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		pf, _ := syntax.ParseString(filepath.Join("testdata", "fuzz.flow"), text)
		_, diags := check.Files([]*syntax.File{pf})
		for _, d := range diags {
			if d.Span.Source != nil && (d.Span.Start < 0 || d.Span.Start > d.Span.End || d.Span.End > len(text)) {
				t.Fatalf("span [%d,%d) outside the text (%d bytes): %v", d.Span.Start, d.Span.End, len(text), d)
			}
		}
	})
}
