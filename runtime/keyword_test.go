package runtime

import (
	"strings"
	"testing"
	"unicode"
)

// TestCarrierKeyword: the whole message is the keyword, in any case,
// with white space and surrounding punctuation ignored, as Twilio
// matches its opt-out vocabulary; a sentence containing one is not.
func TestCarrierKeyword(t *testing.T) {
	for body, want := range map[string]CarrierKeywordKind{
		"STOP": OptOutKeyword, "Stop.": OptOutKeyword, " stop! ": OptOutKeyword, "\tSTOPALL\n": OptOutKeyword,
		"unsubscribe": OptOutKeyword, "Cancel": OptOutKeyword, "END": OptOutKeyword, "quit?": OptOutKeyword,
		"REVOKE": OptOutKeyword, "OptOut": OptOutKeyword, "¡Stop!": OptOutKeyword, "“stop”": OptOutKeyword, "(stop)": OptOutKeyword,
		"START": OptInKeyword, "Yes!": OptInKeyword, "unstop": OptInKeyword,
		"HELP": HelpKeyword, "info?": HelpKeyword,
		"stop sending me texts": NotCarrierKeyword, "please stop": NotCarrierKeyword, "st op": NotCarrierKeyword,
		"stop.stop": NotCarrierKeyword, "stopp": NotCarrierKeyword, "opt out": NotCarrierKeyword, "": NotCarrierKeyword,
		"...": NotCarrierKeyword, "yes please": NotCarrierKeyword, "helpdesk": NotCarrierKeyword, "#stop": NotCarrierKeyword,
	} {
		if got := CarrierKeyword(body); got != want {
			t.Errorf("CarrierKeyword(%q) = %d, want %d", body, got, want)
		}
	}
}

// TestNormaliseReply: how replies and menu keys compare.
func TestNormaliseReply(t *testing.T) {
	for in, want := range map[string]string{
		"2": "2", "2.": "2", " 2 ": "2", "(2)": "2", "Sales!": "sales", "ÉTÉ": "été", "a.b": "a.b",
		"#": "#", "*": "*", "#1": "#1", "  ": "", "?!": "", "“yes”": "yes", "¿Ayuda?": "ayuda",
	} {
		if got := NormaliseReply(in); got != want {
			t.Errorf("NormaliseReply(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestASCIIFastPaths: NormaliseReply and Keyword take a byte-wise path
// for ASCII text; it must give what the rune-wise path gives, for every
// ASCII byte in every position that matters (first, inside, last).
func TestASCIIFastPaths(t *testing.T) {
	slowNormalise := func(s string) string { return strings.ToLower(strings.TrimFunc(s, isReplyTrim)) }
	slowKeyword := func(body string) string {
		body = strings.TrimLeftFunc(body, unicode.IsSpace)
		if i := strings.IndexFunc(body, unicode.IsSpace); i >= 0 {
			body = body[:i]
		}
		return strings.ToLower(strings.TrimFunc(body, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
	}
	var inputs []string
	for c := 0; c < 128; c++ {
		b := string(rune(c))
		inputs = append(inputs, b, b+"Ab2", "Ab2"+b, "x"+b+"Y", b+" 2 "+b, " \t"+b+"STOP"+b+"\n", b+b+"z")
	}
	inputs = append(inputs, "", " ", "2", "2.", " Yes please ", "\v\fHELP\r", "a.b", "#1", "(2)", "...", "  hi  there ")
	for _, in := range inputs {
		if got, want := NormaliseReply(in), slowNormalise(in); got != want {
			t.Errorf("NormaliseReply(%q) = %q, the rune-wise trim gives %q", in, got, want)
		}
		if got, want := Keyword(in), slowKeyword(in); got != want {
			t.Errorf("Keyword(%q) = %q, the rune-wise steps give %q", in, got, want)
		}
	}
}
