package syntax

import (
	"strings"
	"testing"
	"time"
)

// TestParsePathological: broken input costs at most a bounded number of
// re-parses. Each case took seconds before (blanking lexer errors one
// line at a time, closing open blocks one per re-parse) and takes
// milliseconds now; the limit is generous for a loaded machine.
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
	} {
		start := time.Now()
		f, diags := ParseString("x.flow", c.text)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: took %v", c.name, d)
		}
		if f == nil || len(diags) != c.diags {
			t.Errorf("%s: %d diagnostics, want %d", c.name, len(diags), c.diags)
		}
		if len(diags) > 0 && !strings.Contains(diags[0].Message, c.first) {
			t.Errorf("%s: first diagnostic %q, want %q", c.name, diags[0].Message, c.first)
		}
	}
}
