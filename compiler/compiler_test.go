package compiler_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/diag/diagtest"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// TestDiagnostics runs the scripts in testdata/: each expected
// diagnostic is written beside the line that causes it.
func TestDiagnostics(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.flow")
	if len(files) == 0 {
		t.Fatal("no test scripts")
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			res, err := lang.Load([]string{name})
			if err != nil {
				t.Fatal(err)
			}
			_, cd := compiler.All(res)
			all := append(append(diag.List{}, res.Diags...), cd...)
			exps, err := diagtest.Parse(res.Files[0].Source)
			if err != nil {
				t.Fatal(err)
			}
			diagtest.Compare(t, exps, all)
		})
	}
}

func compileFile(t testing.TB, path string) *vm.Program {
	t.Helper()
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	if all.HasErrors() || len(progs) != 1 {
		t.Fatalf("%s does not compile: %v", path, all.Err())
	}
	return progs[0]
}

type step struct {
	body string        // a message, or
	wait time.Duration // a clock advance
}

func transcript(t testing.TB, p *vm.Program, at time.Time, steps []step) []string {
	t.Helper()
	to := append(p.Numbers, p.CallNumbers...)[0] // a call flow's steps are a call and the digits pressed
	conv := &sim.Conversation{Prog: p, From: "+15557654321", To: to, Env: &sim.Env{Clock: at,
		Contacts: map[string]runtime.Contact{"+15557654321": {Known: true, Name: runtime.Str("Ann")}}}}
	var out []string
	ctx := context.Background()
	for _, s := range steps {
		var results []*vm.Result
		if s.wait > 0 {
			rs, err := conv.Wait(ctx, s.wait)
			if err != nil {
				t.Fatal(err)
			}
			results = rs
		} else {
			send := func() (*vm.Result, error) { return conv.Send(ctx, s.body) }
			if p.Channel == "voice" && conv.State == nil {
				send = func() (*vm.Result, error) { return conv.Call(ctx, vm.Event{Kind: vm.EventCall}) }
			} else if p.Channel == "voice" {
				send = func() (*vm.Result, error) {
					return conv.Call(ctx, vm.Event{Kind: vm.EventDigits, Message: vm.Message{Body: s.body}})
				}
			}
			r, err := send()
			if err != nil {
				t.Fatal(err)
			}
			results = []*vm.Result{r}
		}
		for _, r := range results {
			for _, a := range r.Actions {
				out = append(out, a.String())
			}
		}
	}
	return out
}

var ny = func() *time.Location { l, _ := time.LoadLocation("America/New_York"); return l }()

func TestSalesConversation(t *testing.T) {
	p := compileFile(t, "../examples/sales.flow")
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, ny)
	cases := []struct {
		name  string
		at    time.Time
		steps []step
		want  []string
	}{
		{"in hours, reply 2 goes to support", monday10, []step{{body: "hi"}, {body: "2"}}, []string{
			`reply "Reply 1 for sales, 2 for support"`, "wait until 2026-11-23T10:10:00-05:00",
			`reply "Thanks Ann! Support will text you shortly."`, "inbox team:support", "end"}},
		{"no reply takes the timeout branch", monday10, []step{{body: "hi"}, {wait: 15 * time.Minute}}, []string{
			`reply "Reply 1 for sales, 2 for support"`, "wait until 2026-11-23T10:10:00-05:00", "inbox team:sales", "end"}},
		{"a wrong key retries twice, then goes to sales", monday10, []step{{body: "hi"}, {body: "x"}, {body: "y"}, {body: "z"}}, []string{
			`reply "Reply 1 for sales, 2 for support"`, "wait until 2026-11-23T10:10:00-05:00",
			`reply "Please reply 1 or 2."`, `reply "Reply 1 for sales, 2 for support"`, "wait until 2026-11-23T10:10:00-05:00",
			`reply "Please reply 1 or 2."`, `reply "Reply 1 for sales, 2 for support"`, "wait until 2026-11-23T10:10:00-05:00",
			`reply "Please reply 1 or 2."`, "inbox team:sales", "end"}},
		{"after hours", time.Date(2026, 11, 23, 20, 0, 0, 0, ny), []step{{body: "hi"}}, []string{
			`reply "We're closed. We'll text you back at 9am."`, "inbox team:sales", "end"}},
		{"holiday", time.Date(2026, 12, 25, 10, 0, 0, 0, ny), []step{{body: "hi"}}, []string{
			`reply "We're closed. We'll text you back at 9am."`, "inbox team:sales", "end"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := transcript(t, p, c.at, c.steps)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("actions:\n got  %q\n want %q", got, c.want)
			}
		})
	}
}

// TestEncodeDecodeRunsTheSame: compile → serialise → load → run gives
// the same actions as the freshly compiled program, for every example.
func TestEncodeDecodeRunsTheSame(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.flow")
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, ny)
	steps := []step{{body: "hi"}, {body: "2"}, {body: "hello"}, {wait: time.Hour}, {body: "1"}}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := compileFile(t, f)
			var buf bytes.Buffer
			if err := p.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			q, err := vm.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := vm.Link(q); err != nil {
				t.Fatal(err)
			}
			if q.Version != p.Version || q.Disassemble() != p.Disassemble() {
				t.Fatal("decoded program differs from the compiled one")
			}
			want := transcript(t, p, at, steps)
			got := transcript(t, q, at, steps)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded program:\n got  %q\n want %q", got, want)
			}
		})
	}
}

func TestDecodeRejectsOtherData(t *testing.T) {
	if _, err := vm.Decode(bytes.NewReader([]byte("not a program"))); err != vm.ErrFormat {
		t.Fatalf("err = %v, want ErrFormat", err)
	}
	bad := append([]byte(vm.Magic), 0, 99)
	if _, err := vm.Decode(bytes.NewReader(bad)); err == nil {
		t.Fatal("a future format version was accepted")
	}
}

// TestConcurrentRunsAgree: one program, many goroutines, same answers.
func TestConcurrentRunsAgree(t *testing.T) {
	p := compileFile(t, "../examples/sales.flow")
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, ny)
	steps := []step{{body: "hi"}, {body: "x"}, {body: "2"}}
	want := transcript(t, p, at, steps)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if got := transcript(t, p, at, steps); !reflect.DeepEqual(got, want) {
					errs <- "concurrent run differs"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestStepBudgetStopsARunawayProgram(t *testing.T) {
	p := compileFile(t, "../examples/sales.flow")
	// Hand-build a loop the compiler would reject: JUMP to itself.
	loop := &vm.Program{Name: "loop", Version: "v", Code: []vm.Opcode{vm.OpJump}, Args: []int32{0}, Locs: []vm.Loc{{Line: 1, Col: 1}}}
	loop.SetCalendar(p.Calendar())
	env := &sim.Env{Clock: time.Now()}
	_, err := vm.Run(context.Background(), loop, nil, vm.Event{Message: vm.Message{From: "+1555", Body: "x"}}, env, vm.Options{MaxSteps: 1000})
	if err != vm.ErrBudget {
		t.Fatalf("err = %v, want ErrBudget", err)
	}
}

func TestStateOfAnotherVersionIsRefused(t *testing.T) {
	p := compileFile(t, "../examples/sales.flow")
	env := &sim.Env{Clock: time.Date(2026, 11, 23, 10, 0, 0, 0, ny)}
	_, err := vm.Run(context.Background(), p, &vm.State{Version: "old"}, vm.Event{Message: vm.Message{Body: "1"}}, env, vm.Options{})
	if err != vm.ErrVersion {
		t.Fatalf("err = %v, want ErrVersion", err)
	}
}

// TestJavaScriptSyntaxErrorIsADiagnostic: an applet that does not
// compile is reported at its line and column in the .js file.
func TestJavaScriptSyntaxErrorIsADiagnostic(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.js"), []byte("function main(ctx) {\n  return ctx.args[0] +* 2;\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "f.flow"), []byte("numbers \"+15550100\"\napplet bad = \"bad.js\"\nrun bad(body) as x\nreply \"{{x}}\"\n"), 0o644)
	res, err := lang.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	_, cd := compiler.All(res)
	if len(cd) == 0 {
		t.Fatal("no diagnostic for a JavaScript syntax error")
	}
	d := cd[0]
	if d.Code != compiler.CodeApplet || d.Span.Source.Name != filepath.Join(dir, "bad.js") || d.Span.StartPos().Line != 2 {
		t.Fatalf("diagnostic = %v at %s", d, d.Span)
	}
}

// TestJavaScriptReservedWordIsNamed: goja's "Unexpected reserved word"
// reaches the author as the word itself, at its line and column.
func TestJavaScriptReservedWordIsNamed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.js"), []byte("function main(ctx) {\n  let import = ctx.args[0];\n  return import;\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "f.flow"), []byte("numbers \"+15550100\"\napplet bad = \"bad.js\"\nrun bad(body) as x\nreply \"{{x}}\"\n"), 0o644)
	res, err := lang.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	_, cd := compiler.All(res)
	if len(cd) == 0 {
		t.Fatal("no diagnostic for a JavaScript syntax error")
	}
	d := cd[0]
	want := "applet bad: `import` is a reserved word in JavaScript and cannot be used as a name"
	if d.Code != compiler.CodeApplet || d.Message != want || d.Span.StartPos().Line != 2 || d.Span.StartPos().Column != 7 {
		t.Fatalf("diagnostic = %q at %s, want %q at bad.js:2:7", d.Message, d.Span, want)
	}
}
