package runtime

import (
	"reflect"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/schedule"
)

// TestNativeFormsAgreeWithExpr: every expression with a native form
// (native.go) gives, in every environment, exactly what expr's compiled
// program gives: the same value of the same type, or the same error.
// The shapes that have none are listed too, so that a change to the
// matcher that takes one of them over shows up here.
func TestNativeFormsAgreeWithExpr(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	office, err := schedule.Parse("mon-fri 8-18")
	if err != nil {
		t.Fatal(err)
	}
	holidays, err := schedule.ParseHolidays([]string{"2026-12-25"})
	if err != nil {
		t.Fatal(err)
	}
	cal := &Calendar{Location: ny, Holidays: holidays, Schedules: map[string]*schedule.Schedule{"office": office}}
	c := &Compiler{Cal: cal, Vars: map[string]bool{"order": true, "n": true, "items": true, "none": true}}

	native := map[string]ExprKind{
		`hours("9-5")`: Condition, `hours("office")`: Condition, `hours("sat-sun 00:00-24:00")`: Value, `holiday()`: Condition,
		`body`: Text, `from`: Text, `to`: Value, `keyword`: Text, `body ?? "x"`: Text,
		`contact.name`: Text, `contact.owner`: Value, `contact.name ?? 'there'`: Text, `contact["name"] ?? "you"`: Text,
		`contact.owner ?? "nobody"`: Value, `contact.fields.city`: Text,
		`contact.last_texted_by`: Value, `contact.last_called_by ?? "x"`: Text, `contact.fields.city ?? 'nowhere'`: Text,
		`message.sid`: Text, `message.from_city ?? "?"`: Text, `message.messaging_service_sid`: Value,
		`order`: Text, `order ?? "none yet"`: Text, `vars.order`: Value,
		`n`: Value, `items`: Text, `items ?? "none"`: Text, `none ?? "fallback"`: Text, `vars.missing ?? "m"`: Text,
	}
	notNative := map[string]ExprKind{
		`contact?.name ?? "x"`: Text, `hours(body)`: Condition, `body + "x"`: Text, `"vip" in contact.tags`: Condition,
		`contact.name ?? body`: Text, `contact`: Value, `contact.fields`: Value, `message.segments`: Value,
		`now`: Value, `n ?? 1`: Value, `hours("9-5") && holiday()`: Condition, `vars["a.b"]`: Value, `$env.body`: Text,
		`(vars["n"] ?? 0) == 0 ? "a" : "b"`: Text,
		`number.backup_email`:               Value, `contact.last_interaction?.user`: Value,
	}

	name, owner, city := "Ann", "", "Oslo"
	envs := []Env{
		{},
		{Body: " Yes, 2! ", From: "+15557654321", To: "+15550100", Keyword: "yes", Now: time.Date(2026, 11, 23, 10, 0, 0, 0, ny),
			Contact: Contact{Known: true, Name: &name, Owner: &owner, Fields: map[string]*string{"city": &city, "zone": nil}, Tags: []string{"vip"},
				LastTextedBy: &name, LastCalledBy: &city},
			Vars:    map[string]any{"order": "A-17", "n": 3.0, "items": []any{"a", 1.0}, "none": nil},
			Message: Message{SID: "SM1", FromCity: "Boston", MessagingServiceSID: "MG1"}},
		{Body: "hi", Now: time.Date(2026, 12, 25, 11, 0, 0, 0, time.UTC), Vars: map[string]any{}},
		{Body: "hi", Now: time.Date(2026, 11, 28, 23, 30, 0, 0, time.UTC), Contact: Contact{Known: true}},
	}
	check := func(src string, kind ExprKind, wantNative bool) {
		t.Helper()
		ce, err := c.Compile(src, kind)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if (ce.native != nil) != wantNative {
			t.Fatalf("%s: native form %v, want %v", src, ce.native != nil, wantNative)
		}
		viaExpr := *ce
		viaExpr.native = nil
		for i, env := range envs {
			env.Budget = NewBudget()
			got, gotErr := Eval(ce, &env)
			env.Budget = NewBudget()
			want, wantErr := Eval(&viaExpr, &env)
			if !reflect.DeepEqual(got, want) || reflect.TypeOf(got) != reflect.TypeOf(want) || (gotErr == nil) != (wantErr == nil) ||
				gotErr != nil && gotErr.Error() != wantErr.Error() {
				t.Errorf("%s in env %d: %#v, %v; expr gives %#v, %v", src, i, got, gotErr, want, wantErr)
			}
			nb := NewBudget()
			gotN, isNative, gotErr := EvalNative(ce, &env, nb)
			if isNative != wantNative || isNative && (!reflect.DeepEqual(gotN, want) || (gotErr == nil) != (wantErr == nil)) {
				t.Errorf("%s in env %d: EvalNative gives %#v, %v, %v; expr gives %#v, %v", src, i, gotN, isNative, gotErr, want, wantErr)
			}
			if isNative && ce.native.op != nativeVar {
				// EvalNative skips checkResult for these: it must have
				// nothing to say about their values.
				if err := checkResult(ce.Kind, gotN, NewBudget()); err != nil || gotN != nil && reflect.TypeOf(gotN).Kind() != reflect.Bool && reflect.TypeOf(gotN).Kind() != reflect.String {
					t.Errorf("%s in env %d: native value %#v (checkResult: %v), want a bool, a string or nil", src, i, gotN, err)
				}
			}
			if isNative {
				nt, _, _ := EvalNativeText(ce, &env, nb)
				env.Budget = NewBudget()
				if wt, _ := EvalText(&viaExpr, &env); nt != wt {
					t.Errorf("%s in env %d: EvalNativeText renders %q, expr's value %q", src, i, nt, wt)
				}
			}
			env.Budget = NewBudget()
			gotText, gotErr := EvalText(ce, &env)
			env.Budget = NewBudget()
			wantText, wantErr := EvalText(&viaExpr, &env)
			if gotText != wantText || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("%s in env %d renders %q, %v; expr's value renders %q, %v", src, i, gotText, gotErr, wantText, wantErr)
			}
		}
	}
	for src, kind := range native {
		check(src, kind, true)
	}
	for src, kind := range notNative {
		check(src, kind, false)
	}
}
