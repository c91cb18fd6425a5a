package vm

import (
	"reflect"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime"
)

// TestFillEnvOverwritesEveryField: the expression environment is pooled,
// so fillEnv must overwrite every field the last event left (another
// contact's message, name and variables). Every field is set to junk by
// reflection first; after fillEnv the env must be exactly the one a
// fresh literal gives, for a message with every field set and for an
// empty one. A field added to runtime.Env that fillEnv misses fails it.
func TestFillEnvOverwritesEveryField(t *testing.T) {
	name := "Ann"
	b := &runtime.Budget{}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, msg := range []Message{
		{ID: "SM1", From: "+1555", To: "+1666", Body: "Hi there", Media: []string{"m"}, AccountSID: "AC1", MessagingServiceSID: "MG1",
			Segments: 2, MediaTypes: []string{"image/png"}, FromCity: "Oslo", FromState: "OS", FromCountry: "NO", FromZip: "0150"},
		{},
	} {
		contact := runtime.Contact{Known: msg.From != "", Name: &name}
		vars := map[string]any{"x": 1.0}
		want := runtime.Env{Body: msg.Body, From: msg.From, To: msg.To, Keyword: runtime.Keyword(msg.Body), Media: msg.Media,
			Contact: contact, Vars: vars, Now: now, Budget: b,
			Message: runtime.Message{SID: msg.ID, AccountSID: msg.AccountSID, MessagingServiceSID: msg.MessagingServiceSID,
				Segments: msg.Segments, MediaTypes: msg.MediaTypes,
				FromCity: msg.FromCity, FromState: msg.FromState, FromCountry: msg.FromCountry, FromZip: msg.FromZip}}
		var got runtime.Env
		junk(t, reflect.ValueOf(&got).Elem())
		fillEnv(&got, &msg, runtime.Keyword(msg.Body), contact, vars, now, b)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fillEnv left stale fields:\n%+v\nwant\n%+v", got, want)
		}
	}
}

// junk sets every settable field of v to a non-zero value.
func junk(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				junk(t, v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("stale")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(99)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Func:
		v.Set(reflect.MakeFunc(v.Type(), func(args []reflect.Value) []reflect.Value {
			out := make([]reflect.Value, v.Type().NumOut())
			for i := range out {
				out[i] = reflect.Zero(v.Type().Out(i))
			}
			return out
		}))
	default:
		t.Fatalf("junk: no junk for a %s", v.Type())
	}
}
