package syntax

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
)

// parser4 is the parser as it was built before the switch to one token
// of lookahead; FuzzParse checks that both agree on every valid input.
var parser4 = participle.MustBuild[gFile](participle.Lexer(definition{}), participle.UseLookahead(4))

// FuzzParse: Parse always returns, never panics, and reports spans inside
// the text. For any input that parses without errors, the formatted text
// parses without errors to the same statements (Dump), formatting is
// idempotent, and a parser with more lookahead agrees.
//
//	go test ./lang/syntax -run '^$' -fuzz FuzzParse -fuzztime 5m
//
// Seeds: examples/*.flow and every .flow test file of lang/syntax and
// lang/check, plus testdata/fuzz/FuzzParse (crashers found so far).
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pat := range []string{
		"../../examples/*.flow",
		"testdata/*.flow",
		"testdata/format/*.input",
		"../check/testdata/*.flow",
		"../check/testdata/*/*.flow",
	} {
		names, err := filepath.Glob(pat)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, names...)
	}
	if len(seeds) < 10 {
		f.Fatalf("only %d seed files", len(seeds))
	}
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		pf, diags := ParseString("fuzz.flow", text)
		if pf == nil || pf.Source == nil {
			t.Fatal("Parse returned no file")
		}
		for _, d := range diags {
			if d.Span.Start < 0 || d.Span.Start > d.Span.End || d.Span.End > len(text) {
				t.Fatalf("diagnostic span [%d,%d) outside the text (%d bytes): %v", d.Span.Start, d.Span.End, len(text), d)
			}
		}
		if len(diags) != 0 {
			return
		}
		dump := Dump(pf)
		if toks, _, lexDiags, _ := lex(pf.Source); len(lexDiags) == 0 {
			// The whole file given to participle at once, as before local
			// recovery, means the same as the file parsed line by line.
			if g, err := parseTokensWith(parser4, pf.Source, toks); err != nil {
				t.Fatalf("lookahead 4 rejects what lookahead 1 accepts: %v", err)
			} else if gd := Dump(&File{Stmts: convertItems(g.Items)}); gd != dump {
				t.Fatalf("lookahead 4 parses differently:\n%s\nvs\n%s", gd, dump)
			}
		}
		out := Format(pf)
		if utf8.ValidString(text) && !utf8.Valid(out) {
			t.Fatalf("Format produced invalid UTF-8 from valid input")
		}
		g, d2 := ParseString("formatted.flow", string(out))
		if len(d2) != 0 {
			t.Fatalf("formatted output does not parse: %v\n--- input\n%s\n--- formatted\n%s", d2, text, out)
		}
		if Dump(g) != dump {
			t.Fatalf("formatting changed the statements:\n--- input\n%s\n--- formatted\n%s\n--- dump before\n%s\n--- dump after\n%s", text, out, dump, Dump(g))
		}
		if again := Format(g); string(again) != string(out) {
			t.Fatalf("Format is not idempotent:\n--- input\n%q\n--- once\n%q\n--- twice\n%q", text, out, again)
		}
	})
}
