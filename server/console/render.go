package console

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"sync"

	graphviz "github.com/goccy/go-graphviz"

	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/vm/flowgraph"
)

// renderer draws flows to SVG with Graphviz compiled to WebAssembly
// (github.com/goccy/go-graphviz, run by wazero: pure Go, no cgo, no
// `dot` on the machine). One Graphviz instance, started at the first
// drawing, draws one graph at a time (it is not safe for concurrent
// use); versions are immutable, so a drawing is kept per version.
type renderer struct {
	mu    sync.Mutex
	gv    *graphviz.Graphviz
	cache map[string]template.HTML
}

// maxCachedGraphs bounds the drawings kept.
const maxCachedGraphs = 128

func newRenderer() *renderer { return &renderer{cache: map[string]template.HTML{}} }

// svgProlog is what precedes <svg in Graphviz's output (an XML
// declaration, a DOCTYPE, comments), dropped for inline SVG.
var svgProlog = regexp.MustCompile(`(?s)^.*?(<svg\b)`)

// svg draws g (of program version) as inline SVG, each node linking to
// its line of the source listing (#L12).
func (rd *renderer) svg(ctx context.Context, version string, g *flowgraph.Graph) (template.HTML, error) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if s, ok := rd.cache[version]; ok && version != "" {
		return s, nil
	}
	if rd.gv == nil {
		gv, err := graphviz.New(ctx)
		if err != nil {
			return "", fmt.Errorf("graphviz: %w", err)
		}
		rd.gv = gv
	}
	var dot bytes.Buffer
	g.WriteDot(&dot, flowgraph.DotOptions{Link: func(line int) string { return fmt.Sprintf("#L%d", line) }})
	gr, err := graphviz.ParseBytes(dot.Bytes())
	if err != nil {
		return "", fmt.Errorf("graphviz: parse: %w", err)
	}
	defer gr.Close()
	var out bytes.Buffer
	if err := rd.gv.Render(ctx, gr, graphviz.SVG, &out); err != nil {
		return "", fmt.Errorf("graphviz: render: %w", err)
	}
	// Graphviz escapes the labels it writes (text and titles); the SVG is
	// its own output, so it goes into the page as it is.
	s := template.HTML(svgProlog.ReplaceAllString(out.String(), `<svg role="img" aria-labelledby="graph-title"`))
	if len(rd.cache) >= maxCachedGraphs {
		clear(rd.cache)
	}
	if version != "" {
		rd.cache[version] = s
	}
	return s, nil
}

// srcLine is one line of a highlighted listing.
type srcLine struct {
	N     int
	Parts []srcPart
	Diag  string // "error" or "warning" when a diagnostic starts on it
}

type srcPart struct {
	Class string // "" for plain text
	Text  string
}

// highlight splits source into lines of classed parts, with the lexer's
// token classes (lang/syntax.Highlight).
func highlight(source string) []srcLine {
	spans := syntax.Highlight(source)
	var lines []srcLine
	cur := srcLine{N: 1}
	add := func(class, text string) {
		for {
			i := strings.IndexByte(text, '\n')
			if i < 0 {
				if text != "" {
					cur.Parts = append(cur.Parts, srcPart{class, text})
				}
				return
			}
			if i > 0 {
				cur.Parts = append(cur.Parts, srcPart{class, text[:i]})
			}
			lines = append(lines, cur)
			cur = srcLine{N: cur.N + 1}
			text = text[i+1:]
		}
	}
	at := 0
	for _, s := range spans {
		add("", source[at:s.Start])
		add(s.Class, source[s.Start:s.End])
		at = s.End
	}
	add("", source[at:])
	if len(cur.Parts) > 0 {
		lines = append(lines, cur)
	}
	return lines
}

// diffLine is one line of a source diff.
type diffLine struct {
	Op   string // "same", "add", "del"
	A, B int    // line numbers (0 when absent)
	Text string
}

// maxDiffCells bounds the diff's table (lines of a × lines of b).
const maxDiffCells = 4_000_000

// lineDiff is the longest-common-subsequence diff of two texts' lines;
// ok false when they are too long to compare.
func lineDiff(a, b string) (out []diffLine, ok bool) {
	al, bl := splitLines(a), splitLines(b)
	n, m := len(al), len(bl)
	if n*m > maxDiffCells {
		return nil, false
	}
	// lcs[i][j]: the LCS length of al[i:] and bl[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && al[i] == bl[j]:
			out = append(out, diffLine{"same", i + 1, j + 1, al[i]})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, diffLine{"add", 0, j + 1, bl[j]})
			j++
		default:
			out = append(out, diffLine{"del", i + 1, 0, al[i]})
			i++
		}
	}
	return out, true
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
