package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
)

func init() {
	register(command{name: "check", summary: "lint .flow files (for editors and CI)", run: runCheck})
}

func runCheck(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "flowc check [--format text|json] [PATH…]", stderr)
	format := fs.String("format", "text", "output format: text or json")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if err := oneOf("format", *format, "text", "json"); err != nil {
		fmt.Fprintln(stderr, "flowc check:", err)
		return exitUsage
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	res, err := lang.Load(paths)
	if err != nil {
		fmt.Fprintln(stderr, "flowc check:", err)
		return exitUsage
	}
	diags := checkAll(res)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(diag.Report(diags, len(res.Files))); err != nil {
			fmt.Fprintln(stderr, "flowc check:", err)
			return exitUsage
		}
	} else {
		diag.WriteText(stderr, diags, true)
		if len(diags) > 0 {
			e, w := diags.Count()
			fmt.Fprintf(stderr, "%d error(s), %d warning(s) in %d file(s)\n", e, w, len(res.Files))
		}
	}
	if diags.HasErrors() {
		return exitFail
	}
	return exitOK
}

// checkAll runs every check available on a loaded file set: the front
// end's, then the compiler's (names, types, control flow) on the files
// the front end found no errors in.
func checkAll(res *lang.Result) diag.List {
	_, cd := compiler.All(res)
	all := append(diag.List{}, res.Diags...)
	all = append(all, cd...)
	all.Sort()
	return all
}
