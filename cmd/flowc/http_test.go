package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flowc run answers http steps from --http-mocks, says how to answer one
// without, and :state shows what the flow left on the contact.
func TestRunHTTPMocksAndState(t *testing.T) {
	dir := t.TempDir()
	flow := filepath.Join(dir, "crm.flow")
	os.WriteFile(flow, []byte(`numbers "+15550100"
hosts "crm.example.com"
http "https://crm.example.com/c?phone={{ from }}" as crm < on error -> reply "sorry" then end >
reply "owner {{ crm.owner }}" once per 12h
untag "new"
field "plan" "pro"
inbox team:support
`), 0o644)
	mocks := filepath.Join(dir, "mocks")
	os.WriteFile(mocks, []byte("# the CRM\nhttp \"https://crm.example.com/*\" returns {\"owner\": \"alice\"}\n"), 0o644)
	var out, errOut bytes.Buffer
	code := run([]string{"run", flow, "--at", "2026-11-23T10:00", "--http-mocks", mocks}, strings.NewReader("hi\nhi\n:state\n"), &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{`reply "owner alice"`, "tags removed: new", `field plan = "pro"`, `reply "owner {{crm.owner}}" once per 12h: sent Mon 10:00`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, `reply "owner alice"`) != 1 {
		t.Errorf("the once-per reply was sent more than once:\n%s", got)
	}
	out.Reset()
	if code := run([]string{"run", flow}, strings.NewReader("hi\n"), &out, &errOut); code != exitOK ||
		!strings.Contains(out.String(), `without --net or --http-mocks FILE (a line: http GET "https://crm.example.com/c?phone=%2B15557654321" returns JSON)`) {
		t.Fatalf("without mocks: %d\n%s", code, out.String())
	}
}
