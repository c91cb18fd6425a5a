package compiler_test

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// TestCompilerUsesCheck: the compiler takes each template and timeout as
// check parsed them instead of parsing them again. The AST is changed
// after checking; the program still has what check read.
func TestCompilerUsesCheck(t *testing.T) {
	f, diags := syntax.ParseString("once.flow", `flow once
numbers "+15550100"
menu "Pick {{contact.name ?? 'one'}}" <
  1 -> reply "Hello"
  timeout 10m -> reply "Late"
>
`)
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	infos, diags := check.Files([]*syntax.File{f})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	menu := f.Stmts[2].(*syntax.Chain).Steps[0].(*syntax.Command)
	hello := menu.Block.Stmts[0].(*syntax.Branch).Body.Steps[0].(*syntax.Command).Args[0]
	timeout := menu.Block.Stmts[1].(*syntax.Branch).Label
	hello.Tok = `"Changed"`
	timeout.Timeout = "99m"
	p, cd := compiler.Compile(f, infos[0])
	if cd.HasErrors() {
		t.Fatal(cd)
	}
	dis := p.Disassemble()
	if !strings.Contains(dis, "Hello") || strings.Contains(dis, "Changed") {
		t.Errorf("the reply was parsed again:\n%s", dis)
	}
	if len(p.Menus) != 1 || p.Menus[0].Timeout.Minutes() != 10 {
		t.Errorf("the timeout was read again: %+v", p.Menus)
	}
}
