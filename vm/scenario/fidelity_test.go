package scenario

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/vm"
)

// fidelityFlow answers with the media it got, hands a team delivery to
// the strategy the first word names, and tags the contact.
const fidelityFlow = `flow f
numbers "+15550100"
timezone "UTC"

when (len(media) > 0) <
  reply "Got {{len(media)}}: {{media[0]}}"
> else when (keyword == "rr") <
  tag "asked" then inbox team:sales by round-robin
> else when (keyword == "busy") <
  inbox team:sales by least-busy
> else when (keyword == "rand") <
  inbox team:sales by random
> else <
  inbox team:support by round-robin
>
`

const fidelityDirectory = `{
  "users": [
    {"name": "alice"}, {"name": "bob"}, {"name": "carol", "available": false}, {"name": "dan", "available": false}
  ],
  "teams": [
    {"name": "sales", "members": ["carol", "alice", "bob"]},
    {"name": "support", "members": ["dan"]}
  ],
  "contacts": [
    {"phone": "+15557654321", "name": "Ann", "owner": "alice", "tags": ["vip"], "fields": {"plan": "pro"}}
  ]
}
`

// runFailures runs every test of a .flowtest and returns the failures as
// "test: file:line: expected …, got …".
func runFailures(t *testing.T, dir string, p *vm.Program, flowtest string) []string {
	t.Helper()
	f, err := Parse(filepath.Join(dir, "f.flowtest"), flowtest)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, test := range f.Tests {
		for _, fl := range Run(context.Background(), test, p).Failures {
			out = append(out, test.Name+": "+fl.Where+": expected "+fl.Expected+", got "+fl.Got)
		}
	}
	return out
}

func fidelityDir(t *testing.T, withDefault bool) (string, *vm.Program) {
	t.Helper()
	files := map[string]string{"f.flow": fidelityFlow, "team.json": fidelityDirectory}
	if withDefault {
		files["directory.json"] = fidelityDirectory
	}
	return compileDir(t, files)
}

func TestFlowtestSendsMedia(t *testing.T) {
	dir, p := fidelityDir(t, false)
	got := runFailures(t, dir, p, `test "mms"
  send "look" media "https://example.com/a.jpg", "http://example.com/b.png"
  expect reply "Got 2: https://example.com/a.jpg"
  send "" media "HTTPS://example.com/c.gif"
  expect reply "Got 1: HTTPS://example.com/c.gif"
test "sms"
  send "look"
  expect reply "Got 0"
`)
	// The second test fails: a message without media is routed elsewhere.
	if len(got) != 1 || !strings.Contains(got[0], `f.flowtest:8: expected reply "Got 0", got inbox team:support by round-robin, end`) {
		t.Errorf("failures = %q", got)
	}
}

func TestFlowtestMediaMustBeHTTPURLs(t *testing.T) {
	for _, line := range []string{
		`send "x" media "ftp://example.com/a.jpg"`,
		`send "x" media "/a.jpg"`,
		`send "x" media "https:///nohost"`,
		`send "x" media`,
		`send "x" media https://example.com/a.jpg`,
		`send "x" pictures "https://example.com/a.jpg"`,
		`send "x" media ` + strings.Repeat(`"https://e.com/a", `, 11),
	} {
		_, err := Parse("d/f.flowtest", "test \"t\"\n  "+line+"\n")
		if err == nil || !strings.HasPrefix(err.Error(), "d/f.flowtest:2: ") {
			t.Errorf("%s: error %v, want one at d/f.flowtest:2", line, err)
		}
	}
}

// A team delivery goes to the member the server would choose: only
// available members (carol is away), round-robin in turn, least-busy
// to the member with the fewest items, random the same for the same
// message; a team with nobody available keeps the item in its queue.
func TestFlowtestExpectAssignee(t *testing.T) {
	dir, p := fidelityDir(t, false)
	got := runFailures(t, dir, p, `directory "team.json"
from +15550009999

test "round-robin takes turns among the available"
  send "rr"
  expect inbox team:sales by round-robin
  expect assignee alice
  agent alice finishes
  send "rr"
  expect assignee bob
  agent bob finishes
  send "rr"
  expect assignee alice

test "least-busy"
  send "rr"
  expect assignee alice
  agent alice finishes
  send "busy"
  expect assignee bob
  agent bob finishes
  send "busy"
  expect assignee alice

test "random is one of the available"
  send "rand"
  expect assignee carol

test "nobody available"
  send "other"
  expect assignee dan

test "no team delivery"
  send "look" media "https://example.com/a.jpg"
  expect assignee alice
`)
	want := []string{
		`random is one of the available: ` + dir + `/f.flowtest:27: expected assignee carol, got assignee `,
		`nobody available: ` + dir + `/f.flowtest:31: expected assignee dan, got nobody (team:support has no available member in the directory)`,
		`no team delivery: ` + dir + `/f.flowtest:35: expected assignee alice, got no team delivery`,
	}
	if len(got) != len(want) {
		t.Fatalf("failures = %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("failure %d = %q, want %q…", i, got[i], want[i])
		}
	}
	if who := strings.TrimPrefix(got[0], want[0]); who != "alice" && who != "bob" {
		t.Errorf("random chose %q, want an available member", who)
	}
}

// `directory` gives the contact its name, fields and tags; tags flows
// add join them; STOP and START change the opt-out state.
func TestFlowtestExpectTagsAndOptOut(t *testing.T) {
	dir, p := fidelityDir(t, false)
	got := runFailures(t, dir, p, `directory "team.json"
from +15557654321

test "tags and opt-out"
  send "rr"
  expect tags "asked", "vip"
  expect not opted-out
  send "STOP"
  expect opted-out
  send "START"
  expect not opted-out

test "wrong"
  send "rr"
  expect tags "vip"
  expect opted-out
`)
	want := []string{
		`wrong: ` + dir + `/f.flowtest:15: expected tags "vip", got tags "vip", "asked"`,
		`wrong: ` + dir + `/f.flowtest:16: expected opted-out, got not opted-out`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Without a directory line, directory.json beside the flow is the
// directory, as the server reads it; a directory line wins.
func TestFlowtestReadsDirectoryJSONBesideTheFlow(t *testing.T) {
	dir, p := fidelityDir(t, true)
	if got := runFailures(t, dir, p, `from +15557654321
test "default"
  send "rr"
  expect tags "vip", "asked"
  expect assignee alice
`); len(got) != 0 {
		t.Errorf("failures = %q", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"users": [{"name": "zed"}], "teams": [{"name": "sales", "members": ["zed"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runFailures(t, dir, p, `directory "other.json"
from +15557654321
test "named"
  send "rr"
  expect tags "asked"
  expect assignee zed
`); len(got) != 0 {
		t.Errorf("failures = %q", got)
	}
	// A broken directory.json fails the test, naming the file.
	if err := os.WriteFile(filepath.Join(dir, "directory.json"), []byte(`{"teams": [{"name": "x", "memebrs": []}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runFailures(t, dir, p, "test \"t\"\n  send \"rr\"\n")
	if len(got) != 1 || !strings.Contains(got[0], filepath.Join(dir, "directory.json")) {
		t.Errorf("broken directory.json: %q", got)
	}
}

// The directory line reads through the .flowtest's folder only, and a
// bad file is an error at the line.
func TestFlowtestDirectoryLine(t *testing.T) {
	dir, _ := fidelityDir(t, false)
	outside := filepath.Join(filepath.Dir(dir), "outside.json")
	_ = os.WriteFile(outside, []byte(fidelityDirectory), 0o644)
	defer os.Remove(outside)
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"users": [}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{`directory "../outside.json"`, `directory "` + outside + `"`, `directory "missing.json"`, `directory "bad.json"`, `directory team.json`} {
		_, err := Parse(filepath.Join(dir, "f.flowtest"), line+"\ntest \"t\"\n  send \"x\"\n")
		if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "f.flowtest")+":1: ") {
			t.Errorf("%s: error %v, want one at f.flowtest:1", line, err)
		}
	}
}

// `user` and `team` lines amend the directory (here directory.json
// beside the flow): alice is away in one test only, a team is
// replaced, and a team naming nobody in users fails the test.
func TestFlowtestUserAndTeamLines(t *testing.T) {
	dir, p := fidelityDir(t, true)
	got := runFailures(t, dir, p, `from +15550009999
user alice away

test "alice away: bob"
  send "rr"
  expect assignee bob

test "alice back: alice"
  user alice available
  send "rr"
  expect assignee alice

test "a new team"
  user erin
  team sales erin, bob
  send "rr"
  expect assignee erin
  expect tags "asked"

test "an unknown member"
  team sales zoe
  send "rr"
`)
	want := []string{`an unknown member: ` + dir + `/f.flowtest:20: expected the directory to load, got the directory with the test's user and team lines: teams[0] (sales): member "zoe" is not in users`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, line := range []string{`user`, `user alice busy`, `team sales`, `team , alice`} {
		if _, err := Parse("d/f.flowtest", line+"\ntest \"t\"\n  send \"x\"\n"); err == nil || !strings.HasPrefix(err.Error(), "d/f.flowtest:1: want: ") {
			t.Errorf("%s: error %v, want a want: at d/f.flowtest:1", line, err)
		}
	}
}

// A delivery made by a timer (a menu's timeout) is assigned too.
func TestFlowtestAssigneeOfATimer(t *testing.T) {
	dir, p := compileDir(t, map[string]string{"directory.json": fidelityDirectory, "f.flow": `flow f
numbers "+15550100"
timezone "UTC"
menu "Reply 1" <
  1           -> reply "ok"
  timeout 10m -> inbox team:sales by round-robin
>
`})
	got := runFailures(t, dir, p, `test "timeout"
  send "hi"
  expect assignee alice
  wait 10m
  expect inbox team:sales by round-robin
  expect assignee alice
  wait 10m
  expect assignee bob
`)
	want := []string{
		`timeout: ` + dir + `/f.flowtest:3: expected assignee alice, got no team delivery`,
		`timeout: ` + dir + `/f.flowtest:6: expected assignee bob, got no team delivery`, // the second wait fires nothing: no stale delivery
	}
	// The run stops at the first failing step: only line 3 is reported.
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("failures = %q, want %q", got, want[:1])
	}
	got = runFailures(t, dir, p, "test \"timeout\"\n  send \"hi\"\n  wait 10m\n  expect assignee alice\n  wait 10m\n  expect assignee bob\n")
	if len(got) != 1 || got[0] != want[1] {
		t.Errorf("failures = %q, want %q", got, want[1:])
	}
}
