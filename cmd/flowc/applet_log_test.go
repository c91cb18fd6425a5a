package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const loggingFlow = `flow logs
numbers "+15550100"
timezone "UTC"
applet size = "size.js"

run size(body) as s <
  "long" -> reply "long one" then inbox team:a
  else   -> reply "short one" then inbox team:b
  on error -> inbox team:b
>
`

// The applet logs, and a "boom" makes it throw after logging: its lines
// must still arrive (they cross the worker protocol with the error).
const loggingApplet = `function main(ctx) {
  const body = ctx.args[0];
  console.log("sizing", body.length, "chars");
  console.warn("body was", JSON.stringify(body));
  if (body === "boom") throw new Error("blew up");
  return body.length > 10 ? "long" : "short";
}
`

const loggingScenarios = `at 2026-03-04T05:06:07Z
from +15557654321

test "a short text"
  send "hi"
  expect reply "short one"

test "a long text, expected wrong"
  send "hello there everyone"
  expect reply "short one"

test "a throwing applet, expected wrong"
  send "boom"
  expect reply "long one"
`

func writeLoggingFlow(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range map[string]string{"logs.flow": loggingFlow, "size.js": loggingApplet, "logs.flowtest": loggingScenarios} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runWithInput(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunShowsAppletConsoleOutput(t *testing.T) {
	dir := writeLoggingFlow(t)
	flow := filepath.Join(dir, "logs.flow")
	code, out, errs := runWithInput(t, "hi\n:wait 24h\nboom\n", "run", flow)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"> hi\n  console.log from size: sizing 2 chars\n  console.warn from size: body was \"hi\"\n  set s = \"short\"\n",
		"> boom\n  console.log from size: sizing 4 chars\n  console.warn from size: body was \"boom\"\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}

	// --explain shows each line inline, at the run step, before the
	// step's result, and only once.
	code, out, errs = runWithInput(t, "hi\n", "run", "--explain", flow)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	step := "  · " + flow + ":6 run: "
	want := step + "console.log from size: sizing 2 chars\n" + step + "console.warn from size: body was \"hi\"\n" + step + "applet size returned \"short\"\n"
	if !strings.Contains(out, want) {
		t.Errorf("explain output lacks\n%s\nin\n%s", want, out)
	}
	if n := strings.Count(out, "sizing 2 chars"); n != 1 {
		t.Errorf("the line is shown %d times, want once:\n%s", n, out)
	}
}

func TestTestShowsAppletConsoleOutputOfFailingTests(t *testing.T) {
	dir := writeLoggingFlow(t)
	code, out, errs := runFlowc(t, "test", dir)
	if code != exitFail {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFail, out, errs)
	}
	file := filepath.Join(dir, "logs.flowtest")
	for _, want := range []string{
		"--- FAIL: a long text, expected wrong (" + file + ":8)\n" +
			"    " + file + ":10: expect reply \"short one\"\n" +
			"        got: set s = \"long\", reply \"long one\", inbox team:a, end\n" +
			"    " + file + ":9: console.log from size: sizing 20 chars\n" +
			"    " + file + ":9: console.warn from size: body was \"hello there everyone\"\n",
		"    " + file + ":13: console.log from size: sizing 4 chars\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("test output lacks\n%s\nin\n%s", want, out)
		}
	}
	if !strings.Contains(out, "--- PASS: a short text") {
		t.Errorf("the passing test did not pass:\n%s", out)
	}
	if strings.Contains(out, "sizing 2 chars") || strings.Contains(out, `body was "hi"`) {
		t.Errorf("a passing test's console output is shown:\n%s", out)
	}
}
