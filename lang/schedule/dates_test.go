package schedule

import (
	"strings"
	"testing"
)

// Dates written the ways people write them get the same date as
// YYYY-MM-DD; both readings when it is ambiguous.
func TestDateHint(t *testing.T) {
	for s, want := range map[string]string{
		"01/01/2027":        `write it "2027-01-01"`,
		"12/25/2026":        `write it "2026-12-25"`,
		"25/12/2026":        `write it "2026-12-25"`,
		"25.12.2026":        `write it "2026-12-25"`,
		"7-4-26":            `"2026-07-04" (July 4) or "2026-04-07" (April 7)`,
		"03/04/2026":        `write it as YYYY-MM-DD: "2026-03-04" (March 4) or "2026-04-03" (April 3)`,
		"2026/12/25":        `write it "2026-12-25"`,
		"2026-1-5":          `write it "2026-01-05"`,
		"Dec 25 2026":       `write it "2026-12-25"`,
		"December 25, 2026": `write it "2026-12-25"`,
		"25 December 2026":  `write it "2026-12-25"`,
		"12/25":             "add the year",
		"13/13/2026":        "",
		"2026-02-30":        "",
		"christmas":         "",
		"2026-12-25":        "",
	} {
		got := DateHint(s)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("DateHint(%q) = %q, want one containing %q", s, got, want)
		}
	}
}

func TestCheckHoliday(t *testing.T) {
	if err := CheckHoliday("2026-12-25"); err != nil {
		t.Errorf("a good date: %v", err)
	}
	err := CheckHoliday("01/01/2027")
	if err == nil || err.Msg != "expected a date as YYYY-MM-DD" || err.Hint != `write it "2027-01-01"` || err.Index != -1 {
		t.Fatalf("got %+v", err)
	}
	if got := err.Error(); got != `"01/01/2027": expected a date as YYYY-MM-DD` {
		t.Errorf("Error() = %q", got)
	}
	if err := CheckHoliday("2026-02-29"); err == nil || !strings.Contains(err.Msg, "day must be 01-28") || err.Hint != "" {
		t.Errorf("February 29 of a common year: %+v", err)
	}
	// ParseHolidays carries the same hint.
	_, perr := ParseHolidays([]string{"2026-12-25", "12/31/2026"})
	if he, ok := perr.(*HolidayError); !ok || he.Index != 1 || he.Hint != `write it "2026-12-31"` {
		t.Errorf("ParseHolidays: %v", perr)
	}
}
