package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `flowc run` answers STOP, START and HELP as the server does and knows
// the contact from directory.json beside the flow (or --directory).
func TestRunSharesTheServersInboundStage(t *testing.T) {
	code, out, errs := runWithInput(t, "hi\nSTOP\n:state\nhi\nSTART\nhelp\nhi\n2\n", "run", "--at", "2026-11-23T10:00", filepath.Join("..", "..", "examples", "sales.flow"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"> STOP\n  (opt-out: answered by the inbound stage, as the server does)\n  reply \"You have been unsubscribed",
		"\n  end\n  state: no conversation (the next message starts the flow)\n  opted out of +15550100 (START opts back in)\n> hi\n  (opted-out: answered by the inbound stage, as the server does)\n> START\n",
		"reply \"You have been resubscribed. Reply STOP to unsubscribe.\"",
		"> help\n  (help: answered by the inbound stage, as the server does)\n  reply \"Sales line of Example Co. Reply STOP to opt out.\"",
		"reply \"Thanks Ann! Support will text you shortly.\"", // examples/directory.json names +15557654321
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A tag stays with the contact after the conversation ends, as in
	// the server's store (2026-11-28 is a Saturday: "weekend").
	_, out, _ = runWithInput(t, "hi\n:state\n", "run", "--at", "2026-11-28T10:00", filepath.Join("..", "..", "examples", "multi-number.flow"))
	if !strings.Contains(out, "  state: held by bob: the contact's texts join it until they finish it (or 24h0m0s without a text either way)\n  tags added: weekend\n") {
		t.Errorf("tags after the conversation: %s", out)
	}

	// --directory names another file: there the contact is Bea.
	dir := t.TempDir()
	other := filepath.Join(dir, "people.json")
	if err := os.WriteFile(other, []byte(`{"contacts":[{"phone":"+15557654321","name":"Bea"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ = runWithInput(t, "hi\n2\n", "run", "--at", "2026-11-23T10:00", "--directory", other, filepath.Join("..", "..", "examples", "sales.flow"))
	if !strings.Contains(out, `reply "Thanks Bea!`) {
		t.Errorf("--directory: %s", out)
	}
	// A directory that cannot be read is an error naming it, not an
	// anonymous contact.
	if err := os.WriteFile(other, []byte(`{"contacts":[{"name":"Bea"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runWithInput(t, "hi\n", "run", "--directory", other, filepath.Join("..", "..", "examples", "sales.flow"))
	if code != exitUsage || !strings.Contains(errs, "people.json") || !strings.Contains(errs, "phone is required") {
		t.Errorf("bad directory: exit %d, %q", code, errs)
	}
}
