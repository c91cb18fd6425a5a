package vm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
)

// TestMenuMatchesRepliesAsTheOptOutStageDoes: a reply chooses a menu key
// when, normalised as the opt-out stage normalises carrier keywords
// (runtime.NormaliseReply: case, white space, surrounding punctuation
// in ASCII and Unicode), it is the key, or its first word is.
func TestMenuMatchesRepliesAsTheOptOutStageDoes(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
menu "pick" <
  2 -> reply "two"
  sales -> reply "sales"
  "#" -> reply "hash"
  else -> reply "other"
>
`)
	for reply, want := range map[string]string{
		"2": "two", "2.": "two", " (2) ": "two", "“2”": "two", "Sales!": "sales", "¿sales?": "sales", "sales please": "sales",
		"#": "hash", "3": "other", "2x": "other",
	} {
		st := send(t, p, returning(nil), vm.Options{}, "hi").State // waiting at the menu
		ev := vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: reply}}
		res, err := vm.Run(context.Background(), p, st, ev, returning(nil), vm.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(actions(res), "; "); !strings.HasPrefix(got, `reply "`+want+`"`) {
			t.Errorf("reply %q (normalised %q): %s, want the %s branch", reply, runtime.NormaliseReply(reply), got, want)
		}
	}
	if vm.NormaliseKey("Stop.") != runtime.NormaliseReply("Stop.") {
		t.Fatal("the menu keys are not normalised as replies are")
	}
}
