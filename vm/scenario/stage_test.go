package scenario

import "testing"

// stageFlow has a menu (so STOP and HELP arrive where the flow would
// otherwise re-prompt), a help text, and a tag the next conversation
// reads.
const stageFlow = `flow f
numbers "+15550100"
timezone "UTC"
help "Front desk of Example Co. Reply STOP to opt out."

when ("returning" in contact.tags) <
  reply "Welcome back {{contact.name ?? 'there'}}"
> else <
  menu "Reply 1 to sign up" <
    1           -> tag "returning" then reply "Signed up"
    timeout 10m -> reply "Bye"
    else        -> reply "Please reply 1." then retry 1 then reply "Bye"
  >
>
`

// TestFlowtestRunsTheServersInboundStage: in `flowc test`, STOP at a
// menu opts out and ends the conversation with the confirmation, an
// opted-out contact gets nothing, START opts back in, HELP answers the
// flow's help, and a tag added in one conversation is in contact.tags in
// the next conversation of the same test — as on the server.
func TestFlowtestRunsTheServersInboundStage(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"f.flow": stageFlow})
	runTests(t, dir, p, `at 2026-11-23T10:00
from +15557654321

test "STOP at a menu opts out"
  send "hi"
  expect reply "Reply 1 to sign up"
  send "Stop."
  expect reply "You have been unsubscribed and will receive no more messages from this number. Reply START to resubscribe."
  expect end
  expect nothing else
  send "hi"
  expect nothing
  send "STOP"
  expect nothing
  send "start"
  expect reply "You have been resubscribed. Reply STOP to unsubscribe."
  expect nothing else
  send "hi"
  expect reply "Reply 1 to sign up"

test "HELP at a menu answers the flow's help and keeps the menu"
  send "hi"
  expect reply "Reply 1 to sign up"
  send "help"
  expect reply "Front desk of Example Co. Reply STOP to opt out."
  expect nothing else
  send "1"
  expect tag "returning"
  expect reply "Signed up"

test "a tag is seen by the contact's next conversation"
  contact name "Ann"
  send "hi"
  send "1"
  expect tag "returning"
  expect end
  send "hi"
  expect reply "Welcome back Ann"
  expect end
  expect nothing else

test "START when not opted out is an ordinary message"
  send "START"
  expect reply "Reply 1 to sign up"
`)
}

// The tags of one test do not leak into the next.
func TestFlowtestTagsStayInTheirTest(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"f.flow": stageFlow})
	runTests(t, dir, p, `at 2026-11-23T10:00
test "tags"
  send "hi"
  send "1"
  expect tag "returning"
test "a fresh contact"
  send "hi"
  expect reply "Reply 1 to sign up"
`)
}
