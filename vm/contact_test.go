package vm_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/runtime/applet"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

const contactFrom = "+15557654321"

// The contact of these tests, as the directory (and a .flowtest) gives
// it: a blank field counts as missing.
func ann() runtime.Contact {
	return runtime.KnownContact("Ann", "carol", []string{"vip", "wholesale"}, map[string]string{"city": "Oslo", "zone": ""})
}

func contactEnv(c runtime.Contact, applets sim.AppletFunc) *sim.Env {
	return &sim.Env{Clock: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		Contacts: map[string]runtime.Contact{contactFrom: c}, Applets: applets}
}

func replies(res *vm.Result) []string {
	var out []string
	for _, a := range res.Actions {
		if a.Kind == vm.ActReply {
			out = append(out, a.Text)
		}
	}
	return out
}

const contactVarsFlow = `flow f
numbers "+15550100"
set owner = contact.owner
set city = contact.fields.city ?? "nowhere"
set zone = contact.fields.zone ?? "none"
menu "Hi {{contact.name ?? 'there'}}, reply 1" <
  1 -> reply "owner={{owner ?? 'nobody'}} city={{city}} zone={{zone}} fields={{contact.fields}} tags={{contact.tags}}"
>
`

// TestContactVariablesSurviveStoredState: variables set from contact
// data are plain strings (nil when missing) in the state the server
// stores as JSON, and read back the same after the round trip.
func TestContactVariablesSurviveStoredState(t *testing.T) {
	p := compileFlow(t, contactVarsFlow)
	for _, c := range []struct {
		name     string
		contact  runtime.Contact
		vars     map[string]any
		greeting string
		reply    string
	}{
		{"known", ann(), map[string]any{"owner": "carol", "city": "Oslo", "zone": "none"},
			"Hi Ann, reply 1", `owner=carol city=Oslo zone=none fields={"city":"Oslo"} tags=vip, wholesale`},
		{"unknown", runtime.Contact{}, map[string]any{"owner": nil, "city": "nowhere", "zone": "none"},
			"Hi there, reply 1", `owner=nobody city=nowhere zone=none fields={} tags=`},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := contactEnv(c.contact, nil)
			res := send(t, p, env, vm.Options{}, "hi")
			if got := replies(res); len(got) != 1 || got[0] != c.greeting {
				t.Fatalf("replies %q, want %q (errors %v)", got, c.greeting, res.Errors)
			}
			if res.State == nil {
				t.Fatal("no state at the menu")
			}
			if !reflect.DeepEqual(res.State.Vars, c.vars) {
				t.Fatalf("vars %#v, want %#v", res.State.Vars, c.vars)
			}
			b, err := json.Marshal(res.State)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "0x") {
				t.Errorf("stored state holds a pointer: %s", b)
			}
			var st vm.State
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(st.Vars, c.vars) {
				t.Fatalf("vars after JSON %#v, want %#v", st.Vars, c.vars)
			}
			out, err := vm.Run(context.Background(), p, &st, vm.Event{Message: vm.Message{From: contactFrom, To: "+15550100", Body: "1"}}, env, vm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := replies(out); len(got) != 1 || got[0] != c.reply || len(out.Errors) != 0 {
				t.Errorf("after resume: replies %q, errors %v; want %q", got, out.Errors, c.reply)
			}
		})
	}
}

// compileWithApplets is compileFlow with real applet sources.
func compileWithApplets(t *testing.T, src string, applets map[string]string) *vm.Program {
	t.Helper()
	dir := t.TempDir()
	for name, js := range applets {
		if err := os.WriteFile(filepath.Join(dir, name+".js"), []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "f.flow")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	if all.HasErrors() || len(progs) != 1 {
		t.Fatalf("does not compile: %v", all.Err())
	}
	return progs[0]
}

// realApplets runs applets in the sandbox the server uses, so that an
// input the sandbox rejects (a Go pointer) fails the call as it would
// in production.
func realApplets(t *testing.T) sim.AppletFunc {
	r := applet.NewFresh(applet.Limits{})
	t.Cleanup(func() { r.Close() })
	return func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
		sc, err := applet.Compile(a.Name, a.Path, a.Source)
		if err != nil {
			return nil, err
		}
		return r.Call(ctx, sc, applet.Input{Message: in.Message, Contact: in.Contact, Vars: in.Vars, Args: in.Args, Now: in.Now, Seed: in.Seed})
	}
}

const echoApplet = `function main(ctx) {
  return JSON.stringify({args: ctx.args, contact: ctx.contact});
}
`

// TestContactDataReachesApplets: contact data passed as run arguments
// (a field, the owner, the whole contact, a missing field) and
// ctx.contact, fields included, arrive in the applet as plain values.
func TestContactDataReachesApplets(t *testing.T) {
	p := compileWithApplets(t, `flow f
numbers "+15550100"
applet echo = "echo.js"
run echo(contact.owner, contact.name, contact.fields.city, contact.fields.zone, contact.tags, contact.fields, contact) as got < on error -> reply "applet failed" >
reply "{{got}}"
`, map[string]string{"echo": echoApplet})
	whole := `{"fields":{"city":"Oslo"},"known":true,"name":"Ann","owner":"carol","tags":["vip","wholesale"]}`
	noOne := `{"fields":{},"known":false,"name":null,"owner":null,"tags":[]}`
	for _, c := range []struct {
		name    string
		contact runtime.Contact
		want    string
	}{
		{"known", ann(), `{"args":["carol","Ann","Oslo",null,["vip","wholesale"],{"city":"Oslo"},` + whole + `],"contact":` + whole + `}`},
		{"unknown", runtime.Contact{}, `{"args":[null,null,null,null,[],{},` + noOne + `],"contact":` + noOne + `}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := send(t, p, contactEnv(c.contact, realApplets(t)), vm.Options{}, "hi")
			if got := replies(res); len(got) != 1 || got[0] != c.want || len(res.Errors) != 0 {
				t.Errorf("replies %q, errors %v\nwant %s", got, res.Errors, c.want)
			}
		})
	}
}

// TestContactFieldFallsThrough: `contact.fields.x ?? y` takes y for a
// field the contact does not have, in a condition as in a template.
func TestContactFieldFallsThrough(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
when (contact.fields.zone ?? "") == "" < reply "no zone, {{contact.fields.zone ?? 'default'}} it is" >
else reply "zone {{contact.fields.zone}}"
`)
	for _, c := range []struct {
		contact runtime.Contact
		want    string
	}{
		{ann(), "no zone, default it is"}, // "zone": "" in the directory
		{runtime.Contact{}, "no zone, default it is"},
		{runtime.KnownContact("", "", nil, map[string]string{"zone": "east"}), "zone east"},
	} {
		res := send(t, p, contactEnv(c.contact, nil), vm.Options{}, "hi")
		if got := replies(res); len(got) != 1 || got[0] != c.want {
			t.Errorf("%+v: replies %q, errors %v; want %q", c.contact, got, res.Errors, c.want)
		}
	}
}
