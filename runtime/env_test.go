package runtime

import (
	"github.com/expr-lang/expr"
	"testing"
	"time"

	_ "time/tzdata"
)

func newCompiler(t *testing.T, vars ...string) *Compiler {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	vs := map[string]bool{}
	for _, v := range vars {
		vs[v] = true
	}
	return &Compiler{Cal: &Calendar{Location: loc}, Vars: vs}
}

func TestConditionWithHoursAndVariables(t *testing.T) {
	c := newCompiler(t, "order")
	prog, err := c.Compile(`hours("9-5") && order != nil && contact.known`, Condition)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Reads) != 1 || prog.Reads[0] != "order" {
		t.Fatalf("reads = %v, want [order]", prog.Reads)
	}
	ny := c.Cal.Location
	env := &Env{Now: time.Date(2026, 11, 23, 10, 0, 0, 0, ny), Vars: map[string]any{"order": "A1"}, Contact: Contact{Known: true}}
	got, err := Eval(prog, env)
	if err != nil || got != true {
		t.Fatalf("at 10:00 = %v, %v; want true", got, err)
	}
	env.Now = time.Date(2026, 11, 23, 18, 0, 0, 0, ny)
	if got, _ := Eval(prog, env); got != false {
		t.Fatalf("at 18:00 = %v; want false", got)
	}
}

func TestConditionMustBeBool(t *testing.T) {
	c := newCompiler(t)
	if _, err := c.Compile(`body + "x"`, Condition); err == nil {
		t.Fatal("a string condition compiled; want a type error")
	}
	if _, err := c.Compile(`contact.nmae == "x"`, Condition); err == nil {
		t.Fatal("unknown field compiled; want an error")
	}
}

func TestKeyword(t *testing.T) {
	for in, want := range map[string]string{"STOP!": "stop", "  2. please": "2", "": "", "Hello there": "hello"} {
		if got := Keyword(in); got != want {
			t.Errorf("Keyword(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkCondition evaluates a typical condition (business hours, a
// contact field, a flow variable) as the VM does per message.
func BenchmarkCondition(b *testing.B) {
	loc, _ := time.LoadLocation("America/New_York")
	c := &Compiler{Cal: &Calendar{Location: loc}, Vars: map[string]bool{"order": true}}
	prog, err := c.Compile(`hours("mon-fri 9-17") && contact.known && order != nil`, Condition)
	if err != nil {
		b.Fatal(err)
	}
	// The VM gives each event one budget (a condition like this charges
	// no steps, so one budget serves all iterations).
	env := &Env{Now: time.Date(2026, 11, 23, 10, 0, 0, 0, loc), Vars: map[string]any{"order": "A1"}, Contact: Contact{Known: true}, Budget: NewBudget()}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := Eval(prog, env); err != nil || v != true {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkGuard measures what the evaluation budget costs (issue #10):
// each expression compiled by flowc (with its step and memory charges)
// against the same source compiled by plain expr-lang, in one process.
// The loop is where the guard does the most: a charge per iteration.
func BenchmarkGuard(b *testing.B) {
	for _, src := range []string{
		`contact.known && body startsWith "h" && len(media) == 0`,
		`all(1..100, # > 0)`,
		`join(map(["a", "b", "c"], upper(#)), "-") + body`,
	} {
		env := &Env{Body: "hello", Contact: Contact{Known: true}}
		c := &Compiler{Cal: &Calendar{}}
		guarded, err := c.Compile(src, Value)
		if err != nil {
			b.Fatal(err)
		}
		plain, err := expr.Compile(src, expr.Env(&Env{}))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("flowc/"+src, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				env.Budget = NewBudget()
				if _, err := Eval(guarded, env); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("expr/"+src, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := expr.Run(plain, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
