package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/vm"
)

func init() {
	register(command{name: "compile", summary: "compile a flow to bytecode (-o FILE) or print its listing (--disasm)", run: runCompile})
}

func runCompile(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("compile", "flowc compile FILE [-o OUT.flowc] [--disasm]", stderr)
	out := fs.String("o", "", "write the compiled program to this file")
	disasm := fs.Bool("disasm", false, "print a readable listing with source lines")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) != 1 || (*out == "" && !*disasm) {
		fs.Usage()
		return exitUsage
	}
	prog, code := compileOne(paths[0], stderr)
	if prog == nil {
		return code
	}
	if *disasm {
		io.WriteString(stdout, prog.Disassemble())
	}
	if *out != "" {
		var buf bytes.Buffer
		if err := prog.Encode(&buf); err != nil {
			fmt.Fprintln(stderr, "flowc compile:", err)
			return exitUsage
		}
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintln(stderr, "flowc compile:", err)
			return exitUsage
		}
	}
	return exitOK
}

// compileOne loads one flow (a .flow file, or a compiled .flowc file),
// printing diagnostics; it returns the linked program or an exit code.
func compileOne(path string, stderr io.Writer) (*vm.Program, int) {
	if b, err := os.ReadFile(path); err == nil && bytes.HasPrefix(b, []byte(vm.Magic)) {
		p, err := vm.Decode(bytes.NewReader(b))
		if err == nil {
			err = vm.Link(p)
		}
		if err != nil {
			fmt.Fprintf(stderr, "flowc: %s: %v\n", path, err)
			return nil, exitUsage
		}
		return p, exitOK
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return nil, exitUsage
	}
	progs, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	all.Sort()
	if all.HasErrors() {
		diag.WriteText(stderr, all, true)
		return nil, exitFail
	}
	if len(progs) != 1 {
		fmt.Fprintf(stderr, "flowc: %s: expected one flow, found %d\n", path, len(progs))
		return nil, exitUsage
	}
	return progs[0], exitOK
}
