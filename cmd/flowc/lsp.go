package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/flowc-dev/flowc/internal/buildinfo"
	"github.com/flowc-dev/flowc/internal/lsp"
)

func init() {
	register(command{name: "lsp", summary: "the language server for editors (LSP over stdio)", run: runLSP})
}

// runLSP serves the Language Server Protocol on stdin and stdout, as an
// editor starts it; the log goes to stderr (editors show it in their
// output panel). Exit 0 after the client's shutdown and exit, 1 when the
// client went away without them, as the protocol says.
func runLSP(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("lsp", "flowc lsp [--stdio]", stderr)
	// --stdio is what VS Code's language client and others pass; stdio
	// is the only transport, so it changes nothing.
	fs.Bool("stdio", true, "speak LSP over stdin and stdout (the only transport)")
	debounce := fs.Duration("debounce", lsp.DefaultDebounce, "how long diagnostics wait after a change for the next one")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "flowc lsp: unexpected argument %q: the workspace comes from the client's initialize\n", pos[0])
		return exitUsage
	}
	if *debounce < 0 {
		fmt.Fprintln(stderr, "flowc lsp: --debounce must not be negative")
		return exitUsage
	}
	// A check of a 1,000-line file allocates about 27 MB, most of it
	// garbage at once, while the live heap (the workspace's ASTs) is
	// small: collecting at 4x the live heap instead of 2x cuts the CPU
	// a keystroke costs by about a third (BenchmarkDiagnosticsAfterChange,
	// docs/benchmarks.md). A GOGC the user set (other than the default
	// 100) is kept.
	if prev := debug.SetGCPercent(lsp.GCPercent); prev != 100 {
		debug.SetGCPercent(prev)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mod, rev, _ := buildinfo.Read()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	if err := lsp.Serve(ctx, stdin, stdout, lsp.Options{Debounce: max(*debounce, 1), Version: mod + " " + rev, Logf: logf}); err != nil {
		fmt.Fprintln(stderr, "flowc lsp:", err)
		return exitUsage
	}
	return exitOK
}
