package check

import (
	"fmt"
	"sort"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// DidYouMean sets d's hint to `did you mean "suggestion"?` and adds the
// fix that replaces name with it (see NameFix).
func DidYouMean(d *diag.Diagnostic, sp file.Span, name, suggestion string) {
	d.Hint = fmt.Sprintf("did you mean %q?", suggestion)
	d.Fixes = append(d.Fixes, NameFix(sp, name, suggestion)...)
}

// NameFix is the fix replacing the misspelt name at sp with suggestion,
// or nil when sp does not hold exactly name, alone or between quotes (as
// in hours("ofice"), where the fix replaces what is inside them). A fix
// must be certain: a span that holds more, or something else (a decoded
// string, an expression in a template), gets the hint alone.
func NameFix(sp file.Span, name, suggestion string) []diag.Fix {
	if !sp.IsValid() || name == "" || suggestion == "" || sp.Start < 0 || sp.End > len(sp.Source.Text) || sp.Start > sp.End {
		return nil
	}
	text := sp.Source.Text[sp.Start:sp.End]
	start := sp.Start
	if len(text) == len(name)+2 && (text[0] == '"' || text[0] == '\'' || text[0] == '`') && text[len(text)-1] == text[0] {
		text, start = text[1:len(text)-1], start+1
	}
	if text != name {
		return nil
	}
	return []diag.Fix{{
		Title: fmt.Sprintf("replace %q with %q", name, suggestion),
		Edits: []diag.Edit{{Span: sp.Source.Span(start, start+len(name)), New: suggestion}},
	}}
}

// Suggest returns the candidate closest to name by edit distance, or ""
// when none is close enough: two edits at most, and fewer edits than
// half of name's letters, so that "ab" does not become "ac" nor "x" "y".
// Swapping two neighbouring letters ("nmae") is one edit. It
// is the one "did you mean" of flowc: applets, declared JavaScript
// applets, schedules, sections, variables, message fields, teams and
// users are all suggested by it, each from its own set of candidates.
// candidates is not modified; ties go to the alphabetically first.
func Suggest(name string, candidates []string) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	limit := min(3, (len([]rune(name))+1)/2) // distances below it count
	best, bestD := "", limit
	for _, c := range sorted {
		if c == name {
			continue
		}
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the number of one-rune insertions, deletions,
// substitutions and swaps of neighbours that turn a into b (the optimal
// string alignment distance), in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := [3][]int{make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		before, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], before[j-2]+1)
			}
		}
		rows = [3][]int{prev, cur, before}
	}
	return rows[1][len(rb)]
}
