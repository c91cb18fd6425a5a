package main

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/server"
)

// flowc contacts set changes one contact; flowc contacts shows it back.
func TestContactsSet(t *testing.T) {
	a := startAdminServer(t, "../../examples", server.Config{})
	code, out, errOut := a.flowc("contacts", "set", "+15557654321", "owner=bob", "tags=gold, vip", "field.plan=pro")
	if code != exitOK {
		t.Fatalf("set: %d %s %s", code, out, errOut)
	}
	want := "+15557654321\n  name:  Ann\n  owner: bob\n  tags:  gold, vip\n  field plan = pro\n"
	if out != want {
		t.Fatalf("set printed:\n%s\nwant:\n%s", out, want)
	}
	if code, out, _ = a.flowc("contacts", "set", "+15557654321", "field.plan="); code != exitOK || strings.Contains(out, "plan") {
		t.Fatalf("removing a field: %d %s", code, out)
	}
	if code, out, _ = a.flowc("contacts", "+15557654321"); code != exitOK || !strings.Contains(out, "owner: bob") {
		t.Fatalf("get: %d %s", code, out)
	}
	if code, _, errOut = a.flowc("contacts", "set", "+15557654321", "colour=red"); code != exitUsage || !strings.Contains(errOut, `unknown key "colour"`) {
		t.Fatalf("bad key: %d %s", code, errOut)
	}
	if code, _, errOut = a.flowc("contacts", "set", "15557654321", "name=x"); code == exitOK || !strings.Contains(errOut, "E.164") {
		t.Fatalf("bad number: %d %s", code, errOut)
	}
}
