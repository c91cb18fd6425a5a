package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
)

// TestCarrierKeywordsAsTwilioMatchesThem: the opt-out stage takes a
// message that is a keyword once trimmed of white space and surrounding
// punctuation, in any case ("Stop." used to reach the flow), and the
// whole vocabulary (REVOKE and OPTOUT too); a sentence containing one
// goes to the flow.
func TestCarrierKeywordsAsTwilioMatchesThem(t *testing.T) {
	h := start(t, authToken, "../examples")
	num := "+15550100"
	for i, stop := range []string{"Stop.", " stop! ", "REVOKE", "optout", "Unsubscribe.", "¡Cancel!"} {
		contact := fmt.Sprintf("+1555700%04d", i)
		if got := h.text(contact, num, stop); got != twiml("You have been unsubscribed and will receive no more messages from this number. Reply START to resubscribe.") {
			t.Errorf("%q: %s", stop, got)
		}
		if got := h.text(contact, num, "Start!"); !strings.Contains(got, "resubscribed") {
			t.Errorf("%q then Start!: %s", stop, got)
		}
	}
	if got := h.text(ann, num, "Help?"); !strings.Contains(got, "Sales line of Example Co.") {
		t.Errorf("Help?: %s", got)
	}
	if got := h.text("+15557009999", num, "stop sending me texts"); got != twiml("Reply 1 for sales, 2 for support") {
		t.Errorf("a sentence: %s", got)
	}
}

// TestCheckWarnsExactlyForMenuKeysTheServerShadows: for each candidate
// menu key, flowc check warns that it can never be chosen exactly when
// the server, given a reply of that key at the menu, answers the reply
// itself instead of taking the branch. The warning and the opt-out stage
// classify with one function, so they cannot drift apart again.
func TestCheckWarnsExactlyForMenuKeysTheServerShadows(t *testing.T) {
	warned, taken := 0, 0
	for i, key := range []string{"stop", "Stop.", "revoke", "OptOut!", "cancel", "help", "info?", "yes", "start", "unstop",
		"stop it", "2", "sales", "¡quit!", "end"} {
		dir := t.TempDir()
		src := fmt.Sprintf("flow kw\nnumbers \"+15550960\"\ntimezone \"UTC\"\nmenu \"pick\" <\n  %q -> reply \"chosen\"\n  else -> reply \"other\"\n>\n", key)
		path := filepath.Join(dir, "kw.flow")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := lang.Load([]string{path})
		if err != nil {
			t.Fatal(err)
		}
		warns := false
		for _, d := range res.Diags {
			warns = warns || d.Code == check.CodeOptOut
		}
		h := start(t, authToken, path)
		contact := fmt.Sprintf("+1555800%04d", i)
		if got := h.text(contact, "+15550960", "hi"); got != twiml("pick") {
			t.Fatalf("%q: the menu: %s", key, got)
		}
		chosen := h.text(contact, "+15550960", key) == twiml("chosen")
		if warns == chosen {
			t.Errorf("menu key %q: check warns %v, the server takes the branch %v", key, warns, chosen)
		}
		if warns {
			warned++
		} else {
			taken++
		}
	}
	if warned < 5 || taken < 5 {
		t.Fatalf("candidates cover too little: %d warned, %d taken", warned, taken)
	}
}
