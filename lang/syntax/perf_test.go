package syntax

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/file"
)

// TestParsePathological: broken input costs a bounded number of
// re-parses. Each case used to re-parse once per line (blanking lexer
// errors one line at a time, closing open blocks one per re-parse),
// which took seconds; the work is counted, not timed, so the test means
// the same on a loaded machine.
func TestParsePathological(t *testing.T) {
	for _, c := range []struct {
		name, text string
		diags      int
		first      string
		maxParses  int
	}{
		{"4k lines with a bad character", strings.Repeat("reply !\n", 4000), maxErrors + 1, "unexpected character '!'", 0},
		{"3k blocks left open", "(\n\x00" + strings.Repeat("<", 3000), 3, "unclosed parenthesis", 0},
		{"90 statements left open", strings.Repeat("when x <\n", 90), maxErrors + 1, "block is never closed", 1},
		{"2k stray closers", strings.Repeat("reply >\n", 2000), maxErrors + 1, "there is no open block to close", maxErrors + 1},
		{"nested too deep", strings.Repeat("<", maxDepth+1) + strings.Repeat(">", maxDepth+1), 1, "blocks nested more than 100 deep", 0},
		{"nested 100 deep", strings.Repeat("<", maxDepth) + strings.Repeat(">", maxDepth), 0, "", 1},
	} {
		var work parseWork
		src := file.NewSource("x.flow", c.text)
		f, diags := parse(src, &work)
		if work.parses > c.maxParses {
			t.Errorf("%s: %d parses, want at most %d", c.name, work.parses, c.maxParses)
		}
		// Each parse reads at most the whole file's tokens (recovery only
		// blanks or closes), so the work is at most parses × tokens.
		if toks, _, _, _ := lex(src); work.tokens > work.parses*(len(toks)+maxDepth) {
			t.Errorf("%s: %d tokens parsed in %d parses of %d tokens", c.name, work.tokens, work.parses, len(toks))
		}
		if f == nil || len(diags) != c.diags {
			t.Errorf("%s: %d diagnostics, want %d", c.name, len(diags), c.diags)
		}
		if len(diags) > 0 && !strings.Contains(diags[0].Message, c.first) {
			t.Errorf("%s: first diagnostic %q, want %q", c.name, diags[0].Message, c.first)
		}
	}
}
