package runtime

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// exprInFlow finds the expressions of a flow file: conditions, set
// values, applet arguments and template parts.
var exprInFlow = regexp.MustCompile(`when (.*) <|set \w+ = (.*)|run \w+\((.*)\) as|\{\{(.*?)\}\}`)

// FuzzEval is "expression evaluation under the budget": any source that
// compiles against Env must evaluate without panicking, without running
// past the step budget and without allocating much more than the
// memory bounds allow.
func FuzzEval(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.flow")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range exprInFlow.FindAllStringSubmatch(string(src), -1) {
			for _, g := range m[1:] {
				if g != "" {
					f.Add(g)
				}
			}
		}
	}
	for _, s := range []string{
		`all(xs, all(xs, all(xs, true)))`, `repeat(body, 90000)`, `let a = body + body; a + a`,
		`replace(body, "", body)`, `join(map(xs, body), body)`, `toJSON(map(xs, xs))`, `flatten(map(xs, xs))`,
		`reduce(xs, #acc + string(#), "")`, `sortBy(xs, -#)`, `groupBy(xs, # % 7)`, `count(xs, # in xs)`,
		`upper(contact.name ?? "there") + " " + from`, `hours("9-5") && contact.known`, `n + 1 > 2`,
	} {
		f.Add(s)
	}
	c := &Compiler{Cal: &Calendar{Location: time.UTC}, Vars: map[string]bool{"xs": true, "a": true, "n": true}}
	xs := make([]any, 2000)
	for i := range xs {
		xs[i] = i
	}
	name := "Ann"
	f.Fuzz(func(t *testing.T, src string) {
		p, err := c.Compile(src, Value)
		if err != nil {
			return
		}
		env := &Env{Body: strings.Repeat("Hello there ", 100), From: "+15557654321", Keyword: "hello", Media: []string{"http://x/1.jpg"},
			Contact: Contact{Known: true, Name: &name, Tags: []string{"vip"}, Fields: map[string]string{"city": "Oslo"}},
			Vars:    map[string]any{"xs": xs, "a": "ab", "n": 3}, Now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Budget: NewBudget()}
		start := time.Now()
		var v any
		n := allocated(func() { v, err = Eval(p, env) })
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%q took %v", src, d)
		}
		if env.Budget.Steps > 2*MaxEventSteps {
			t.Fatalf("%q charged %d steps", src, env.Budget.Steps)
		}
		if n > 64<<20 {
			t.Fatalf("%q allocated %d bytes", src, n)
		}
		if s, ok := v.(string); ok && len(s) > MaxString {
			t.Fatalf("%q built a %d-byte string", src, len(s))
		}
	})
}
