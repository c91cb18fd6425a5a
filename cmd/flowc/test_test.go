package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runFlowc(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestTestExamplesPassWithFullCoverage(t *testing.T) {
	code, out, errs := runFlowc(t, "test", "../../examples", "--coverage")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "PASS: ") {
		t.Errorf("no summary:\n%s", out)
	}
	flows, _ := filepath.Glob("../../examples/*.flow")
	for _, f := range flows {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, f+":") && strings.Contains(l, "branches") {
				line = l
			}
		}
		if !strings.HasSuffix(line, "(100%)") {
			t.Errorf("%s: coverage line %q, want 100%%\n%s", f, line, out)
		}
	}
	if strings.Contains(out, "not covered") {
		t.Errorf("uncovered branches:\n%s", out)
	}
}

const wrongScenario = `at 2026-11-23T10:00

test "menu is offered"
  send "hi"
  expect reply "Reply 1 for sales, 2 for support"

test "reply 2 goes to support"
  send "hi"
  send "2"
  expect reply ~ "^Thanks"
  expect inbox team:sales
  expect end
`

func writeTempFlow(t *testing.T, scenario string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile("../../examples/sales.flow")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sales.flow"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sales.flowtest"), []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTestWrongExpectationFails(t *testing.T) {
	dir := writeTempFlow(t, wrongScenario)
	file := filepath.Join(dir, "sales.flowtest")
	code, out, errs := runFlowc(t, "test", dir)
	if code != exitFail {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFail, out, errs)
	}
	for _, want := range []string{
		"--- PASS: menu is offered (" + file + ":3)",
		"--- FAIL: reply 2 goes to support (" + file + ":7)",
		file + ":11: expect inbox team:sales",
		`got: reply "Thanks there! Support will text you shortly.", inbox team:support, end`,
		"FAIL: 1/2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// --run selects tests by name.
	code, out, _ = runFlowc(t, "test", dir, "--run", "offered")
	if code != exitOK || !strings.Contains(out, "PASS: 1/1") {
		t.Errorf("--run: exit %d\n%s", code, out)
	}

	// JSON report.
	code, out, _ = runFlowc(t, "test", dir, "--format", "json")
	if code != exitFail {
		t.Fatalf("json: exit %d", code)
	}
	var rep struct {
		Passed, Failed, Total int
		Tests                 []struct {
			Name     string
			Pass     bool
			Failures []struct{ Pos, Expected, Got string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.Passed != 1 || rep.Failed != 1 || rep.Total != 2 || len(rep.Tests[1].Failures) != 1 ||
		rep.Tests[1].Failures[0].Pos != file+":11" {
		t.Errorf("json report: %+v", rep)
	}
}

func TestTestParseErrorHasLine(t *testing.T) {
	dir := writeTempFlow(t, "test \"x\"\n  send \"hi\"\n  expect repy \"x\"\n")
	code, out, errs := runFlowc(t, "test", dir)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitUsage, out, errs)
	}
	if want := filepath.Join(dir, "sales.flowtest") + ":3: unknown expectation"; !strings.Contains(errs, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errs)
	}
}

func TestTestCoverageListsUncovered(t *testing.T) {
	dir := writeTempFlow(t, wrongScenario)
	_, out, _ := runFlowc(t, "test", dir, "--coverage", "--run", "offered")
	for _, want := range []string{
		"sales.flow: 1/8 branches (12%)",
		"sales.flow:17: when hours(\"9-5\") → false",
		"sales.flow:14: menu timeout 10m",
		"sales.flow:15: menu else",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// richScenario exercises every statement of lang/check/testdata/clean.flow:
// an applet (mocked to succeed and to fail), set, nested whens, a menu
// with a string key, an ask with a timeout, goto, retry and end.
const richScenario = `at 2026-11-23T10:00
applet lookup returns {"id":7}

test "vip in hours is forwarded"
  contact name "V" tags "vip"
  send "hi"
  expect var vip = true
  expect var customer = {"id":7}
  expect forward email:owner@example.com
  expect inbox user:owner
  expect end
  expect nothing else

test "applet failure goes to support"
  applet lookup fails "crm down"
  send "hi"
  expect error ~ "crm down"
  expect var vip = false
  expect inbox team:support
  expect reply ~ "^Reply 1"
  expect wait 10m
  expect nothing else

test "closed"
  at 2026-11-23T20:00
  send "hi"
  expect reply "We're closed."
  expect tag "after-hours"
  expect forward webhook:"https://example.com/hook"
  expect end

test "menu 1"
  send "hi"
  expect reply ~ "^Reply 1"
  send "1"
  expect inbox team:sales by round-robin

test "menu 2"
  contact name "Ann"
  send "hi"
  send "2"
  expect reply "Thanks Ann!"

test "more, answered"
  send "hi"
  send "more"
  expect reply "Go ahead:"
  expect wait 1h
  send "my details"
  expect var details = "my details"
  expect reply "We'll be in touch."
  expect end
  expect nothing else

test "more, no answer"
  send "hi"
  send "more"
  wait 1h
  expect inbox team:support
  expect reply "We'll be in touch."

test "menu timeout"
  send "hi"
  wait 10m
  expect inbox user:owner

test "else until retries run out"
  send "hi"
  send "x"
  send "x"
  send "x"
  expect reply "Please reply 1 or 2."
  expect inbox team:sales
`

func TestTestRichFlowFullCoverage(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"clean.flow", "lookup.js"} {
		b, err := os.ReadFile(filepath.Join("../../lang/check/testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "clean.flowtest"), []byte(richScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runFlowc(t, "test", dir, "--coverage")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "PASS: 9/9") || !strings.Contains(out, "clean.flow: 15/15 branches (100%)") {
		t.Errorf("output:\n%s", out)
	}
}

// `flowc test` reads directory.json beside the flows, as the server
// does: the default sender is Ann (a VIP), a team's member is chosen as
// the server chooses it, and MMS media, opt-out and tags are checked.
func TestTestDirectoryMediaAssigneeOptOutTags(t *testing.T) {
	dir := writeTempFlow(t, `at 2026-11-23T10:00
from +15557654321

test "the directory names the sender"
  send "hi" media "https://example.com/a.jpg"
  send "2"
  expect reply "Thanks Ann! Support will text you shortly."
  expect assignee bob
  expect tags "vip"
  expect not opted-out

test "STOP"
  send "hi"
  send "stop"
  expect opted-out
  expect assignee alice
`)
	dirJSON, err := os.ReadFile("../../examples/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	// support by round-robin, so the member is chosen.
	flow, _ := os.ReadFile(filepath.Join(dir, "sales.flow"))
	flow = []byte(strings.Replace(string(flow), "then inbox team:support", "then inbox team:support by round-robin", 1))
	if err := os.WriteFile(filepath.Join(dir, "sales.flow"), flow, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "directory.json"), dirJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "sales.flowtest")
	code, out, errs := runFlowc(t, "test", dir)
	if code != exitFail {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFail, out, errs)
	}
	for _, want := range []string{
		"--- PASS: the directory names the sender (" + file + ":4)",
		file + ":16: expect assignee alice\n        got: no team delivery",
		"FAIL: 1/2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A media URL the server would refuse is an error at its line.
	if err := os.WriteFile(file, []byte("test \"t\"\n  send \"hi\" media \"file:///etc/passwd\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runFlowc(t, "test", dir)
	if code != exitUsage || !strings.Contains(errs, file+":2: media \"file:///etc/passwd\" is not an absolute http(s) URL") {
		t.Errorf("bad media: exit %d, %q", code, errs)
	}
}
