package runtime

import (
	"errors"
	"strings"
	"testing"

	"github.com/expr-lang/expr/file"
)

// Every expr-lang message format flowc users meet, as expr writes it and
// as flowc says it: no Go type, no token name.
func TestCompileMessagesInFlowcWords(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`unexpected token Operator("=")`, "unexpected `=`: to compare, write `==`"},
		{`unexpected token Operator("/")`, "unexpected `/`"},
		{`unexpected token Bracket(")")`, "unexpected `)`"},
		{`unexpected token Identifier("and")`, "unexpected name `and`"},
		{`unexpected token Number("2")`, "unexpected number 2"},
		{`unexpected token String("x")`, "unexpected string"},
		{`unexpected token EOF`, "the expression ends too early: an operand or a closing bracket is missing"},
		{`expected bool, but got *string`, "a condition must be true or false (bool), but this is a string"},
		{`expected bool, but got map[string]interface {}`, "a condition must be true or false (bool), but this is a map"},
		{`expected bool, but got int`, "a condition must be true or false (bool), but this is a number"},
		{`invalid operation: + (mismatched types string and int)`, "cannot use `+` between a string and a number"},
		{`invalid operation: > (mismatched types time.Time and float64)`, "cannot use `>` between a time and a number"},
		{`invalid operation: + (mismatched types runtime.Message and int)`, "cannot use `+` between message and a number"},
		{`invalid operation: == (mismatched types []string and <nil>)`, "cannot use `==` between a list and nil (unset)"},
		{`invalid operation: ! (mismatched type string)`, "cannot use `!` on a string"},
		{`type runtime.Contact has no field nam`, "contact has no field nam"},
		{`type string has no field x`, "a string has no field x"},
		{`type string has no method foo`, "a string has no function foo"},
		{`cannot use int as argument (type string) to call upper `, "upper() needs a string here, not a number"},
		{`invalid argument for len (type int)`, "len() needs a string, list or map, not a number"},
		{`invalid number of arguments (expected 1, got 0)`, "wrong number of arguments: this function takes 1, not 0"},
		{`string is not callable`, "a string is not a function"},
		{`literal not terminated`, "unterminated string: the closing quote is missing"},
		{`unrecognized character: U+0040 '@'`, "`@` cannot appear in an expression"},
		{`unrecognized character: U+2018 '‘'`, "`‘` is a curly quote: strings in an expression take straight quotes, ' or \""},
		{`unrecognized character: U+201C '“'`, "`“` is a curly quote: strings in an expression take straight quotes, ' or \""},
		{`unknown name foo`, "unknown name foo"},
		{`unknown name __flowc_len`, "unknown name len"},
		{`unknown name int`, "unknown name int"},
		{`hours("int"): unknown day`, `hours("int"): unknown day`},
	} {
		if got := CompileMessage(tc.expr); got != tc.want {
			t.Errorf("CompileMessage(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestEvalMessagesInFlowcWords(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`invalid operation: string > int`, "cannot use `>` between a string and a number"},
		{`invalid operation: <nil> + int`, "cannot use `+` between nil (unset) and a number"},
		{`invalid operation: []interface {} > int`, "cannot use `>` between a list and a number"},
		{`cannot fetch a from <nil>`, "cannot read a of nil (unset)"},
		{`invalid argument for len (type <nil>)`, "len() needs a string, list or map, not nil (unset)"},
		{`index out of range: 5 (array length is 1)`, "index 5 is out of range: the list's length is 1"},
		{`interface conversion: interface {} is string, not bool`, "expected a bool, but this is a string"},
		{`interface conversion: interface {} is nil, not string`, "expected a string, but this is nil (unset)"},
		{`reflect: call of reflect.Value.Len on zero Value`, "a list function got nil (unset) where it needs a list"},
		{`invalid operation: int(string)`, "int() needs a number or a string of digits, not a string"},
		{`invalid operation: int([]interface {})`, "int() needs a number or a string of digits, not a list"},
		{`invalid operation: int(abc)`, `int() cannot read "abc" as a number`},
		{`invalid operation: float(12 apples)`, `float() cannot read "12 apples" as a number`},
		{`invalid operation: int()`, "int() cannot convert this value to a number"},
	} {
		if got := EvalMessage(tc.expr); got != tc.want {
			t.Errorf("EvalMessage(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// The real compiler's messages carry no Go type names.
func TestCompileErrorsNameFlowcTypes(t *testing.T) {
	c := &Compiler{Cal: &Calendar{}, Vars: map[string]bool{"xs": true}}
	for _, src := range []string{`contact.name`, `contact`, `contact.nam`, `message + 1`, `now + 1`, `media + 1`, `body = "x"`, `upper(1)`, `contact.fields`} {
		_, err := c.Compile(src, Condition)
		if err == nil {
			t.Fatalf("%s: compiled", src)
		}
		for _, leak := range []string{"*string", "interface {}", "runtime.", "time.Time", "int", "Operator(", "[]string"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("%s: %q leaks %q", src, err, leak)
			}
		}
	}
}

// An expression on an unset variable names the variable, not reflect.
func TestEvalOnUnsetVariableNamesIt(t *testing.T) {
	c := &Compiler{Cal: &Calendar{}, Vars: map[string]bool{"xs": true, "n": true}}
	for _, tc := range []struct{ src, want string }{
		{`all(xs, # > 0)`, "xs is nil (unset): all() needs a list"},
		{`count(xs, # > 1) > 0`, "xs is nil (unset): count() needs a list"},
		{`len(xs) > 0`, "xs is nil (unset): len() needs a string, list or map"},
		{`n > 1`, "n is nil (unset): cannot use `>` between nil and a number"},
		{`xs[0] == 1`, "xs is nil (unset): cannot read 0 of nil"},
	} {
		p, err := c.Compile(tc.src, Condition)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		_, err = Eval(p, &Env{Vars: map[string]any{"xs": nil}})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %q", tc.src, err, tc.want)
		}
	}
	// A set variable of the wrong type is not called unset.
	p, _ := c.Compile(`all(xs, # > 0)`, Condition)
	_, err := Eval(p, &Env{Vars: map[string]any{"xs": []any{"a"}}})
	if err == nil || err.Error() != "cannot use `>` between a string and a number: `#` is text: compare its length, len(#), or the number it spells, int(#)" {
		t.Errorf("xs of strings: %v", err)
	}
}

// The operand a string-and-number error is about, and the advice.
func TestWrongOperand(t *testing.T) {
	c := &Compiler{Vars: map[string]bool{"n": true, "order": true}}
	for _, tc := range []struct{ src, operand, advice string }{
		{"body > 100", "body", "compare its length, len(body), or the number it spells, int(body)"},
		{"100 < body", "body", "len(body)"},
		{"contact.name > 3", "contact.name", "len(contact.name)"},
		{"len(body) > 3 && trim(body) >= 40", "trim(body)", "int(trim(body))"},
		{"body == 1", "1", "`body` is text: compare it with the text \"1\""},
		{"2.5 != body", "2.5", `the text "2.5"`},
		{"message.segments == 'two'", "'two'", "`message.segments` is a number: write the number without quotes"},
		{"message.segments != '3'", "'3'", "write 3, without quotes"},
		{"'5' < message.segments", "'5'", "write 5, without quotes"},
		{"body == message.segments", "message.segments", "compare it with text, string(message.segments)"},
		{"'Order ' + 5 == body", "5", "string(5)"},
		{"'Order ' + message.segments == body", "message.segments", "string(message.segments)"},
		{"body + 1 == 2", "body", "read it as a number with int(body)"},
		{"body - 1 > 0", "body", "read it as a number with int(body)"},
	} {
		_, err := c.Compile(tc.src, Condition)
		fe, ok := err.(*file.Error)
		if !ok {
			t.Errorf("%q: compiled (%v), want a type error", tc.src, err)
			continue
		}
		from, to, advice, ok := WrongOperand(tc.src, fe.Message, fe.From)
		if !ok {
			t.Errorf("%q: %q at %d not recognised", tc.src, fe.Message, fe.From)
			continue
		}
		if got := string([]rune(tc.src)[from:to]); got != tc.operand || !strings.Contains(advice, tc.advice) {
			t.Errorf("%q: operand %q, advice %q; want %q and advice with %q", tc.src, got, advice, tc.operand, tc.advice)
		}
	}
	for _, msg := range []string{"cannot use `>` between a list and a number", "unknown name x", "cannot use `>` between a string and a string"} {
		if _, _, _, ok := WrongOperand("body > 1", msg, 5); ok {
			t.Errorf("%q: recognised", msg)
		}
	}
}

// At run time too (an ask's answer is a string only then), the error
// points at the operand and says what to write.
func TestWrongOperandAtRunTime(t *testing.T) {
	c := &Compiler{Vars: map[string]bool{"order": true}}
	p, err := c.Compile("order > 100", Condition)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Eval(p, &Env{Vars: map[string]any{"order": "12345"}})
	var ee *ExprError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want an *ExprError", err)
	}
	if ee.From != 0 || !strings.Contains(ee.Msg, "between a string and a number: `order` is text") || !strings.Contains(ee.Msg, "int(order)") {
		t.Errorf("got %q at %d", ee.Msg, ee.From)
	}
}

// WrongOperand never panics and returns a range inside src, whatever the
// expression and offset.
func FuzzWrongOperand(f *testing.F) {
	for _, s := range []string{"body > 100", "'a' + 1 == 'b'", "len(body) > '5'", "(body) > 3", "trim(body, 'x') >= 4", "‘x’ > 1"} {
		f.Add(s, 5)
	}
	msgs := []string{"cannot use `>` between a string and a number", "cannot use `==` between a number and a string", "cannot use `+` between a string and a number"}
	f.Fuzz(func(t *testing.T, src string, from int) {
		for _, msg := range msgs {
			a, b, _, ok := WrongOperand(src, msg, from)
			if ok && (a < 0 || b > len([]rune(src)) || a >= b) {
				t.Fatalf("WrongOperand(%q, %q, %d) = %d, %d", src, msg, from, a, b)
			}
		}
	})
}
