package compiler_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
)

// TestCatchAllKeyFix: a menu's `default ->` without an else is reported
// at the key with a fix that makes it `else`, and the fixed flow has no
// missing-branch warning left.
func TestCatchAllKeyFix(t *testing.T) {
	src := "flow f\nnumbers \"+15550100\"\nmenu \"Reply 1\" <\n  1 -> inbox team:sales\n  timeout 1h -> end\n  default -> retry 2 then inbox team:sales\n>\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "f.flow")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	_, cd := compiler.All(res)
	if len(cd) != 1 || len(cd[0].Fixes) != 1 || len(cd[0].Fixes[0].Edits) != 1 {
		t.Fatalf("want one diagnostic with one fix, got %v", cd)
	}
	e := cd[0].Fixes[0].Edits[0]
	fixed := src[:e.Span.Start] + e.New + src[e.Span.End:]
	if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if _, cd := compiler.All(res); len(res.Diags)+len(cd) != 0 {
		t.Errorf("after the fix:\n%s\nstill: %v %v", fixed, res.Diags, cd)
	}
}
