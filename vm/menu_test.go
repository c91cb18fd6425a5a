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

// TestKeywordOfOneWordReply: when a reply normalises to one word of ASCII
// letters and digits, its keyword is that word or "" (the first word is
// punctuation only), which lets the menu matcher skip the keyword for
// such replies (matchKey). Checked on every string of up to five
// characters from white space, the punctuation NormaliseReply trims (ASCII
// and Unicode), punctuation it keeps, letters in both cases, digits and a
// non-ASCII letter, and on a menu whose keys only the keyword reaches.
func TestKeywordOfOneWordReply(t *testing.T) {
	alphabet := []string{" ", "\t", ".", "(", "!", "“", "¿", "#", "-", "a", "B", "2", "é"}
	var walk func(s string, n int)
	checked := 0
	walk = func(s string, n int) {
		whole := vm.NormaliseKey(s)
		if oneWord(whole) {
			checked++
			if kw := runtime.Keyword(s); kw != whole && kw != "" {
				t.Fatalf("reply %q: normalised %q, keyword %q", s, whole, kw)
			}
		}
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			walk(s+c, n-1)
		}
	}
	walk("", 5)
	if checked < 10_000 {
		t.Fatalf("only %d one-word replies checked", checked)
	}

	// Keys reached through the keyword, and one-word replies, in one menu.
	p := compileFlow(t, `flow f
numbers "+15550100"
menu "pick" <
  1 -> reply "one"
  yes -> reply "yes"
  else -> reply "other"
>
`)
	for reply, want := range map[string]string{
		"1": "one", "YES": "yes", "yes please": "yes", "1 more": "one", ". 1": "one", "!! yes": "yes", "1-2": "other", "2": "other",
	} {
		st := send(t, p, returning(nil), vm.Options{}, "hi").State
		ev := vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: reply}}
		res, err := vm.Run(context.Background(), p, st, ev, returning(nil), vm.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(actions(res), "; "); !strings.HasPrefix(got, `reply "`+want+`"`) {
			t.Errorf("reply %q: %s, want the %s branch", reply, got, want)
		}
	}
}

func oneWord(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}
