package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// graphFlows is every example plus a flow with a missing else, a menu
// without else or timeout and a dead end.
func graphFlows(t *testing.T) []string {
	t.Helper()
	flows, err := filepath.Glob("../../examples/*.flow")
	if err != nil || len(flows) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "gaps.flow")
	src := `flow gaps
numbers "+15550900"
timezone "UTC"

when (keyword == "stop") <
  tag "stop"
>
when (body contains "|") <
  reply "a \"quoted\" <b> | # & reply"
> else tag "b"
menu "pick" <
  1 -> reply "one"
  2 -> tag "two"
>
`
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return append(flows, bad)
}

func graphOf(t *testing.T, path, format string) string {
	t.Helper()
	code, out, errs := runFlowc(t, "graph", path, "--format", format)
	if code != exitOK {
		t.Fatalf("flowc graph %s --format %s: exit %d\n%s", path, format, code, errs)
	}
	return out
}

func TestGraphDotAcceptedByGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz `dot` is not on PATH (apt-get install graphviz)")
	}
	for _, f := range graphFlows(t) {
		out := graphOf(t, f, "dot")
		cmd := exec.Command(dot, "-Tsvg")
		cmd.Stdin = strings.NewReader(out)
		var svg, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &svg, &errb
		if err := cmd.Run(); err != nil || errb.Len() > 0 {
			t.Errorf("%s: dot -Tsvg: %v %s\n%s", f, err, errb.String(), out)
			continue
		}
		if !strings.Contains(svg.String(), "<svg") {
			t.Errorf("%s: no svg produced", f)
		}
	}
}

func TestGraphDotContent(t *testing.T) {
	out := graphOf(t, "../../examples/sales.flow", "dot")
	for _, want := range []string{
		`[label="when hours(\"9-5\")\nline 10", shape=diamond`,
		`n0 -> n2 [label="true"]`,
		`n0 -> n16 [label="false"]`,
		`n2 -> n4 [label="1"]`,
		`n2 -> n9 [label="timeout 10m"]`,
		`n2 -> n11 [label="else"]`,
		`n12 -> n2 [label="again"]`,
		`n12 -> n13 [label="no retries left"]`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sales graph lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "dead end") || strings.Contains(out, "missing") {
		t.Errorf("sales has no dead ends or missing branches:\n%s", out)
	}

	flows := graphFlows(t)
	gaps := graphOf(t, flows[len(flows)-1], "dot")
	for _, want := range []string{
		`n0 -> n3 [label="false (no else)"]`, // a when without else goes on; nothing is missing
		`[label="missing timeout", shape=box, style=dashed, color=red`,
		`[label="dead end\nmessage not handled", shape=octagon`,
		`n12 -> dead12 [color=red]`,
		`reply \"a \\\"quoted\\\" <b> | # & reply\"`,
	} {
		if !strings.Contains(gaps, want) {
			t.Errorf("gaps graph lacks %s:\n%s", want, gaps)
		}
	}
}

func TestGraphMermaidSyntax(t *testing.T) {
	id := `[A-Za-z0-9_]+`
	label := `"[^"]*"`
	nodeRe := regexp.MustCompile(`^    (` + id + `)(\(\[` + label + `\]\)|\(\(` + label + `\)\)|\{\{` + label + `\}\}|\{` + label + `\}|\[/` + label + `/\]|\[` + label + `\]|\(` + label + `\))$`)
	edgeRe := regexp.MustCompile(`^    (` + id + `) (-->|-\.->)(\|` + label + `\|)? (` + id + `)$`)
	classDefRe := regexp.MustCompile(`^    classDef ` + id + ` [a-z-]+:[^ ]+( [^ ]+)*$`)
	classRe := regexp.MustCompile(`^    class ` + id + `(,` + id + `)* ` + id + `$`)
	for _, f := range graphFlows(t) {
		out := graphOf(t, f, "mermaid")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if lines[0] != "flowchart TD" {
			t.Errorf("%s: first line %q", f, lines[0])
		}
		nodes := map[string]bool{}
		edges := 0
		for _, l := range lines[1:] {
			if m := nodeRe.FindStringSubmatch(l); m != nil {
				if m[1] == "end" {
					t.Errorf("%s: node id %q is a Mermaid keyword", f, m[1])
				}
				nodes[m[1]] = true
				continue
			}
			if m := edgeRe.FindStringSubmatch(l); m != nil {
				edges++
				for _, n := range []string{m[1], m[4]} {
					if !nodes[n] {
						t.Errorf("%s: edge %q uses undeclared node %s", f, l, n)
					}
				}
				continue
			}
			if classDefRe.MatchString(l) || classRe.MatchString(l) {
				continue
			}
			t.Errorf("%s: line does not match the emitted grammar: %q", f, l)
		}
		if edges == 0 {
			t.Errorf("%s: no edges", f)
		}
	}

	flows := graphFlows(t)
	gaps := graphOf(t, flows[len(flows)-1], "mermaid")
	for _, want := range []string{
		`reply #quot;a \#quot;quoted\#quot; #lt;b#gt; #124; #35; #amp; reply#quot;`,
		`n0 -->|"false (no else)"| n3`,
		`class dead12 deadEnd`,
	} {
		if !strings.Contains(gaps, want) {
			t.Errorf("mermaid lacks %s:\n%s", want, gaps)
		}
	}
}
