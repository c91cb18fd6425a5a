package runtime

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// containsPointer reports whether v holds a Go pointer or a Contact
// anywhere: what must never leave an expression.
func containsPointer(v any) bool {
	var walk func(reflect.Value) bool
	walk = func(rv reflect.Value) bool {
		switch rv.Kind() {
		case reflect.Pointer, reflect.Struct:
			return rv.Type() != reflect.TypeOf(time.Time{})
		case reflect.Interface:
			return !rv.IsNil() && walk(rv.Elem())
		case reflect.Slice:
			for i := 0; i < rv.Len(); i++ {
				if walk(rv.Index(i)) {
					return true
				}
			}
		case reflect.Map:
			for it := rv.MapRange(); it.Next(); {
				if walk(it.Value()) {
					return true
				}
			}
		}
		return false
	}
	return v != nil && walk(reflect.ValueOf(v))
}

func contactEnv() (known, unknown *Env) {
	known = &Env{Contact: KnownContact("Ann", "carol", []string{"vip"}, map[string]string{"city": "Oslo", "blank": ""})}
	unknown = &Env{Contact: Contact{Tags: []string{"optin"}}}
	return known, unknown
}

func evalValue(t *testing.T, src string, env *Env) any {
	t.Helper()
	c := newCompiler(t)
	p, err := c.Compile(src, Value)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	v, err := Eval(p, env)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return v
}

// A value read from the contact is a plain string, list or map, and a
// missing one is nil, however the expression gets at it.
func TestContactValuesArePlain(t *testing.T) {
	known, unknown := contactEnv()
	fields := map[string]any{"city": "Oslo"}
	whole := map[string]any{"known": true, "name": "Ann", "owner": "carol", "tags": []string{"vip"}, "fields": fields}
	for _, tc := range []struct {
		src            string
		known, unknown any
	}{
		{`contact.name`, "Ann", nil},
		{`contact.owner`, "carol", nil},
		{`contact["owner"]`, "carol", nil},
		{`contact?.owner`, "carol", nil},
		{`contact.fields.city`, "Oslo", nil},
		{`contact.fields["city"]`, "Oslo", nil},
		{`contact.fields.missing`, nil, nil},
		{`contact.fields.blank`, nil, nil}, // a blank directory field counts as missing
		{`contact.fields`, fields, map[string]any{}},
		{`[contact.owner, contact.name]`, []any{"carol", "Ann"}, []any{nil, nil}},
		{`{"o": contact.owner}`, map[string]any{"o": "carol"}, map[string]any{"o": nil}},
		{`values(contact.fields)`, []any{"Oslo"}, []any{}},
		{`contact`, whole, map[string]any{"known": false, "name": nil, "owner": nil, "tags": []string{"optin"}, "fields": map[string]any{}}},
		{`let c = contact; c.owner`, "carol", nil},
		{`map([contact], #.name)`, []any{"Ann"}, []any{nil}},
		{`contact.tags`, []string{"vip"}, []string{"optin"}},
	} {
		for _, side := range []struct {
			env  *Env
			want any
		}{{known, tc.known}, {unknown, tc.unknown}} {
			got := evalValue(t, tc.src, side.env)
			if containsPointer(got) {
				t.Errorf("%s (known=%v) = %#v: holds a pointer", tc.src, side.env.Contact.Known, got)
			} else if !reflect.DeepEqual(got, side.want) {
				t.Errorf("%s (known=%v) = %#v, want %#v", tc.src, side.env.Contact.Known, got, side.want)
			}
		}
	}
}

// ?? falls through for every missing value, a blank field included.
func TestContactMissingValuesFallThrough(t *testing.T) {
	known, unknown := contactEnv()
	for src, want := range map[string][2]any{
		`contact.name ?? "there"`:          {"Ann", "there"},
		`contact.owner ?? "nobody"`:        {"carol", "nobody"},
		`contact.fields.city ?? "nowhere"`: {"Oslo", "nowhere"},
		`contact.fields.x ?? "y"`:          {"y", "y"},
		`contact.fields.blank ?? "y"`:      {"y", "y"},
		`contact.owner == nil`:             {false, true},
		`contact.fields.x == nil`:          {true, true},
		`contact.name == "Ann"`:            {true, false},
		`upper(contact.name ?? "x")`:       {"ANN", "X"},
	} {
		if got := evalValue(t, src, known); got != want[0] {
			t.Errorf("%s (known) = %#v, want %#v", src, got, want[0])
		}
		if got := evalValue(t, src, unknown); got != want[1] {
			t.Errorf("%s (unknown) = %#v, want %#v", src, got, want[1])
		}
	}
}

// The checker still types contact data: a misuse is a compile error,
// not a failure on the first message.
func TestContactStillTypeChecks(t *testing.T) {
	c := newCompiler(t)
	for _, src := range []string{`contact.tags + 1`, `contact.name + 1`, `contact.fields.city + 1`, `contact.nmae`, `contact.known + "x"`} {
		if _, err := c.Compile(src, Value); err == nil {
			t.Errorf("%s compiled; want a type error", src)
		}
	}
	for _, src := range []string{`contact.name ?? 'there'`, `"Hi " + (contact.name ?? "there")`, `"vip" in contact.tags`, `len(contact.fields) > 0`} {
		if _, err := c.Compile(src, Value); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// A variable holding contact data survives the JSON round trip of a
// stored conversation unchanged.
func TestContactValueJSONRoundTrip(t *testing.T) {
	known, _ := contactEnv()
	v := evalValue(t, `contact`, known)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"fields":{"city":"Oslo"},"known":true,"name":"Ann","owner":"carol","tags":["vip"]}`
	if string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
}

func TestRenderCollections(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, ""},
		{"Ann", "Ann"},
		{float64(3), "3"},
		{2.5, "2.5"},
		{[]string{"vip", "wholesale"}, "vip, wholesale"},
		{[]any{"a", float64(1), nil, true}, "a, 1, , true"},
		{[]any{}, ""},
		{[]int{1, 2, 3}, "1, 2, 3"},
		{[]any{at}, "Mon Nov 23 10:05"},
		{map[string]any{"city": "Oslo", "age": float64(3)}, `{"age":3,"city":"Oslo"}`},
		{map[string]any{"q": "a<b & c"}, `{"q":"a<b & c"}`},
		{[]any{[]any{"a", "b"}, map[string]any{"k": "v"}}, `["a","b"], {"k":"v"}`},
		{Contact{Known: true, Name: Str("Ann")}, `{"fields":{},"known":true,"name":"Ann","owner":null,"tags":[]}`},
	} {
		got := Render(tc.v)
		if got != tc.want {
			t.Errorf("Render(%#v) = %q, want %q", tc.v, got, tc.want)
		}
		if strings.Contains(got, "map[") || strings.Contains(got, "0x") {
			t.Errorf("Render(%#v) = %q: Go syntax", tc.v, got)
		}
	}
}

// A template of contact data prints what a person would write.
func TestRenderContactTemplates(t *testing.T) {
	known, unknown := contactEnv()
	c := newCompiler(t)
	for src, want := range map[string][2]string{
		`contact.owner`:       {"carol", ""},
		`contact.fields`:      {`{"city":"Oslo"}`, "{}"},
		`contact.tags`:        {"vip", "optin"},
		`contact.fields.city`: {"Oslo", ""},
	} {
		p, err := c.Compile(src, Text)
		if err != nil {
			t.Fatal(err)
		}
		for i, env := range []*Env{known, unknown} {
			v, err := Eval(p, env)
			if err != nil {
				t.Fatal(err)
			}
			if got := Render(v); got != want[i] {
				t.Errorf("{%s} (known=%v) renders %q, want %q", src, env.Contact.Known, got, want[i])
			}
		}
	}
}

// `$env` as a whole value is the Go environment, pointers and budget
// included: a compile error, while reading one of its members is not.
func TestBareEnvIsRejected(t *testing.T) {
	c := newCompiler(t)
	for _, src := range []string{`$env`, `toJSON($env)`, `[$env]`, `$env == nil`} {
		_, err := c.Compile(src, Value)
		if err == nil || !strings.Contains(err.Error(), "$env is not a value") {
			t.Errorf("%s: err = %v, want $env rejected", src, err)
		}
	}
	known, _ := contactEnv()
	known.Body = "hi"
	if got := evalValue(t, `$env.body + " " + $env["contact"].owner`, known); got != "hi carol" {
		t.Errorf("$env members = %#v", got)
	}
}

// A type error on the whole contact names a map, not Go's map type.
func TestContactTypeErrorReadsAsMap(t *testing.T) {
	_, err := newCompiler(t).Compile(`contact + 1`, Value)
	if err == nil || !strings.Contains(err.Error(), "cannot use `+` between a map and a number") {
		t.Errorf("contact + 1: %v", err)
	}
}
