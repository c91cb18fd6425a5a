package schedule

import (
	"errors"
	"testing"
)

// goodSpecs maps specs to their canonical String().
var goodSpecs = []struct{ spec, want string }{
	{"mon-fri 09:00-17:30, sat 10:00-14:00", "mon-fri 09:00-17:30, sat 10:00-14:00"},
	{"mon-fri 9-5", "mon-fri 09:00-17:00"},
	{"9-5", "09:00-17:00"},
	{"8-8", "08:00-20:00"},
	{"10-2", "10:00-14:00"},
	{"12-12", "12:00-24:00"},
	{"12-1", "12:00-13:00"},
	{"0-0", "00:00-12:00"},
	{"9-12", "09:00-12:00"},
	{"9-17", "09:00-17:00"},
	{"9:30-17:00", "09:30-17:00"},
	{"9:30-5", "09:30-05:00"},
	{"9-5:00", "09:00-05:00"},
	{"22-6", "22:00-06:00"},
	{"22:00-06:00", "22:00-06:00"},
	{"22:00-00:00", "22:00-24:00"},
	{"22-0", "22:00-24:00"},
	{"0-24", "00:00-24:00"},
	{"00:00-24:00", "00:00-24:00"},
	{"9-24", "09:00-24:00"},
	{"all-day", "00:00-24:00"},
	{"sat ALL-DAY", "sat 00:00-24:00"},
	{"weekends all-day", "sat-sun 00:00-24:00"},
	{"weekdays 8-6", "mon-fri 08:00-18:00"},
	{"daily 7-23", "07:00-23:00"},
	{"fri-mon 10-16", "fri-mon 10:00-16:00"},
	{"sun-sat 1-2", "01:00-02:00"},
	{"tue-mon 1-2", "01:00-02:00"},
	{"Monday-Friday 9-5, SATURDAY 10-2", "mon-fri 09:00-17:00, sat 10:00-14:00"},
	{"  mon - fri   9 - 17 ,sat 10-14  ", "mon-fri 09:00-17:00, sat 10:00-14:00"},
	{"mon-fri\n\t9-17,\nsat 10-14", "mon-fri 09:00-17:00, sat 10:00-14:00"},
	{"mon9-17", "mon 09:00-17:00"},
	{"thu 23:59-00:01", "thu 23:59-00:01"},
	{"sun 0:00-0:01", "sun 00:00-00:01"},
	{"wednesday 07:05-7:06", "wed 07:05-07:06"},
	{"sat 22:00-02:00, sat 22:00-02:00", "sat 22:00-02:00, sat 22:00-02:00"},
}

func TestParseGood(t *testing.T) {
	for _, tc := range goodSpecs {
		s, err := Parse(tc.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		if got := s.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.spec, got, tc.want)
		}
		s2, err := Parse(s.String())
		if err != nil {
			t.Errorf("Parse(%q) (canonical of %q): %v", s.String(), tc.spec, err)
			continue
		}
		if !sameTables(s, s2) {
			t.Errorf("canonical form %q of %q is not equivalent", s.String(), tc.spec)
		}
	}
}

var badSpecs = []struct {
	spec        string
	offset, end int
	msg         string
}{
	{"", 0, 0, "empty schedule"},
	{"   ", 0, 3, "empty schedule"},
	{"mon-fri 9-5, mnday 9-5", 13, 18, `unknown day "mnday"`},
	{"mon-frii 9-5", 4, 8, `unknown day "frii"`},
	{"xmas 9-5", 0, 4, `unknown day "xmas"`},
	{"mon 25:00-26:00", 4, 9, `bad time "25:00": hour must be 0-24`},
	{"mon 9:60-17:00", 4, 8, `bad time "9:60": minutes must be 00-59`},
	{"mon 9:00-17:5", 9, 13, `bad time "17:5": minutes must be two digits, 00-59`},
	{"mon 9:00-24:30", 9, 14, `bad time "24:30": the latest time is 24:00`},
	{"0900-1700", 0, 4, `bad time "0900": the hour has at most two digits; write times as H, HH, H:MM or HH:MM`},
	{"9:00:00-17:00", 0, 7, `bad time "9:00:00": expected H, HH, H:MM or HH:MM`},
	{"9:-17", 0, 2, `bad time "9:": minutes must be two digits, 00-59`},
	{"24:00-06:00", 0, 5, "24:00 can only end a range; a range starting at midnight starts at 00:00"},
	{"mon-fri", 0, 7, `missing time range after "mon-fri"`},
	{"mon-fri 9-5, sat", 13, 16, `missing time range after "sat"`},
	{"weekends, sun 9-5", 0, 8, `missing time range after "weekends"`},
	{"mon 9", 4, 5, `missing end time: expected "-" and an end time after "9"`},
	{"mon 9-", 4, 6, `missing end time after "9-"`},
	{"mon 9 - , tue 9-5", 4, 7, `missing end time after "9 -"`},
	{"9:00-9:00", 0, 9, `empty range "9:00-9:00": start and end are the same time`},
	{"sat 13-13", 4, 9, `empty range "13-13": start and end are the same time`},
	{"mon 9-17 x", 9, 10, `unexpected "x" after time range; separate clauses with commas`},
	{"mon 9-12 13-17", 9, 14, `unexpected "13" after time range; separate clauses with commas`},
	{"mon 9-17,", 8, 9, `trailing comma: expected another clause after ","`},
	{"mon 9-17,, sat 1-2", 9, 10, `expected a day or time range, found ","`},
	{", mon 9-17", 0, 1, `expected a day or time range, found ","`},
	{"-9-17", 0, 1, `expected a day or time range, found "-"`},
	{"mon tue 9-17", 4, 7, `expected a time range after "mon", found day "tue"; use a day range like mon-tue or separate clauses with commas`},
	{"mon-mon 9-17", 0, 7, `day range "mon-mon" starts and ends on the same day; write just "mon"`},
	{"mon-9-17", 0, 4, `expected a day after "mon-", found "9"`},
	{"mon- 9-17", 0, 4, `expected a day after "mon-", found "9"`},
	{"9am-5pm", 1, 3, "am/pm is not supported; use 24-hour times like 09:00-17:00 (or the 9-5 shorthand)"},
	{"9-5pm", 3, 5, "am/pm is not supported; use 24-hour times like 09:00-17:00 (or the 9-5 shorthand)"},
	{"9 – 17", 2, 5, `unexpected character "–"; use an ASCII hyphen "-"`},
	{"mon 9-17; tue 9-17", 8, 9, `unexpected character ";"`},
	{"mon all-day-x", 11, 13, `unexpected "-" after time range; separate clauses with commas`},
	{"mon allday", 4, 10, `expected a time range after "mon", found "allday"`},
	{"weekdays-sat 9-5", 8, 9, `expected a time range after "weekdays", found "-"`},
	{"closed", 0, 6, `unknown day "closed"`},
	{"weekdays sat 9-5", 9, 12, `expected a time range after "weekdays", found day "sat"; use a day range like mon-fri or separate clauses with commas`},
	{"mon 9–17", 5, 8, `unexpected character "–"; use an ASCII hyphen "-"`},
	{"mon 9-¹", 6, 8, `unexpected character "¹"`},
	{"mon–fri 9-17", 3, 6, `unexpected character "–"; use an ASCII hyphen "-"`},
	{"mon-é 9-17", 4, 6, `unexpected character "é"`},
}

func TestParseBad(t *testing.T) {
	for _, tc := range badSpecs {
		s, err := Parse(tc.spec)
		if err == nil {
			t.Errorf("Parse(%q) = %q, want error", tc.spec, s)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error %T, want *SyntaxError", tc.spec, err)
			continue
		}
		if se.Offset != tc.offset || se.End != tc.end || se.Msg != tc.msg {
			t.Errorf("Parse(%q) error = {%d, %d, %q}, want {%d, %d, %q}",
				tc.spec, se.Offset, se.End, se.Msg, tc.offset, tc.end, tc.msg)
		}
	}
}

func TestSyntaxErrorString(t *testing.T) {
	_, err := Parse("mon-fri 9-5, mnday 9-5")
	if got, want := err.Error(), `offset 13: unknown day "mnday"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// sameTables reports whether two schedules behave identically, including
// under Calendar (which distinguishes own and carried-over intervals).
func sameTables(a, b *Schedule) bool {
	for d := 0; d < 7; d++ {
		if !equalSpans(a.own[d], b.own[d]) || !equalSpans(a.carry[d], b.carry[d]) || !equalSpans(a.open[d], b.open[d]) {
			return false
		}
	}
	return true
}

func equalSpans(a, b []span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
