package vm_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/vm"
)

// A corrupt or forged program file is refused when it is loaded, with
// the bad index named, instead of crashing the VM on the first message
// that reaches the instruction.
func TestDecodeRefusesOutOfRangeIndices(t *testing.T) {
	loc := []vm.Loc{{Line: 1, Col: 1}, {Line: 1, Col: 1}}
	for name, p := range map[string]*vm.Program{
		"a condition's expression": {Code: []vm.Opcode{vm.OpTest, vm.OpEnd}, Args: []int32{99, 0}},
		"a jump target":            {Code: []vm.Opcode{vm.OpJump, vm.OpEnd}, Args: []int32{-5, 0}},
		"a reply's template":       {Code: []vm.Opcode{vm.OpReply, vm.OpEnd}, Args: []int32{3, 0}},
		"a template's expression":  {Code: []vm.Opcode{vm.OpReply, vm.OpEnd}, Args: []int32{0, 0}, Templates: []vm.Template{{Parts: []vm.TemplatePart{{Expr: 7}}}}},
		"a menu key's target":      {Code: []vm.Opcode{vm.OpMenu, vm.OpEnd}, Args: []int32{0, 0}, Menus: []vm.Menu{{Prompt: -1, Keys: []vm.MenuKey{{Key: "1", PC: 40}}, TimeoutPC: -1, ElsePC: -1}}},
		"an unknown opcode":        {Code: []vm.Opcode{vm.Opcode(200), vm.OpEnd}, Args: []int32{0, 0}},
	} {
		p.Name, p.Version, p.Locs = "x", "v", loc
		var buf bytes.Buffer
		if err := p.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		_, err := vm.Decode(&buf)
		if err == nil || !strings.Contains(err.Error(), "corrupt program") {
			t.Errorf("%s: err = %v, want a corrupt program error", name, err)
		}
	}
}
