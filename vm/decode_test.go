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
		"a run route's target":     {Code: []vm.Opcode{vm.OpRun, vm.OpEnd}, Args: []int32{0, 0}, Applets: []vm.Applet{{Name: "a"}}, Runs: []vm.RunCall{{Applet: 0, ErrorPC: -1, Routes: []vm.Route{{Key: "vip", PC: 9}}}}},
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

// Programs a server stored before an upgrade must keep running; a file
// from a newer flowc must be refused rather than misread.
func TestDecodeFormatVersions(t *testing.T) {
	p := &vm.Program{Name: "x", Version: "v", Code: []vm.Opcode{vm.OpEnd}, Args: []int32{0}, Locs: []vm.Loc{{Line: 1, Col: 1}}}
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	enc := buf.Bytes()
	at := len(vm.Magic)
	for v := uint16(0); v <= vm.FormatVersion+1; v++ {
		b := append([]byte(nil), enc...)
		b[at], b[at+1] = byte(v>>8), byte(v)
		_, err := vm.Decode(bytes.NewReader(b))
		readable := v >= vm.MinFormatVersion && v <= vm.FormatVersion
		if readable && err != nil {
			t.Errorf("format version %d: %v, want it read", v, err)
		}
		if !readable && (err == nil || !strings.Contains(err.Error(), "recompile the flow")) {
			t.Errorf("format version %d: err = %v, want refused", v, err)
		}
	}
}
