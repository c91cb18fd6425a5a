package schedule

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestParseHolidays(t *testing.T) {
	h, err := ParseHolidays([]string{"2026-12-25", "2024-02-29", "2026-01-01", "2026-12-25"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2024-02-29", "2026-01-01", "2026-12-25"}; !slices.Equal(h.Dates(), want) || h.Len() != 3 {
		t.Errorf("Dates() = %v, want %v", h.Dates(), want)
	}
	h, err = ParseHolidays(nil)
	if err != nil || h.Len() != 0 || h.Contains(time.Now()) {
		t.Errorf("ParseHolidays(nil) = %v, %v", h, err)
	}
	h, err = ParseHolidays([]string{"1969-12-31", "0001-01-01", "9999-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"0001-01-01", "1969-12-31", "9999-12-31"}; !slices.Equal(h.Dates(), want) {
		t.Errorf("Dates() = %v, want %v", h.Dates(), want)
	}
	if !h.Contains(time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC)) || h.Contains(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("1969-12-31 boundary")
	}
}

func TestParseHolidaysBad(t *testing.T) {
	cases := []struct {
		dates []string
		index int
		msg   string
	}{
		{[]string{"2026-01-01", "2026-02-30"}, 1, "day must be 01-28 in February 2026"},
		{[]string{"2025-02-29"}, 0, "day must be 01-28 in February 2025"},
		{[]string{"2026-04-31"}, 0, "day must be 01-30 in April 2026"},
		{[]string{"2026-01-00"}, 0, "day must be 01-31 in January 2026"},
		{[]string{"2026-13-01"}, 0, "month must be 01-12"},
		{[]string{"2026-00-10"}, 0, "month must be 01-12"},
		{[]string{"2026-1-05"}, 0, "expected a date as YYYY-MM-DD"},
		{[]string{"2026/01/05"}, 0, "expected a date as YYYY-MM-DD"},
		{[]string{" 2026-01-05"}, 0, "expected a date as YYYY-MM-DD"},
		{[]string{"2026-01-05", "", "x"}, 1, "expected a date as YYYY-MM-DD"},
		{[]string{"+026-01-05"}, 0, "expected a date as YYYY-MM-DD"},
	}
	for _, tc := range cases {
		_, err := ParseHolidays(tc.dates)
		var he *HolidayError
		if !errors.As(err, &he) {
			t.Errorf("ParseHolidays(%q) error = %v, want *HolidayError", tc.dates, err)
			continue
		}
		if he.Index != tc.index || he.Date != tc.dates[tc.index] || he.Msg != tc.msg {
			t.Errorf("ParseHolidays(%q) = %+v, want index %d msg %q", tc.dates, *he, tc.index, tc.msg)
		}
	}
	_, err := ParseHolidays([]string{"2026-01-01", "2026-02-30"})
	if got, want := err.Error(), `holidays[1] "2026-02-30": day must be 01-28 in February 2026`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestHolidaysContainsLocalDate(t *testing.T) {
	h, err := ParseHolidays([]string{"2026-12-25"})
	if err != nil {
		t.Fatal(err)
	}
	ny, syd := load(t, "America/New_York"), load(t, "Australia/Sydney")
	at := time.Date(2026, 12, 25, 3, 0, 0, 0, time.UTC) // Dec 24 22:00 in New York
	if !h.Contains(at) || h.Contains(at.In(ny)) || !h.Contains(at.In(syd)) {
		t.Errorf("Contains: UTC %v, NY %v, Sydney %v", h.Contains(at), h.Contains(at.In(ny)), h.Contains(at.In(syd)))
	}
	late := time.Date(2026, 12, 25, 23, 59, 59, 0, ny) // Dec 26 in UTC
	if !h.Contains(late) || h.Contains(late.UTC()) {
		t.Error("Contains must use the local date")
	}
}

func TestCalendar(t *testing.T) {
	// 2026-12-24 is a Thursday, 2026-12-25 a Friday.
	s := mustParse(t, "mon-fri 9-17, daily 22:00-02:00")
	h, err := ParseHolidays([]string{"2026-12-25"})
	if err != nil {
		t.Fatal(err)
	}
	c := Calendar{Schedule: s, Holidays: h}
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 12, day, hh, mm, 0, 0, time.UTC) }
	probes := []struct {
		at   time.Time
		open bool
		why  string
	}{
		{at(24, 10, 0), true, "ordinary Thursday"},
		{at(24, 23, 0), true, "Thursday night"},
		{at(25, 1, 59), true, "Thursday's overnight range runs into the holiday morning"},
		{at(25, 2, 0), false, "overnight range over"},
		{at(25, 9, 0), false, "holiday"},
		{at(25, 16, 59), false, "holiday"},
		{at(25, 22, 0), false, "a range starting on a holiday does not open"},
		{at(26, 1, 0), false, "not even after midnight"},
		{at(26, 22, 0), true, "Saturday night"},
		{at(27, 1, 0), true, "Saturday's range runs into Sunday"},
		{at(28, 9, 0), true, "Monday"},
	}
	for _, p := range probes {
		if got := c.Open(p.at); got != p.open {
			t.Errorf("Open(%v) = %v, want %v (%s)", p.at, got, p.open, p.why)
		}
	}
	if !s.Contains(at(25, 9, 0)) {
		t.Error("Schedule.Contains must ignore holidays")
	}

	next, ok := c.NextOpen(at(25, 2, 0))
	if !ok || !next.Equal(at(26, 22, 0)) {
		t.Errorf("NextOpen = %v, %v; want %v", next, ok, at(26, 22, 0))
	}

	// Two holidays in a row: Saturday's range does not start either.
	h2, _ := ParseHolidays([]string{"2026-12-25", "2026-12-26"})
	c2 := Calendar{Schedule: s, Holidays: h2}
	if c2.Open(at(27, 0, 30)) || !c2.Open(at(25, 0, 30)) || !c2.Open(at(27, 22, 0)) {
		t.Error("consecutive holidays")
	}
	if next, ok := c2.NextOpen(at(25, 2, 0)); !ok || !next.Equal(at(27, 22, 0)) {
		t.Errorf("NextOpen = %v, want %v", next, at(27, 22, 0))
	}

	// Without holidays a Calendar behaves like its Schedule.
	if (Calendar{Schedule: s}).Open(at(25, 9, 0)) != true {
		t.Error("Calendar without holidays")
	}
	if (Calendar{}).Open(at(25, 9, 0)) {
		t.Error("Calendar with nil schedule is open")
	}
	if _, ok := (Calendar{}).NextOpen(at(25, 9, 0)); ok {
		t.Error("Calendar with nil schedule NextOpen ok")
	}
}

func TestCalendarOverlap(t *testing.T) {
	// Tuesday's own range overlaps Monday's overnight range. 2026-06-02 is a
	// Tuesday.
	s := mustParse(t, "mon 22-6, tue 5-9")
	h, _ := ParseHolidays([]string{"2026-06-02"})
	c := Calendar{Schedule: s, Holidays: h}
	at := func(hh, mm int) time.Time { return time.Date(2026, 6, 2, hh, mm, 0, 0, time.UTC) }
	if !c.Open(at(5, 30)) || c.Open(at(6, 0)) || c.Open(at(8, 0)) {
		t.Error("on the holiday only Monday's overnight part should be open")
	}
	if !s.Contains(at(8, 0)) {
		t.Error("schedule alone is open at 08:00")
	}
}

func TestCalendarNextOpenManyHolidays(t *testing.T) {
	s := mustParse(t, "mon 9-17")
	var dates []string
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		dates = append(dates, d.Format(time.DateOnly))
	}
	h, err := ParseHolidays(dates)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := Calendar{Schedule: s, Holidays: h}.NextOpen(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if want := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("NextOpen = %v, %v; want %v", got, ok, want)
	}
}
