package schedule

import (
	"fmt"
	"slices"
	"time"
)

// Holidays is a set of local calendar dates on which a Calendar is closed.
// The zero value is the empty set. Holidays is immutable and safe for
// concurrent use.
type Holidays struct {
	days []int64 // sorted, unique; days since 1970-01-01
}

// HolidayError reports an invalid date passed to ParseHolidays. Index is the
// 0-based position of the date in the slice (-1 from CheckHoliday). Hint,
// when the date is written another way (12/25/2026), is the same date as
// YYYY-MM-DD (see DateHint).
type HolidayError struct {
	Index int
	Date  string
	Msg   string
	Hint  string
}

func (e *HolidayError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%q: %s", e.Date, e.Msg)
	}
	return fmt.Sprintf("holidays[%d] %q: %s", e.Index, e.Date, e.Msg)
}

// ParseHolidays parses dates written exactly as YYYY-MM-DD (e.g.
// "2026-12-25"; no surrounding spaces, two-digit month and day). Duplicates
// are allowed and ignored; order does not matter. Errors are of type
// *HolidayError and name the first bad date.
func ParseHolidays(dates []string) (Holidays, error) {
	days := make([]int64, 0, len(dates))
	for i, s := range dates {
		d, msg := parseDate(s)
		if msg != "" {
			return Holidays{}, &HolidayError{Index: i, Date: s, Msg: msg, Hint: DateHint(s)}
		}
		days = append(days, d)
	}
	slices.Sort(days)
	return Holidays{days: slices.Compact(days)}, nil
}

func parseDate(s string) (int64, string) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s[0:4]) || !digits(s[5:7]) || !digits(s[8:10]) {
		return 0, "expected a date as YYYY-MM-DD"
	}
	y, m, d := atoi(s[0:4]), atoi(s[5:7]), atoi(s[8:10])
	if m < 1 || m > 12 {
		return 0, "month must be 01-12"
	}
	t := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
	n := t.AddDate(0, 1, -1).Day()
	if d < 1 || d > n {
		return 0, fmt.Sprintf("day must be 01-%02d in %s %04d", n, time.Month(m), y)
	}
	return t.Unix()/secondsPerDay + int64(d-1), ""
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (h Holidays) has(day int64) bool {
	_, ok := slices.BinarySearch(h.days, day)
	return ok
}

// Contains reports whether t's local calendar date, in t's own location, is
// a holiday. It does not allocate.
func (h Holidays) Contains(t time.Time) bool {
	if len(h.days) == 0 {
		return false
	}
	day, _, _ := wallClock(t)
	return h.has(day)
}

// Len returns the number of distinct holiday dates.
func (h Holidays) Len() int { return len(h.days) }

// Dates returns the holiday dates as sorted, unique YYYY-MM-DD strings.
func (h Holidays) Dates() []string {
	out := make([]string, len(h.days))
	for i, d := range h.days {
		out[i] = time.Unix(d*secondsPerDay, 0).UTC().Format(time.DateOnly)
	}
	return out
}

// Calendar combines opening hours with holidays.
//
// A range belongs to the local calendar date it starts on. On a holiday no
// range starts, so the business stays closed all day, except that an
// overnight range that started the evening before (a non-holiday) still
// runs into the holiday morning. Conversely an overnight range that would
// start on a holiday does not open, even for its part after midnight.
//
// A Calendar with a nil Schedule is never open.
type Calendar struct {
	Schedule *Schedule
	Holidays Holidays
}

// Open reports whether the calendar is open at t, evaluated on the
// wall-clock time and calendar date of t in t's own location. It does not
// allocate.
func (c Calendar) Open(t time.Time) bool {
	s := c.Schedule
	if s == nil {
		return false
	}
	day, wd, sec := wallClock(t)
	minute := sec / 60
	if inSpans(s.carry[wd], minute) && !c.Holidays.has(day-1) {
		return true
	}
	return inSpans(s.own[wd], minute) && !c.Holidays.has(day)
}

// NextOpen returns the earliest instant at or after t at which the calendar
// is open (Open reports true), in t's location, or false if it never opens.
// Daylight-saving transitions are handled as for Schedule.NextOpen.
func (c Calendar) NextOpen(t time.Time) (time.Time, bool) {
	s := c.Schedule
	if s == nil {
		return time.Time{}, false
	}
	// Some weekday has a range starting on it; among len+2 consecutive
	// occurrences of that weekday at least one is not a holiday and is
	// after t.
	horizon := 7 * (len(c.Holidays.days) + 2)
	return nextOpen(t, horizon, func(day int64, wd int) []span {
		today, yesterday := c.Holidays.has(day), c.Holidays.has(day-1)
		switch {
		case !today && !yesterday:
			return s.open[wd]
		case !today:
			return s.own[wd]
		case !yesterday:
			return s.carry[wd]
		}
		return nil
	})
}
