// Package sms measures a text as the carriers will send it: its
// encoding (GSM-7 when every character is in the GSM 03.38 alphabet,
// UCS-2 otherwise) and how many segments it is split into. Every SMS is
// billed, and delivered, per segment: a reply of 161 GSM-7 characters
// costs two messages, one "é" is free but one "’" (a typographic
// apostrophe) halves the capacity of the whole text.
package sms

import "unicode/utf8"

// Capacities in GSM 03.38 septets or UCS-2 code units. A multi-part
// text loses room in each part to the concatenation header (UDH).
const (
	GSMSingle  = 160
	GSMPart    = 153
	UCS2Single = 70
	UCS2Part   = 67
)

// Encodings.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 basic character set, one septet each.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the extension table: an escape septet plus one, so two
// septets each.
const gsmExtension = "\f^{}\\[~]|€"

var septets = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Length is a text's measure.
type Length struct {
	Chars    int    // characters (runes), what flowc's 1,600 limit counts
	Units    int    // GSM-7 septets or UCS-2 (UTF-16) code units
	Encoding string // GSM7 or UCS2
	Segments int    // messages the text is sent as; 0 for an empty text
}

// Measure measures text.
func Measure(text string) Length {
	l := Length{Chars: utf8.RuneCountInString(text), Encoding: GSM7}
	for _, r := range text {
		n, ok := septets[r]
		if !ok {
			l.Encoding = UCS2
			break
		}
		l.Units += n
	}
	single, part := GSMSingle, GSMPart
	if l.Encoding == UCS2 {
		single, part = UCS2Single, UCS2Part
		l.Units = 0
		for _, r := range text {
			if r >= 0x10000 {
				l.Units += 2 // a surrogate pair, e.g. an emoji
			} else {
				l.Units++
			}
		}
	}
	switch {
	case l.Units == 0:
	case l.Units <= single:
		l.Segments = 1
	default:
		l.Segments = (l.Units + part - 1) / part
	}
	return l
}

// NeedsUCS2 reports the first character of text outside the GSM-7
// alphabet, if any: the one that makes the whole text UCS-2.
func NeedsUCS2(text string) (rune, bool) {
	for _, r := range text {
		if _, ok := septets[r]; !ok {
			return r, true
		}
	}
	return 0, false
}
