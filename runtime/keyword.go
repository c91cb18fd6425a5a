package runtime

import (
	"strings"
	"unicode"
)

// NormaliseReply is how a contact's reply is compared with a word: a menu
// key, a run's route, a carrier keyword. It is trimmed of white space and
// of the punctuation around it, and lower-cased: "2.", " 2 " and "2" all
// match 2, "Stop." and " stop! " match stop. Punctuation inside is kept
// ("a.b" stays "a.b"), and so are # and * (keys of their own).
//
// This is the one normalisation: the server's opt-out stage (through
// CarrierKeyword), the VM's menu matcher and route keys, and check's
// warning about menu keys the carrier keywords shadow all use it, so
// what check warns about is what happens.
func NormaliseReply(s string) string {
	if isASCII(s) {
		// The common reply ("2", "yes"): the same trim by bytes, without
		// decoding runes or calling isReplyTrim per character.
		i, j := 0, len(s)
		for i < j && asciiReplyTrim[s[i]] {
			i++
		}
		for j > i && asciiReplyTrim[s[j-1]] {
			j--
		}
		s = s[i:j]
	} else {
		s = strings.TrimFunc(s, isReplyTrim)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s // already lower case: no allocation
}

// isReplyTrim: white space and the punctuation that surrounds a word in
// a text message (sentence marks, brackets, quotes, in ASCII and their
// common Unicode forms).
func isReplyTrim(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	return strings.ContainsRune(".,!?;:()[]{}'\"`¡¿…“”‘’«»。、！？", r)
}

// asciiReplyTrim is isReplyTrim for the ASCII bytes; asciiSpace is
// unicode.IsSpace for them, asciiWord unicode.IsLetter || IsDigit.
var asciiReplyTrim, asciiSpace, asciiWord [128]bool

func init() {
	for c := rune(0); c < 128; c++ {
		asciiReplyTrim[c] = isReplyTrim(c)
		asciiSpace[c] = unicode.IsSpace(c)
		asciiWord[c] = unicode.IsLetter(c) || unicode.IsDigit(c)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// CarrierKeywordKind is what a carrier keyword asks for.
type CarrierKeywordKind int

const (
	NotCarrierKeyword CarrierKeywordKind = iota
	OptOutKeyword                        // STOP and its synonyms: no more messages from this number
	OptInKeyword                         // START, YES, UNSTOP: messages again
	HelpKeyword                          // HELP, INFO: who is this, how to stop
)

// carrierKeywords is Twilio's default vocabulary (its "SMS STOP
// filtering", the CTIA's keywords), lower case.
var carrierKeywords = map[string]CarrierKeywordKind{
	"stop": OptOutKeyword, "stopall": OptOutKeyword, "unsubscribe": OptOutKeyword, "cancel": OptOutKeyword,
	"end": OptOutKeyword, "quit": OptOutKeyword, "revoke": OptOutKeyword, "optout": OptOutKeyword,
	"start": OptInKeyword, "yes": OptInKeyword, "unstop": OptInKeyword,
	"help": HelpKeyword, "info": HelpKeyword,
}

// CarrierKeyword reports whether body is a carrier keyword, matched as
// Twilio and the carriers match them: the whole message is the keyword,
// in any case, with white space and surrounding punctuation ignored
// (NormaliseReply). "Stop." and " stop! " opt out; "stop sending me
// texts" and "please stop" do not (Twilio: only single-word messages
// trigger the block).
func CarrierKeyword(body string) CarrierKeywordKind {
	return carrierKeywords[NormaliseReply(body)]
}
