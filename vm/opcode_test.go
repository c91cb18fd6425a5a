package vm

import "testing"

func TestEveryOpcodeHasAName(t *testing.T) {
	seen := map[string]Opcode{}
	for op := Opcode(0); op < opCount; op++ {
		name := op.String()
		if name == "OP?" || name == "" {
			t.Errorf("opcode %d has no name", op)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("opcodes %d and %d share the name %q", prev, op, name)
		}
		seen[name] = op
	}
	if got := opCount.String(); got != "OP?" {
		t.Errorf("out-of-range opcode prints %q, want OP?", got)
	}
}
