package check_test

import (
	"fmt"
	"testing"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/lang/syntax/syntaxtest"
)

// BenchmarkCheckErrors parses and checks a 10,000-line flow with 0, 5
// and 40 syntax errors: what `flowc check` costs on a large broken file,
// which must grow with the file, not with its errors.
//
//	go test ./lang/check -run '^$' -bench BenchmarkCheckErrors
func BenchmarkCheckErrors(b *testing.B) {
	for _, errs := range []int{0, 5, 40} {
		text := syntaxtest.Flow(10000, errs)
		b.Run(fmt.Sprintf("errors=%d", errs), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				f, _ := syntax.ParseString("bench.flow", text)
				check.Files([]*syntax.File{f})
			}
		})
	}
}
