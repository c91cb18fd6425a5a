package lsp

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be the server: Neovim starts it with
// FLOWC_LSP_TEST_SERVER=1 as it would start `flowc lsp`, so the test
// needs no separate build.
func TestMain(m *testing.M) {
	if os.Getenv("FLOWC_LSP_TEST_SERVER") == "1" {
		err := Serve(context.Background(), os.Stdin, os.Stdout, Options{Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
		if err != nil {
			fmt.Fprintln(os.Stderr, "flowc lsp:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// nvimInit attaches the server to the buffer with the API Neovim has had
// since 0.7 (Debian 12's) and writes the buffer's diagnostics to
// $FLOWC_OUT once there are any, one per line: line:col:code:message.
const nvimInit = `
local root, out = os.getenv('FLOWC_ROOT'), os.getenv('FLOWC_OUT')
vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/broken.flow'))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({ name = 'flowc', cmd = { os.getenv('FLOWC_LSP_EXE') }, root_dir = root })
vim.lsp.buf_attach_client(buf, id)
local ok = vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
local lines = {}
if not ok then table.insert(lines, 'timeout: no diagnostics') end
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or ''
  table.insert(lines, string.format('%d:%d:%s:%s', d.lnum + 1, d.col + 1, code, (d.message:gsub('\n', ' '))))
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(id)
vim.cmd('qall!')
`

// TestNeovimDiagnostics: a real client, Neovim's built-in one, shows
// flowc lsp's diagnostics for a broken file.
func TestNeovimDiagnostics(t *testing.T) {
	nvim, err := exec.LookPath("nvim")
	if err != nil {
		if os.Getenv("FLOWC_TEST_REQUIRE_NVIM") != "" {
			t.Fatal("nvim is not installed and FLOWC_TEST_REQUIRE_NVIM is set: apt-get install -y neovim")
		}
		t.Skip("nvim is not installed (apt-get install -y neovim; .ci/run installs it)")
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"broken.flow": "flow broken\nnumbers \"+15550100\"\n\nrply \"hello\"\n",
		"init.lua":    nvimInit,
	})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "out.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--noplugin", "-i", "NONE", "-n", "-u", filepath.Join(root, "init.lua"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "FLOWC_ROOT="+root, "FLOWC_OUT="+out, "FLOWC_LSP_EXE="+exe, "FLOWC_LSP_TEST_SERVER=1",
		"XDG_CONFIG_HOME="+filepath.Join(root, "config"), "XDG_DATA_HOME="+filepath.Join(root, "data"), "XDG_STATE_HOME="+filepath.Join(root, "state"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nvim: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("nvim wrote no diagnostics: %v", err)
	}
	got := strings.TrimSpace(string(b))
	t.Logf("Neovim shows:\n%s", got)
	if !strings.Contains(got, `4:1:flow/applet:unknown applet "rply"`) || !strings.Contains(got, `did you mean "reply"?`) {
		t.Errorf("Neovim's diagnostics for broken.flow:\n%s", got)
	}
}
