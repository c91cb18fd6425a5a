package vm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
)

// brokenDirectory is an Env whose contact look-up fails, counting the
// look-ups and the applet calls.
type brokenDirectory struct {
	lookups, applets, lists int
}

func (d *brokenDirectory) Now() time.Time { return time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) }
func (d *brokenDirectory) Contact(context.Context, string) (runtime.Contact, error) {
	d.lookups++
	return runtime.Contact{}, errors.New("directory down")
}
func (d *brokenDirectory) List(context.Context, string) (map[string]bool, error) {
	d.lists++
	return nil, errors.New("store down")
}
func (d *brokenDirectory) RunApplet(context.Context, *vm.Applet, vm.AppletInput) (any, error) {
	d.applets++
	return nil, nil
}

// TestContactLookedUpWhenRead: the contact is looked up once, when the
// first expression or applet that may read it runs. A failed look-up
// ends the run with the error, as before, before any applet is called;
// a flow that never reads the contact does not look it up.
func TestContactLookedUpWhenRead(t *testing.T) {
	ev := vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: "hi"}}
	for _, c := range []struct {
		name, src string
		applets   []string
		lookups   int
		fails     bool
	}{
		{"template", "flow f\nnumbers \"+15550100\"\nreply \"hi {{contact.name ?? 'there'}}\"\n", nil, 1, true},
		{"condition", "flow f\nnumbers \"+15550100\"\nwhen contact.known < reply \"a\" > else reply \"b\"\n", nil, 1, true},
		{"two reads, one look-up", "flow f\nnumbers \"+15550100\"\nreply \"{{contact.name ?? 'x'}} {{contact.owner ?? 'y'}}\"\n", nil, 1, true},
		{"applet", "flow f\nnumbers \"+15550100\"\napplet a = \"a.js\"\nrun a(body) < on error -> inbox team:x >\nreply \"done\"\n", []string{"a"}, 1, true},
		{"no contact read", "flow f\nnumbers \"+15550100\"\nwhen hours(\"9-5\") < reply \"open {{body}}\" > else reply \"closed\"\n", nil, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := compileFlow(t, c.src, c.applets...)
			d := &brokenDirectory{}
			res, err := vm.Run(context.Background(), p, nil, ev, d, vm.Options{Trace: true})
			if d.lookups != c.lookups {
				t.Errorf("%d look-ups, want %d", d.lookups, c.lookups)
			}
			if d.applets != 0 {
				t.Errorf("an applet was called although the contact could not be looked up")
			}
			if c.fails {
				if err == nil || !strings.Contains(err.Error(), "vm: contact lookup: directory down") || res != nil {
					t.Fatalf("got %v, %v; want the look-up's error and no result", res, err)
				}
				return
			}
			if err != nil || len(res.Actions) == 0 {
				t.Fatalf("got %v, %v", res, err)
			}
		})
	}
}

// TestKeywordReachesEveryReader: the keyword is computed when first
// needed (a menu reply that is not one word, an expression or applet
// that may read it); every reader sees it, whichever runs first: a
// template's native read, an expression run by expr's VM, an applet's
// ctx.message.keyword, after a business-hours check that does not need
// it and after a menu reply that did not compute it.
func TestKeywordReachesEveryReader(t *testing.T) {
	var seen []string
	env := returning(nil)
	env.Applets = func(_ context.Context, _ *vm.Applet, in vm.AppletInput) (any, error) {
		seen = append(seen, in.Message["keyword"].(string))
		return nil, nil
	}
	ev := func(body string) vm.Event {
		return vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: body}}
	}
	for _, c := range []struct {
		name, src, body string
		menu            bool // reply to the menu the flow starts with
		want            string
		applet          bool
	}{
		{"native read", "reply \"{{keyword}}\"\n", "Hello there", false, `reply "hello"`, false},
		{"after hours()", "when hours(\"9-5\") < reply \"{{keyword}}!\" > else reply \"closed\"\n", "OK then", false, `reply "ok!"`, false},
		{"expr's VM", "when keyword == \"yes\" < reply \"y\" > else reply \"n\"\n", "Yes, please", false, `reply "y"`, false},
		{"set", "set k = upper(keyword)\nreply \"{{k}}\"\n", "why?", false, `set k = "WHY"`, false},
		{"applet", "applet a = \"a.js\"\nrun a(body) < on error -> end >\nreply \"done\"\n", "Stop it", false, `reply "done"`, true},
		{"after a one-word menu reply", "menu \"pick\" <\n  1 -> reply \"{{keyword}} one\"\n  else -> reply \"other\"\n>\n", "(1)", true, `reply "1 one"`, false},
		{"after a menu reply by keyword", "menu \"pick\" <\n  1 -> reply \"{{keyword}} one\"\n  else -> reply \"other\"\n>\n", "1 please", true, `reply "1 one"`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var applets []string
			if c.applet {
				applets = []string{"a"}
			}
			p := compileFlow(t, "flow f\nnumbers \"+15550100\"\n"+c.src, applets...)
			var st *vm.State
			if c.menu {
				st = send(t, p, env, vm.Options{}, "hi").State
			}
			seen = nil
			res, err := vm.Run(context.Background(), p, st, ev(c.body), env, vm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(actions(res), "; "); !strings.Contains(got, c.want) {
				t.Errorf("%s, want %s", got, c.want)
			}
			if c.applet && (len(seen) != 1 || seen[0] != "stop") {
				t.Errorf("the applet saw keyword %q, want [stop]", seen)
			}
		})
	}
}

// TestListReadFailureEndsTheRun: a list that cannot be read ends the run
// with the error, as a failed contact look-up does (nothing is replied,
// delivered or forwarded); it is not a false that would let a blocked
// sender through.
func TestListReadFailureEndsTheRun(t *testing.T) {
	p := compileFlow(t, "flow f\nnumbers \"+15550100\"\nwhen from in list(\"blocked\") < reply \"blocked\" > else reply \"welcome\" then inbox team:x\n")
	d := &brokenDirectory{}
	res, err := vm.Run(context.Background(), p, nil, vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: "hi"}}, d, vm.Options{Trace: true})
	if d.lists != 1 {
		t.Errorf("%d list reads, want 1", d.lists)
	}
	if err == nil || !strings.Contains(err.Error(), `vm: list "blocked": store down`) || res != nil {
		t.Fatalf("run = %v, %v; want no result and the list's error", res, err)
	}
}
