package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A binary built in a git checkout names the commit it was built from,
// so a log line or a bug report leads back to the source.
func TestVersionPrintsCommit(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	// This machine's GOFLAGS may say -buildvcs=false; a release build
	// stamps the commit, so ask for it explicitly.
	bin := filepath.Join(t.TempDir(), "flowc")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("flowc version: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "flowc ") || !strings.HasPrefix(lines[2], "go1.") {
		t.Fatalf("flowc version printed:\n%s", out)
	}
	rev := strings.TrimPrefix(lines[1], "commit ")
	if rev == "unknown" {
		if top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err == nil {
			if st, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err == nil && !st.IsDir() {
				t.Skip("a git worktree (.git is a file): the go command stamps no commit here")
			}
		}
	}
	if want := strings.TrimSpace(string(head)); strings.TrimSuffix(rev, "-dirty") != want {
		t.Errorf("commit line %q, want HEAD %s", lines[1], want)
	}
}

func TestVersionRejectsArguments(t *testing.T) {
	var out, errb strings.Builder
	if code := run([]string{"version", "extra"}, nil, &out, &errb); code != exitUsage {
		t.Errorf("exit %d, want %d (usage)", code, exitUsage)
	}
}
