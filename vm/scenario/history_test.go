package scenario

import (
	"path/filepath"
	"strings"
	"testing"
)

// historyFlow answers with what it knows of the contact's past, so a
// test can see the history the simulator keeps.
const historyFlow = `flow f
numbers "+15550100"
when from in list("blocked") < end >
reply "texted={{contact.last_texted_by ?? '-'}} called={{contact.last_called_by ?? '-'}} in={{count(contact.interactions, .kind == 'sms' and .direction == 'inbound')}} out={{count(contact.interactions, .direction == 'outbound' and .user == nil and .campaign == nil)}} campaign={{contact.campaign?.name ?? '-'}}/{{contact.campaign?.reply_email ?? '-'}} backup={{number.backup_email ?? '-'}} last={{contact.last_interaction?.kind ?? '-'}}"
`

// TestFlowtestHistory: history lines give the contact a past, relative
// to the clock when they run; the simulator records the inbound texts
// and the flow's replies (outbound, without a user) as the server does,
// after the step, so the next message sees them; lists and the number's
// settings are the test's.
func TestFlowtestHistory(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"f.flow": historyFlow})
	runTests(t, dir, p, `at 2026-11-23T10:00
from +15557654321
number backup_email "desk@example.com"
list blocked "+15550001234"
called by carol 2d ago

test "the file's history, then the test's"
  texted by alice 2h ago
  call answered by bob 1h ago
  send "hi"
  expect reply "texted=alice called=bob in=0 out=0 campaign=-/- backup=desk@example.com last=call"
  send "again"
  expect reply "texted=alice called=bob in=1 out=1 campaign=-/- backup=desk@example.com last=sms"

test "history lines between messages"
  send "hi"
  expect reply "texted=- called=carol in=0 out=0 campaign=-/- backup=desk@example.com last=call"
  wait 1h
  campaign "spring" reply email "sales@example.com" 30m ago
  contact texted 10m ago
  send "hi"
  expect reply "texted=- called=carol in=2 out=1 campaign=spring/sales@example.com backup=desk@example.com last=sms"

test "a blocked number"
  from +15550001234
  send "hi"
  expect end
  expect nothing else
  list blocked "+15557654321"

test "lists grow inside a test"
  send "hi"
  expect reply ~ "^texted"
  list blocked "+15557654321"
  send "hi"
  expect end
  expect nothing else
`)
}

func TestFlowtestHistoryParseErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`texted by`, "want: texted by USER"},
		{`texted by alice 2h`, `unexpected "2h"`},
		{`called by bob 2x ago`, `unknown unit`},
		{`campaign spring reply user alice`, "want: texted by"},
		{`campaign "spring" reply email "nope"`, `campaign reply email "nope" is not an e-mail address`},
		{`campaign "spring" reply fax "x"`, "want: texted by"},
		{`list blocked`, "want: list NAME"},
		{`list "blocked" "+1"`, "want: list NAME"},
		{`number backup_email "not mail"`, `backup_email "not mail" is not an e-mail address`},
		{`number region "east"`, `want: number backup_email`},
		{`contact texted yesterday`, `unexpected "yesterday"`},
	} {
		_, err := Parse(filepath.Join(t.TempDir(), "f.flowtest"), "test \"t\"\n  "+tc.line+"\n  send \"hi\"\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.flowtest:2: ") {
			t.Errorf("%s: error %v, want f.flowtest:2: …%s", tc.line, err, tc.want)
		}
	}
	if _, err := Parse("f.flowtest", "test \"t\"\n  texted by alice 1h ago\n"); err == nil || !strings.Contains(err.Error(), "has no steps") {
		t.Errorf("a test of history lines only: %v", err)
	}
}
