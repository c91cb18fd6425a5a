package vm_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// compiledExamples are the examples' programs as flowc compile writes them.
func compiledExamples(f *testing.F) [][]byte {
	files, _ := filepath.Glob("../examples/*.flow")
	var out [][]byte
	for _, name := range files {
		res, err := lang.Load([]string{name})
		if err != nil {
			f.Fatal(err)
		}
		progs, _ := compiler.All(res)
		for _, p := range progs {
			var buf bytes.Buffer
			if err := p.Encode(&buf); err != nil {
				f.Fatal(err)
			}
			out = append(out, buf.Bytes())
		}
	}
	if len(out) == 0 {
		f.Fatal("no compiled examples")
	}
	return out
}

// FuzzDecode: loading any bytes as a compiled program (what the server
// does with a deployed file) returns a program or an error; it never
// panics or hangs.
func FuzzDecode(f *testing.F) {
	for _, b := range compiledExamples(f) {
		f.Add(b)
	}
	f.Add([]byte(vm.Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := vm.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := vm.Link(p); err != nil {
			return
		}
		_ = p.Disassemble()
		// A program that loads runs: a message gets a result or an error.
		env := &sim.Env{Clock: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
		ev := vm.Event{Message: vm.Message{From: "+15557654321", Body: "hi"}}
		_, _ = vm.Run(context.Background(), p, nil, ev, env, vm.Options{MaxSteps: 1000})
	})
}
