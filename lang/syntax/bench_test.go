package syntax_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/lang/syntax/syntaxtest"
)

// BenchmarkParse parses generated flows of about 1,000 and 10,000 lines;
// the time per byte should not grow with the file (docs/benchmarks.md).
//
//	go test ./lang/syntax -run '^$' -bench BenchmarkParse -benchmem
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		text := syntaxtest.Flow(n, 0)
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

// BenchmarkParseErrors parses a 10,000-line flow with 0, 5 and 40
// syntax errors: recovery is local, so the time hardly depends on the
// number of errors (it used to re-parse the whole file once per error,
// 19 times the clean file's time at 40 errors).
//
//	go test ./lang/syntax -run '^$' -bench BenchmarkParseErrors
func BenchmarkParseErrors(b *testing.B) {
	for _, errs := range []int{0, 5, 40} {
		text := syntaxtest.Flow(10000, errs)
		if _, diags := syntax.ParseString("bench.flow", text); len(diags) != errs {
			b.Fatalf("%d mistakes gave %d diagnostics", errs, len(diags))
		}
		b.Run(fmt.Sprintf("errors=%d", errs), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				syntax.ParseString("bench.flow", text)
			}
		})
	}
}
