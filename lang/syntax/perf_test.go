package syntax

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax/syntaxtest"
)

// TestParsePathological: broken input costs work linear in its size. The
// work is the tokens given to participle, counted, not timed, so the test
// means the same on a loaded machine.
func TestParsePathological(t *testing.T) {
	for _, c := range []struct {
		name, text string
		diags      int
		first      string
	}{
		{"4k lines with a bad character", strings.Repeat("reply !\n", 4000), maxErrors + 1, "unexpected character '!'"},
		{"3k blocks left open", "(\n\x00" + strings.Repeat("<", 3000), 3, "unclosed parenthesis"},
		{"90 statements left open", strings.Repeat("when x <\n", 90), maxErrors + 1, "block is never closed"},
		{"2k stray closers", strings.Repeat("reply >\n", 2000), maxErrors + 1, "there is no open block to close"},
		{"nested too deep", strings.Repeat("<", maxDepth+1) + strings.Repeat(">", maxDepth+1), 1, "blocks nested more than 100 deep"},
		{"nested 100 deep", strings.Repeat("<", maxDepth) + strings.Repeat(">", maxDepth), 0, ""},
		// Every line left unfinished: the whole file is one statement, and
		// each mistake leaves the rest of it to parse again.
		// (The budget for parsing again runs out: given up on early.)
		{"4k branches without a body", "menu <\n" + strings.Repeat("1 ->\n", 4000) + ">\n", -1, `missing a statement after "->"`},
		{"4k headers left unfinished", strings.Repeat("schedule x =\n", 4000), -1, `missing a string after "="`},
		{"4k bad lines in one block", "section a <\n" + strings.Repeat("1 2 3\n", 4000) + ">\n", maxErrors + 1, "unexpected number"},
	} {
		var work parseWork
		src := file.NewSource("x.flow", c.text)
		f, diags := parse(src, &work)
		toks, _, _, _ := lex(src)
		if limit := (reparseBudget+1)*len(toks) + 64; work.tokens > limit {
			t.Errorf("%s: %d tokens parsed for %d in the file, want at most %d", c.name, work.tokens, len(toks), limit)
		}
		if c.diags < 0 {
			if len(diags) == 0 || len(diags) > maxErrors+1 || diags[len(diags)-1].Message != "too many errors; giving up" {
				t.Errorf("%s: want at most %d diagnostics, giving up, got %v", c.name, maxErrors+1, diags)
			}
		} else if f == nil || len(diags) != c.diags {
			t.Errorf("%s: %d diagnostics, want %d: %v", c.name, len(diags), c.diags, diags)
		}
		if len(diags) > 0 && !strings.Contains(diags[0].Message, c.first) {
			t.Errorf("%s: first diagnostic %q, want %q", c.name, diags[0].Message, c.first)
		}
	}
}

// TestParseWorkLinear: on realistic files every token is given to
// participle once (plus one end of line per line), however many
// mistakes the file has, and twice the file is twice the work.
func TestParseWorkLinear(t *testing.T) {
	work := func(lines, mistakes int) (parseWork, int) {
		t.Helper()
		var w parseWork
		src := file.NewSource("gen.flow", syntaxtest.Flow(lines, mistakes))
		_, diags := parse(src, &w)
		if len(diags) != mistakes {
			t.Fatalf("%d lines, %d mistakes: %d diagnostics: %v", lines, mistakes, len(diags), diags)
		}
		toks, _, _, _ := lex(src)
		return w, len(toks)
	}
	clean, n := work(4000, 0)
	if clean.tokens > n+strings.Count(syntaxtest.Flow(4000, 0), "\n") {
		t.Errorf("clean file: %d tokens parsed for %d in the file", clean.tokens, n)
	}
	for _, m := range []int{5, 40} {
		w, _ := work(4000, m)
		t.Logf("%d mistakes: %d tokens given to participle in %d parses; clean file %d in %d", m, w.tokens, w.parses, clean.tokens, clean.parses)
		// A mistake costs at most the rest of its line again.
		if w.tokens > clean.tokens+m*64 {
			t.Errorf("%d mistakes: %d tokens parsed, the clean file %d", m, w.tokens, clean.tokens)
		}
	}
	half, _ := work(2000, 40)
	full, _ := work(4000, 40)
	if full.tokens > 2*half.tokens+200 || full.tokens < 2*half.tokens-200 {
		t.Errorf("40 mistakes: %d tokens for 2,000 lines, %d for 4,000", half.tokens, full.tokens)
	}
}
