package runtime

import (
	"reflect"
	"testing"
	"time"

	"github.com/expr-lang/expr/file"

	"github.com/flowc-dev/flowc/lang/schedule"
)

func cacheCal(t *testing.T, office string, holidays ...string) *Calendar {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schedule.Parse(office)
	if err != nil {
		t.Fatal(err)
	}
	h, err := schedule.ParseHolidays(holidays)
	if err != nil {
		t.Fatal(err)
	}
	return &Calendar{Location: ny, Holidays: h, Schedules: map[string]*schedule.Schedule{"office": s}}
}

// TestCacheCompiledAnswersAsACompile: with CacheCompiled on, a second
// Compiler with the same variables and a calendar of the same content
// (a new value, as each compile of a flow builds) gets the kept
// expressions, and they evaluate as a fresh compile does; a Compiler
// whose schedule, holidays or variables differ gets its own.
func TestCacheCompiledAnswersAsACompile(t *testing.T) {
	CacheCompiled(100)
	defer CacheCompiled(0)
	vars := func() map[string]bool { return map[string]bool{"order": true, "n": true} }
	srcs := map[string]ExprKind{
		`hours("office")`: Condition, `holiday()`: Condition, `hours("office") and body != ""`: Condition,
		`order ?? "none"`: Text, `n + 1`: Value, `len(body)`: Value, `contact.name ?? 'there'`: Text,
	}
	first := &Compiler{Cal: cacheCal(t, "mon-fri 9-17", "2026-12-25"), Vars: vars()}
	kept := map[string]*Compiled{}
	for src, kind := range srcs {
		ce, err := first.Compile(src, kind)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		kept[src] = ce
	}
	same := &Compiler{Cal: cacheCal(t, "mon-fri 9-17", "2026-12-25"), Vars: vars()}
	others := map[string]*Compiler{
		"another schedule": {Cal: cacheCal(t, "mon-fri 8-18", "2026-12-25"), Vars: vars()},
		"other holidays":   {Cal: cacheCal(t, "mon-fri 9-17"), Vars: vars()},
		"other variables":  {Cal: cacheCal(t, "mon-fri 9-17", "2026-12-25"), Vars: map[string]bool{"order": true, "n": true, "total": true}},
	}
	uncached := func(c *Compiler, src string, kind ExprKind) *Compiled {
		t.Helper()
		ce, err := (&Compiler{Cal: c.Cal, Vars: c.Vars}).compile(src, kind)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		return ce
	}
	ny := first.Cal.Location
	envs := []Env{
		{Body: "hi", Now: time.Date(2026, 11, 23, 10, 0, 0, 0, ny), Vars: map[string]any{"order": "A-1", "n": 2.0}},
		{Body: "hi", Now: time.Date(2026, 11, 23, 8, 30, 0, 0, ny), Vars: map[string]any{"n": 2.0}},
		{Body: "", Now: time.Date(2026, 12, 25, 10, 0, 0, 0, ny), Vars: map[string]any{"n": 0.0}},
	}
	agree := func(name, src string, got, want *Compiled) {
		t.Helper()
		if !reflect.DeepEqual(got.Reads, want.Reads) {
			t.Errorf("%s: %s reads %v, a fresh compile %v", name, src, got.Reads, want.Reads)
		}
		for i := range envs {
			g, gerr := Eval(got, &envs[i])
			w, werr := Eval(want, &envs[i])
			if !reflect.DeepEqual(g, w) || (gerr == nil) != (werr == nil) {
				t.Errorf("%s: %s in env %d = %v, %v; a fresh compile: %v, %v", name, src, i, g, gerr, w, werr)
			}
		}
	}
	for src, kind := range srcs {
		ce, err := same.Compile(src, kind)
		if err != nil {
			t.Fatal(err)
		}
		if ce != kept[src] {
			t.Errorf("%s: the same variables and calendar compiled it again", src)
		}
		agree("same", src, ce, uncached(same, src, kind))
		for name, c := range others {
			ce, err := c.Compile(src, kind)
			if err != nil {
				t.Fatal(err)
			}
			if ce == kept[src] {
				t.Errorf("%s: %s: got the expression kept for another calendar or variables", name, src)
			}
			agree(name, src, ce, uncached(c, src, kind))
		}
	}
	// The answers differ where the calendars do: proof the test can tell.
	a, _ := same.Compile(`hours("office")`, Condition)
	b, _ := others["another schedule"].Compile(`hours("office")`, Condition)
	if x, _ := Eval(a, &envs[1]); x != false {
		t.Errorf("hours(office) at 8:30 under mon-fri 9-17 = %v", x)
	}
	if x, _ := Eval(b, &envs[1]); x != true {
		t.Errorf("hours(office) at 8:30 under mon-fri 8-18 = %v", x)
	}
}

// TestCacheCompiledErrorsAreCopies: a kept error reaches each caller as
// its own value, so that one caller's adjustment (the compiler moves an
// error to the operand at fault) is not the next one's message.
func TestCacheCompiledErrorsAreCopies(t *testing.T) {
	CacheCompiled(100)
	defer CacheCompiled(0)
	c := &Compiler{Cal: &Calendar{Location: time.UTC}}
	_, err1 := c.Compile(`body +`, Text)
	fe, ok := err1.(*file.Error)
	if !ok {
		t.Fatalf("error %T %v, want expr's *file.Error", err1, err1)
	}
	msg := fe.Message
	fe.Message, fe.From = "changed by a caller", 99
	_, err2 := c.Compile(`body +`, Text)
	fe2, ok := err2.(*file.Error)
	if !ok || fe2 == fe || fe2.Message != msg || fe2.From == 99 {
		t.Fatalf("second error %+v, want a copy of the first as Compile made it (%q)", err2, msg)
	}
	if x := compiledCache.Load(); x.hits != 1 {
		t.Errorf("%d hits, want 1", x.hits)
	}
}

// TestCacheCompiledIsBounded: past max entries the older generation goes;
// what is looked up again stays.
func TestCacheCompiledIsBounded(t *testing.T) {
	CacheCompiled(4)
	defer CacheCompiled(0)
	c := &Compiler{Cal: &Calendar{Location: time.UTC}}
	keep, _ := c.Compile(`body == "keep"`, Condition)
	for i := 0; i < 50; i++ {
		if _, err := c.Compile(`len(body) > `+string(rune('0'+i%10))+string(rune('0'+i/10)), Condition); err != nil {
			t.Fatal(err)
		}
		if again, _ := c.Compile(`body == "keep"`, Condition); again != keep {
			t.Fatalf("after %d others the one in use was dropped", i+1)
		}
	}
	x := compiledCache.Load()
	if n := len(x.cur) + len(x.old); n > 8 {
		t.Errorf("%d entries kept, max 4 per generation", n)
	}
}
