package scenario

import (
	"strings"
	"testing"
)

// The http step, mocked: the response is data in the variable; every
// failure (status, timeout, size, not JSON, no mock) takes on error.
func TestHTTPStepMocked(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"f.flow": `flow f
numbers "+15550100"
hosts "crm.example.com"
http "https://crm.example.com/contacts?phone={{ from }}" header "Authorization: Bearer ${CRM_TOKEN}" within 1s as crm < on error -> reply "CRM down" then end >
reply "Hello {{ crm.name }}"
`})
	big := strings.Repeat("x", 70<<10)
	runTests(t, dir, p, `at 2026-11-23T10:00
from "+15557654321"
test "success"
  http "https://crm.example.com/contacts?phone=%2B15557654321" returns {"name": "Ann"}
  send "hi"
  expect var crm = {"name": "Ann"}
  expect reply "Hello Ann"
  expect end
  expect nothing else
test "a prefix mock, and the last matching line wins"
  http "https://crm.example.com/*" returns {"name": "first"}
  http GET "https://crm.example.com/contacts*" returns {"name": "Bob"}
  send "hi"
  expect reply "Hello Bob"
test "non-2xx takes on error"
  http "https://crm.example.com/*" status 503 returns {"error": "busy"}
  send "hi"
  expect error ~ "status 503"
  expect reply "CRM down"
  expect end
  expect nothing else
test "a timeout takes on error"
  http "https://crm.example.com/*" delay 5s returns {"name": "late"}
  send "hi"
  expect error ~ "timed out after 1s"
  expect reply "CRM down"
test "an oversized response takes on error"
  http "https://crm.example.com/*" returns "`+big+`"
  send "hi"
  expect error ~ "response too large"
  expect reply "CRM down"
test "a response that is not JSON takes on error"
  http "https://crm.example.com/*" returns "<html>oops</html>"
  send "hi"
  expect error ~ "not JSON"
  expect reply "CRM down"
test "a request no mock answers takes on error and says what to add"
  send "hi"
  expect error ~ "no mock for this request in the test \\(add: http GET \"https://crm.example.com/contacts\\?phone=%2B15557654321\" returns JSON\\)"
  expect reply "CRM down"
test "a failed request takes on error"
  http "https://crm.example.com/*" fails "connection refused"
  send "hi"
  expect error ~ "connection refused"
  expect reply "CRM down"
`)
}

// A POST with a JSON body built with set; a form body.
func TestHTTPStepBody(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"f.flow": `flow f
numbers "+15550100"
hosts "crm.example.com"
set lead = {phone: from, text: body}
http POST "https://crm.example.com/leads" json lead as made < on error -> reply "no" >
reply "lead {{ made.id }}"
`})
	runTests(t, dir, p, `at 2026-11-23T10:00
test "post"
  http POST "https://crm.example.com/leads" status 201 returns {"id": 7}
  send "hi"
  expect reply "lead 7"
`)
}

// reply … once per 12h: the second text in the period is not answered,
// in a new conversation too; after the period it is again.
func TestReplyOncePer(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"f.flow": `flow f
numbers "+15550100"
reply "We're closed, back at 9." once per 12h
inbox user:bob
`})
	runTests(t, dir, p, `at 2026-11-23T22:00
test "once per period"
  send "hello?"
  expect reply "We're closed, back at 9."
  expect inbox user:bob
  expect end
  expect nothing else
  agent bob finishes
  wait 1h
  send "anyone?"
  expect inbox user:bob
  expect end
  expect nothing else
  agent bob finishes
  wait 11h
  send "morning"
  expect reply "We're closed, back at 9."
`)
}

// A field's value is kept for every later message: over 16 KiB it is
// not set, and the step says why.
func TestFieldTooLong(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"f.flow": `flow f
numbers "+15550100"
field "notes" "{{ repeat(body, 2000) }}"
reply "plan {{ contact.fields.notes ?? 'unset' }}"
`})
	runTests(t, dir, p, `at 2026-11-23T10:00
test "too long"
  send "0123456789"
  expect error ~ "field notes: value of 20000 bytes is over the limit of 16384; it is not set"
  expect reply "plan unset"
  send "x"
  expect reply "plan unset"
`)
}

// untag and field change the contact for its next message, across
// conversations, over the directory's entry.
func TestUntagAndField(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"f.flow": `flow f
numbers "+15550100"
when "new" in contact.tags <
  reply "Welcome! Plan: {{ contact.fields.plan ?? 'none' }}"
  untag "new"
  field "plan" "pro"
  field "old" ""
  end
>
reply "Back again, plan {{ contact.fields.plan }}, old {{ contact.fields.old ?? 'gone' }}"
`})
	runTests(t, dir, p, `at 2026-11-23T10:00
contact name "Ann" tags "new", "vip" field plan "free" field old "x"
test "edits last"
  send "hi"
  expect reply "Welcome! Plan: free"
  expect untag "new"
  expect field "plan" "pro"
  expect field "old" ""
  expect end
  expect nothing else
  expect tags "vip"
  send "hi again"
  expect reply "Back again, plan pro, old gone"
`)
}
