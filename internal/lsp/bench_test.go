package lsp

import (
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/file"
	flowrt "github.com/flowc-dev/flowc/runtime"
)

// bigFlow is a flow of about lines lines: sections of menus, conditions,
// templates and variables, each going to the next.
func bigFlow(lines int) string {
	var b strings.Builder
	b.WriteString("flow big\nnumbers \"+15550100\"\ntimezone \"America/New_York\"\nschedule office = \"mon-fri 9-17\"\n\ngoto s0\n")
	n := (lines - 6) / 13
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `
section s%d <
  when hours("office") and body != "" <
    menu "Reply 1 or 2, {{contact.name ?? 'there'}}" <
      1 -> inbox team:sales
      2 -> goto s%d
      timeout 10m -> inbox team:sales
      else -> reply "Please reply 1 or 2." then retry 2 then inbox team:sales
    >
  > else reply "We're closed." then inbox team:sales
  set n%d = len(body)
  reply "You wrote {{n%d}} characters."
>
`, i, (i+1)%n, i, i)
	}
	return b.String()
}

// BenchmarkDiagnosticsAfterChange: a change to an open 1,000-line file,
// through the protocol, until its diagnostics arrive (Debounce 1ms).
// BenchmarkCheckBaseline is the same checks without the server, the
// floor for this figure.
func BenchmarkDiagnosticsAfterChange(b *testing.B) {
	text := bigFlow(1000)
	if n := strings.Count(text, "\n"); n < 990 || n > 1010 {
		b.Fatalf("bigFlow(1000) has %d lines", n)
	}
	root := b.TempDir()
	c := startServer(b, Options{Debounce: 1})
	uri := uriOf(filepath.Join(root, "big.flow"))
	c.mustCall("initialize", initializeParams{RootURI: uriOf(root)}, nil)
	c.open(uri, text)
	c.waitDiags(uri, 1)
	// As `flowc lsp` runs (cmd/flowc sets GCPercent).
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := 0; i < b.N; i++ {
		// Alternate two texts so every change is a real one.
		t := text
		if i%2 == 0 {
			t = strings.Replace(text, `"Please reply 1 or 2."`, `"Please reply 1 or 2!"`, 1)
		}
		v := i + 2
		if err := c.conn.Notify(bgCtx(), "textDocument/didChange", didChangeParams{TextDocument: versionedTextDocumentIdentifier{URI: uri, Version: v},
			ContentChanges: []contentChange{{Text: t}}}); err != nil {
			b.Fatal(err)
		}
		if ds := c.waitDiags(uri, v); len(ds) != 0 {
			b.Fatalf("the benchmark flow has diagnostics: %+v", ds[0])
		}
	}
}

func BenchmarkCheckBaseline(b *testing.B) {
	text := bigFlow(1000)
	// flowc check compiles every expression: no cache of the server's.
	defer flowrt.CacheCompiled(flowrt.CacheCompiled(0))
	defer cpuPerOp(b)()
	for i := 0; i < b.N; i++ {
		res := lang.CheckSources([]*file.Source{file.NewSource("big.flow", text)})
		_, cd := compiler.All(res)
		_, rd := check.Replies(res.Files, check.DefaultMaxSegments)
		if len(res.Diags)+len(cd)+len(rd) != 0 {
			b.Fatal("the benchmark flow has diagnostics")
		}
	}
}

// cpuPerOp reports the process's CPU time (user and system, all threads:
// the checks, the server's goroutines, the garbage collector) per
// operation as cpu-ms/op. On a machine shared with other jobs, wall time
// (ns/op) measures the queue for the CPU as much as the work; this
// measures the work.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
