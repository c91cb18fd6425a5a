package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/vm"
)

// TestSameFlowFromAnotherFolderIsOneVersion: a flow and its applet
// deployed from one folder, then the same files from another (a clone, a
// CI checkout): the second deploy is the same version, not "a version id
// collision" (the version hashes the sources, not the applet's path).
func TestSameFlowFromAnotherFolderIsOneVersion(t *testing.T) {
	compile := func() []*vm.Program {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "a.flow"), []byte("flow a\nnumbers \"+15550990\"\napplet size = \"size.js\"\nrun size(body) as s <\n  else -> reply \"ok\"\n>\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "size.js"), []byte("function main(ctx) { return 'short'; }\n"), 0o644)
		res, err := lang.Load([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		progs, cd := compiler.All(res)
		if res.Diags.HasErrors() || cd.HasErrors() || len(progs) != 1 {
			t.Fatalf("compile: %v %v", res.Diags.Err(), cd.Err())
		}
		return progs
	}
	first, second := compile(), compile()
	if first[0].Applets[0].Path == second[0].Applets[0].Path {
		t.Fatal("the two folders' applet paths are the same: the test proves nothing")
	}
	h := start(t, authToken, "testdata/timeout.flow")
	if err := h.srv.Deploy(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Deploy(context.Background(), second); err != nil {
		t.Fatalf("the same flow from another folder: %v", err)
	}
}
