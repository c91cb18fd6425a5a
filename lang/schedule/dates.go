package schedule

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// CheckHoliday reports what is wrong with one holiday date as a flow's
// `holidays` header writes it, or nil when it is a date as YYYY-MM-DD
// (what ParseHolidays accepts). The error's Hint, for a date written
// another way, gives the same date as YYYY-MM-DD: 12/25/2026, 25.12.2026,
// 2026/12/25, 2026-1-5, Dec 25 2026, 25 December 2026. Index is -1.
func CheckHoliday(s string) *HolidayError {
	if _, msg := parseDate(s); msg != "" {
		return &HolidayError{Index: -1, Date: s, Msg: msg, Hint: DateHint(s)}
	}
	return nil
}

var (
	// 12/25/2026, 25.12.2026, 1-5-26: day and month in some order, the
	// year last.
	yearLast = regexp.MustCompile(`^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})$`)
	// 2026/12/25, 2026.12.25, 2026-1-5: the order of ISO 8601 but not its
	// form.
	yearFirst = regexp.MustCompile(`^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})$`)
	// 12/25, 25.12: no year.
	noYear = regexp.MustCompile(`^(\d{1,2})[/.\-](\d{1,2})$`)
)

// Layouts of dates written with the month's name.
var namedLayouts = []string{
	"Jan 2 2006", "Jan 2, 2006", "January 2 2006", "January 2, 2006",
	"2 Jan 2006", "2 January 2006", "Mon Jan 2 2006", "Monday, January 2, 2006",
}

// DateHint says how to write s, a date not written as YYYY-MM-DD, in
// that form: `write it "2026-12-25"`, or both readings of an ambiguous
// 03/04/2026. "" when s does not read as a date at all (the message
// already says the form).
func DateHint(s string) string {
	s = strings.TrimSpace(s)
	if _, msg := parseDate(s); msg == "" {
		return "" // only the spaces around it were wrong
	}
	if m := yearFirst.FindStringSubmatch(s); m != nil {
		if d, ok := civil(atoi(m[1]), atoi(m[2]), atoi(m[3])); ok {
			return fmt.Sprintf("write it %q", d)
		}
		return ""
	}
	if m := yearLast.FindStringSubmatch(s); m != nil {
		y := atoi(m[3])
		if len(m[3]) == 2 {
			y += 2000
		}
		a, b := atoi(m[1]), atoi(m[2])
		md, mdOK := civil(y, a, b) // month/day, as in the US
		dm, dmOK := civil(y, b, a) // day/month, as in most of the world
		switch {
		case mdOK && dmOK && md != dm:
			return fmt.Sprintf("write it as YYYY-MM-DD: %q (%s) or %q (%s)", md, monthDay(md), dm, monthDay(dm))
		case mdOK:
			return fmt.Sprintf("write it %q", md)
		case dmOK:
			return fmt.Sprintf("write it %q", dm)
		}
		return ""
	}
	if m := noYear.FindStringSubmatch(s); m != nil {
		return "a holiday is one day of one year: add the year, e.g. \"2026-12-25\" (list each year's date)"
	}
	for _, l := range namedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return fmt.Sprintf("write it %q", t.Format(time.DateOnly))
		}
	}
	return ""
}

// civil formats year, month, day as YYYY-MM-DD if they make a date.
func civil(y, m, d int) (string, bool) {
	s := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	_, msg := parseDate(s)
	return s, msg == ""
}

// monthDay names a YYYY-MM-DD date's month and day: "March 4".
func monthDay(date string) string {
	t, _ := time.Parse(time.DateOnly, date)
	return t.Format("January 2")
}
