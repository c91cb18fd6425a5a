package runtime

import "testing"

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
