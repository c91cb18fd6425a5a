package compiler_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// FuzzCompileRoundTrip: any source that compiles without errors runs the
// same from the compiled program and from its serialised form: what
// flowc test sees is what the server runs.
func FuzzCompileRoundTrip(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.flow")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, ny)
	f.Fuzz(func(t *testing.T, src string) {
		// Named beside the examples so applet paths resolve.
		res := lang.CheckSources([]*file.Source{file.NewSource("../examples/fuzz.flow", src)})
		progs, cd := compiler.All(res)
		if append(append(diag.List{}, res.Diags...), cd...).HasErrors() || len(progs) != 1 {
			return
		}
		p := progs[0]
		var buf bytes.Buffer
		if err := p.Encode(&buf); err != nil {
			t.Fatalf("encode: %v", err)
		}
		q, err := vm.Decode(&buf)
		if err != nil {
			t.Fatalf("decode of a compiled program: %v", err)
		}
		if err := vm.Link(q); err != nil {
			t.Fatalf("link of a compiled program: %v", err)
		}
		if q.Disassemble() != p.Disassemble() {
			t.Fatal("the decoded program differs from the compiled one")
		}
		want, got := runSteps(p, at), runSteps(q, at)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded program:\n got  %q\n want %q", got, want)
		}
	})
}

// runSteps sends a few messages and a clock advance, and lists the
// actions and errors.
func runSteps(p *vm.Program, at time.Time) []string {
	if len(p.Numbers) == 0 {
		return nil
	}
	conv := &sim.Conversation{Prog: p, From: "+15557654321", To: p.Numbers[0], Env: &sim.Env{Clock: at,
		Contacts: map[string]runtime.Contact{"+15557654321": {Known: true, Name: runtime.Str("Ann")}}}}
	ctx := context.Background()
	var out []string
	add := func(rs []*vm.Result, err error) {
		if err != nil {
			out = append(out, "error: "+err.Error())
		}
		for _, r := range rs {
			for _, a := range r.Actions {
				out = append(out, a.String())
			}
			for _, e := range r.Errors {
				out = append(out, "runtime error: "+e)
			}
		}
	}
	for _, body := range []string{"hi", "2", "", "1"} {
		if body == "" {
			add(conv.Wait(ctx, time.Hour))
			continue
		}
		r, err := conv.Send(ctx, body)
		add([]*vm.Result{r}, err)
	}
	return append(out, fmt.Sprint(len(out)))
}
