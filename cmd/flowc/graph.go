package main

import (
	"fmt"
	"io"

	"github.com/flowc-dev/flowc/vm/flowgraph"
)

func init() {
	register(command{name: "graph", summary: "draw the flow as a graph (Graphviz DOT or Mermaid), marking dead ends and missing branches", run: runGraph})
}

// runGraph prints the graph vm/flowgraph builds (the console draws the
// same one).
func runGraph(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("graph", "flowc graph FILE [--format dot|mermaid]", stderr)
	format := fs.String("format", "dot", "output format: dot (Graphviz) or mermaid")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if err := oneOf("format", *format, "dot", "mermaid"); err != nil {
		fmt.Fprintln(stderr, "flowc graph:", err)
		return exitUsage
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	prog, code := compileOne(paths[0], stderr)
	if prog == nil {
		return code
	}
	g := flowgraph.Build(prog)
	if *format == "mermaid" {
		g.WriteMermaid(stdout)
	} else {
		g.WriteDot(stdout, flowgraph.DotOptions{})
	}
	return exitOK
}
