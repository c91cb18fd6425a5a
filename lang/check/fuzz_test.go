package check_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
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

// FuzzFixes: every fix a diagnostic carries (parser's and check's) has
// edits inside the text on character boundaries, applying them keeps
// UTF-8 text UTF-8, and the fixed text parses and checks without a
// panic, as `flowc check --fix` does it.
//
//	go test ./lang/check -run '^$' -fuzz FuzzFixes -fuzztime 2m
func FuzzFixes(f *testing.F) {
	for _, pat := range []string{"../../examples/*.flow", "testdata/*.flow", "testdata/corpus/broken/*.flow", "../syntax/testdata/*.flow"} {
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
		pf, pd := syntax.ParseString(filepath.Join("testdata", "fuzz.flow"), text)
		_, cd := check.Files([]*syntax.File{pf})
		var fixes []diag.Fix
		for _, d := range append(pd, cd...) {
			for _, fx := range d.Fixes {
				for _, e := range fx.Edits {
					if e.Span.Start < 0 || e.Span.Start > e.Span.End || e.Span.End > len(text) {
						t.Fatalf("fix %q: edit [%d,%d) outside the text (%d bytes): %v", fx.Title, e.Span.Start, e.Span.End, len(text), d)
					}
					if utf8.ValidString(text) && (!utf8.RuneStart(at(text, e.Span.Start)) || !utf8.RuneStart(at(text, e.Span.End))) {
						t.Fatalf("fix %q: edit [%d,%d) splits a character: %v", fx.Title, e.Span.Start, e.Span.End, d)
					}
				}
				fixes = append(fixes, fx)
			}
		}
		fixed, err := diag.ApplyFixes(text, fixes)
		var skipped *diag.SkippedError
		if err != nil && !errors.As(err, &skipped) {
			t.Fatalf("ApplyFixes: %v", err)
		}
		if utf8.ValidString(text) && !utf8.ValidString(fixed) {
			t.Fatalf("fixed text is not UTF-8: %q", fixed)
		}
		g, _ := syntax.ParseString(filepath.Join("testdata", "fuzz.flow"), fixed)
		check.Files([]*syntax.File{g})
	})
}

// at is text[i], or a character start at the end of the text.
func at(text string, i int) byte {
	if i >= len(text) {
		return 'x'
	}
	return text[i]
}
