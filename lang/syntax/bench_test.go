package syntax_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/syntax"
)

// genFlow returns a realistic flow of about n lines: headers, then
// sections shaped like the examples (comments, business hours, a menu
// with aligned branches and templates, set, run, chains, else-chains).
func genFlow(n int) string {
	var b strings.Builder
	b.WriteString("# Generated for BenchmarkParse.\nflow bench\nnumbers \"+15550100\", \"+15550101\"\n")
	b.WriteString("timezone \"America/New_York\"\nschedule office = \"mon-fri 9-17, sat 10-14\"\n")
	b.WriteString("holidays \"2026-12-25\", \"2027-01-01\"\napplet lookup = \"lookup.js\"\n\n")
	lines := 8
	for i := 0; lines < n; i++ {
		fmt.Fprintf(&b, `# Section %d: the same shape as examples/sales.flow, with a few more forms.
section s%d <
  set visits%d = (contact.visits ?? 0) + 1
  run lookup(from, "%d") as customer%d < on error -> inbox team:support >
  when hours("office") and ("vip" in contact.tags) <
    menu "Reply 1 for sales, 2 for support (section %d)" <
      1           -> inbox team:sales by round-robin
      2           -> reply "Thanks {{contact.name ?? 'there'}}! Support will text you shortly." then inbox team:support
      "agent"     -> ask "What is it about?" as topic%d < timeout 30m -> inbox team:agents > then forward webhook:"https://agents.example.com/in"
      timeout 10m -> inbox team:sales
      else        -> reply "Please reply 1 or 2." then retry 2 then inbox team:sales
    >
  > else when (visits%d > 3) <
    tag "regular"
    forward email:"owner@example.com"
  > else reply "We're closed. We'll text you back at 9am." then inbox team:sales
>

`, i, i, i, i, i, i, i, i)
		lines += 18
	}
	b.WriteString("goto s0\n")
	return b.String()
}

// BenchmarkParse parses generated flows of about 1,000 and 10,000 lines;
// the time per byte should not grow with the file (docs/benchmarks.md).
//
//	go test ./lang/syntax -run '^$' -bench BenchmarkParse -benchmem
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		text := genFlow(n)
		if _, diags := syntax.ParseString("bench.flow", text); len(diags) != 0 {
			b.Fatalf("generated flow has errors: %v", diags[0])
		}
		b.Run(fmt.Sprintf("lines=%d", strings.Count(text, "\n")), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				syntax.ParseString("bench.flow", text)
			}
		})
	}
}
