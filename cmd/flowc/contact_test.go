package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// contactFlow reads contact data every way a flow can: into variables
// kept across a menu, as applet arguments, as the applet's ctx.contact,
// with ?? for missing values, and printed in templates.
const contactFlow = `flow contact
numbers "+15550100"
applet echo = "echo.js"
set owner = contact.owner
set zone = contact.fields.zone ?? "none"
run echo(contact.owner, contact.fields.city) as echoed < on error -> reply "applet failed" >
menu "Hi {{contact.name ?? 'there'}} [{{contact.tags}}] {{contact.fields}} {{echoed}}. Reply 1" <
  1 -> reply "owner {{owner ?? 'nobody'}}, zone {{zone}}"
>
`

const echoApplet = `function main(ctx) {
  return ctx.args.map(a => a === null ? "null" : a).join("/") + " city=" + (ctx.contact.fields.city || "none");
}
`

const contactScenario = `at 2026-11-23T10:00
from +15557654321

test "a directory contact's data is plain text"
  contact name "Ann" owner "carol" tags "vip", "wholesale" field city "Oslo"
  send "hi"
  expect var owner = "carol"
  expect var zone = "none"
  expect reply "Hi Ann [vip, wholesale] {\"city\":\"Oslo\"} carol/Oslo city=Oslo. Reply 1"
  expect wait
  send "1"
  expect reply "owner carol, zone none"
  expect end

test "an unknown contact's data is missing, not empty"
  send "hi"
  expect reply "Hi there [] {} null/null city=none. Reply 1"
  expect wait
  send "1"
  expect reply "owner nobody, zone none"
  expect end
`

// TestTestContactDataIsPlain runs contactFlow through flowc test, with
// its real applet: before contact data was plain, owner was a pointer
// (0x…), the applet call failed on it and the fields printed as map[…].
func TestTestContactDataIsPlain(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"contact.flow": contactFlow, "echo.js": echoApplet, "contact.flowtest": contactScenario} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := runFlowc(t, "test", dir)
	if code != exitOK || !strings.Contains(out, "PASS: 2/2") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}
