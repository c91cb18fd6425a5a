package runtime

import (
	"reflect"
	"strings"
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
// Compiler with a calendar of the same content (a new value, as each
// compile of a flow builds) and the same of each expression's names
// declared gets the kept expressions, and they evaluate as a fresh
// compile does; a Compiler whose schedule or holidays differ, or that
// does not declare a name the expression reads, gets its own. Declaring
// a variable the expression does not name keeps it.
func TestCacheCompiledAnswersAsACompile(t *testing.T) {
	defer CacheCompiled(CacheCompiled(100))
	srcs := map[string]ExprKind{
		`hours("office")`: Condition, `holiday()`: Condition, `hours("office") and body != ""`: Condition,
		`order ?? "none"`: Text, `n + 1`: Value, `len(body)`: Value, `contact.name ?? 'there'`: Text,
	}
	first := &Compiler{Cal: cacheCal(t, "mon-fri 9-17", "2026-12-25"), Vars: map[string]bool{"order": true, "n": true}}
	kept := map[string]*Compiled{}
	for src, kind := range srcs {
		ce, err := first.Compile(src, kind)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		kept[src] = ce
	}
	others := []struct {
		name   string
		c      *Compiler
		shared func(src string) bool // gets the kept expression
	}{
		{"the same", &Compiler{Cal: cacheCal(t, "mon-fri 9-17", "2026-12-25"), Vars: map[string]bool{"order": true, "n": true}},
			func(string) bool { return true }},
		{"one variable more", &Compiler{Cal: cacheCal(t, "mon-fri 9-17", "2026-12-25"), Vars: map[string]bool{"order": true, "n": true, "total": true}},
			func(string) bool { return true }},
		{"order not declared", &Compiler{Cal: cacheCal(t, "mon-fri 9-17", "2026-12-25"), Vars: map[string]bool{"n": true}},
			func(src string) bool { return !strings.Contains(src, "order") }},
		{"another schedule", &Compiler{Cal: cacheCal(t, "mon-fri 8-18", "2026-12-25"), Vars: map[string]bool{"order": true, "n": true}},
			func(string) bool { return false }},
		{"other holidays", &Compiler{Cal: cacheCal(t, "mon-fri 9-17"), Vars: map[string]bool{"order": true, "n": true}},
			func(string) bool { return false }},
	}
	ny := first.Cal.Location
	envs := []Env{
		{Body: "hi", Now: time.Date(2026, 11, 23, 10, 0, 0, 0, ny), Vars: map[string]any{"order": "A-1", "n": 2.0}},
		{Body: "hi", Now: time.Date(2026, 11, 23, 8, 30, 0, 0, ny), Vars: map[string]any{"n": 2.0}},
		{Body: "", Now: time.Date(2026, 12, 25, 10, 0, 0, 0, ny), Vars: map[string]any{"n": 0.0}},
	}
	for _, o := range others {
		for src, kind := range srcs {
			got, gerr := o.c.Compile(src, kind)
			want, werr := (&Compiler{Cal: o.c.Cal, Vars: o.c.Vars}).compile(src, kind)
			if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
				t.Errorf("%s: %s: error %v, a fresh compile %v", o.name, src, gerr, werr)
				continue
			}
			if gerr != nil {
				continue
			}
			if sh := got == kept[src]; sh != o.shared(src) {
				t.Errorf("%s: %s: got the kept expression: %v, want %v", o.name, src, sh, o.shared(src))
			}
			if !reflect.DeepEqual(got.Reads, want.Reads) {
				t.Errorf("%s: %s reads %v, a fresh compile %v", o.name, src, got.Reads, want.Reads)
			}
			for i := range envs {
				g, gerr := Eval(got, &envs[i])
				w, werr := Eval(want, &envs[i])
				if !reflect.DeepEqual(g, w) || (gerr == nil) != (werr == nil) {
					t.Errorf("%s: %s in env %d = %v, %v; a fresh compile: %v, %v", o.name, src, i, g, gerr, w, werr)
				}
			}
		}
	}
	// The answers differ where the calendars do: proof the test can tell.
	a, _ := others[0].c.Compile(`hours("office")`, Condition)
	b, _ := others[3].c.Compile(`hours("office")`, Condition)
	if x, _ := Eval(a, &envs[1]); x != false {
		t.Errorf("hours(office) at 8:30 under mon-fri 9-17 = %v", x)
	}
	if x, _ := Eval(b, &envs[1]); x != true {
		t.Errorf("hours(office) at 8:30 under mon-fri 8-18 = %v", x)
	}
	// A name inside another word, or in a string, is not the variable:
	// the key may be more precise than needed, never less.
	c := &Compiler{Cal: first.Cal, Vars: map[string]bool{"n": true, "nn": true}}
	if _, vars := c.scope(`nn + n + len("n") + nnn`); vars != "n\x00nn" {
		t.Errorf("scope: variables %q", vars)
	}
}

// TestCacheCompiledErrorsAreCopies: a kept error reaches each caller as
// its own value, so that one caller's adjustment (the compiler moves an
// error to the operand at fault) is not the next one's message.
func TestCacheCompiledErrorsAreCopies(t *testing.T) {
	defer CacheCompiled(CacheCompiled(100))
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
	defer CacheCompiled(CacheCompiled(4))
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
