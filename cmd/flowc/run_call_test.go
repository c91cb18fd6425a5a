package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// `flowc run` calls a call flow: the call is placed at once, a plain line
// is the digits pressed, `:answer`, `:no-answer`, `:busy`, `:record` and
// `:hangup` are the provider's callbacks, `:wait` fires a voice menu's
// timeout; a user not being rung cannot answer.
func TestRunSimulatesACall(t *testing.T) {
	in := "1\n:answer carol\n:busy\n:no-answer bob\n:state\n:no-answer\n:record 30s\n:call\n:wait 5s\n:hangup\n:state\n:bogus\n"
	code, out, errs := runWithInput(t, in, "run", "--call", "--at", "2026-11-23T10:00", filepath.Join("..", "..", "examples", "main-line.flow"))
	if code != exitUsage || !strings.Contains(errs, `line 12: unknown command ":bogus"`) {
		t.Fatalf("a bad line: exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"# call flow main-line, +15557654321 calling +15550100",
		": call\n  say \"Thanks for calling Example Co.\" voice \"Polly.Joanna\" language \"en-US\"\n  gather \"For sales, press 1.",
		"  wait until Mon 10:00:05\n",
		": press 1\n  ring alice (team:sales) in order for 15s\n",
		": ringing carol answers\n  ! carol is not being rung (ringing: alice)\n",
		": ringing busy\n  ring bob (team:sales) in order for 15s\n",
		": ringing bob no answer\n  ring alice, bob (team:sales) all for 20s\n",
		"state: waiting at ../../examples/main-line.flow:27:21, ringing alice, bob",
		": ringing no answer\n  text \"Sorry we missed your call",
		"  voicemail max 2m transcribe\n",
		": record 30s\n  recorded 30s",
		"  inbox team:sales\n  say \"Thank you, goodbye.\"\n  hangup\n  end\n",
		"~ 5s later (Mon 10:00:05)\n  (timer fired)\n  say \"Sorry, I didn't hear a choice.\"\n",
		": caller hangs up\n  end\n  state: no call",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := runWithInput(t, "", "run", "--call", filepath.Join("..", "..", "examples", "sales.flow")); code != exitUsage || !strings.Contains(errs, "handles texts") {
		t.Errorf("--call on an SMS flow: exit %d: %s", code, errs)
	}
}
