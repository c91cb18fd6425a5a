package sms_test

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/sms"
)

// Known examples: the segment boundaries of GSM-7 (160 / 153 per part)
// and UCS-2 (70 / 67 per part), extension characters counting two
// septets, emoji two UTF-16 units, and one non-GSM character switching
// the whole text to UCS-2.
func TestMeasure(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		chars      int
		units      int
		enc        string
		segments   int
	}{
		{"empty", "", 0, 0, sms.GSM7, 0},
		{"hello", "Hello!", 6, 6, sms.GSM7, 1},
		{"160 gsm", strings.Repeat("a", 160), 160, 160, sms.GSM7, 1},
		{"161 gsm", strings.Repeat("a", 161), 161, 161, sms.GSM7, 2},
		{"306 gsm", strings.Repeat("a", 306), 306, 306, sms.GSM7, 2},
		{"307 gsm", strings.Repeat("a", 307), 307, 307, sms.GSM7, 3},
		{"gsm accents", "café déjà-vu Ünïcode", 20, 20, sms.UCS2, 1}, // ï is not GSM-7
		{"gsm latin", "Ça coûte 5€", 11, 11, sms.UCS2, 1},            // û is not GSM-7: € is one UCS-2 unit
		{"euro extension", "Price: 5€ {x}", 13, 16, sms.GSM7, 1},
		{"80 euros", strings.Repeat("€", 80), 80, 160, sms.GSM7, 1},
		{"81 euros", strings.Repeat("€", 81), 81, 162, sms.GSM7, 2},
		{"curly apostrophe", "We’re open", 10, 10, sms.UCS2, 1},
		{"70 ucs2", strings.Repeat("ж", 70), 70, 70, sms.UCS2, 1},
		{"71 ucs2", strings.Repeat("ж", 71), 71, 71, sms.UCS2, 2},
		{"134 ucs2", strings.Repeat("ж", 134), 134, 134, sms.UCS2, 2},
		{"135 ucs2", strings.Repeat("ж", 135), 135, 135, sms.UCS2, 3},
		{"emoji", "Thanks 👍", 8, 9, sms.UCS2, 1},
		{"newlines", "a\nb\r\n", 5, 5, sms.GSM7, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sms.Measure(tc.text)
			want := sms.Length{Chars: tc.chars, Units: tc.units, Encoding: tc.enc, Segments: tc.segments}
			if got != want {
				t.Errorf("Measure(%q) = %+v, want %+v", tc.text, got, want)
			}
		})
	}
}

func TestNeedsUCS2(t *testing.T) {
	if r, ok := sms.NeedsUCS2("We’re open"); !ok || r != '’' {
		t.Errorf("NeedsUCS2 = %q, %v", r, ok)
	}
	if _, ok := sms.NeedsUCS2("We're open {[~]} €"); ok {
		t.Error("GSM-7 text reported as UCS-2")
	}
}
