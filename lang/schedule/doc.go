// Package schedule parses and evaluates opening-hours specs, the strings
// given to hours(SPEC) conditions and to schedule NAME = "SPEC" declarations
// in .flow files.
//
// # Examples
//
//	hours("mon-fri 9-5")                      // Monday to Friday, 09:00 to 17:00
//	hours("mon-fri 09:00-17:30, sat 10-14")   // plus Saturday 10:00 to 14:00
//	hours("weekends all-day")                 // all of Saturday and Sunday
//	hours("fri-sun 22:00-02:00")              // late nights, into the next morning
//	hours("8-20")                             // every day, 08:00 to 20:00
//
// # Grammar
//
// Keywords and day names are case-insensitive. Spaces, tabs and newlines
// may appear between any two tokens (around "," and "-" included) but not
// inside a time, a day name or the keyword all-day.
//
//	spec    = clause { "," clause } .
//	clause  = [ days ] range .
//	days    = day | day "-" day | "daily" | "weekdays" | "weekends" .
//	day     = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun"
//	        | "monday" | "tuesday" | "wednesday" | "thursday"
//	        | "friday" | "saturday" | "sunday" .
//	range   = time "-" time | "all-day" .
//	time    = H | HH | H ":" MM | HH ":" MM .
//
// A spec has at least one clause; an empty spec, an empty clause (as in
// "mon 9-5,, sat 10-2" or a trailing comma) and anything after the last
// range other than a comma are errors. Each clause takes at most one day
// item: write "mon-wed 9-5" or "mon 9-5, wed 9-5", not "mon wed 9-5".
//
// # Days
//
// A clause without days applies to every day. "daily" is every day,
// "weekdays" is mon-fri and "weekends" is sat-sun. A day range includes both
// ends and may wrap around the end of the week: "fri-mon" is Friday,
// Saturday, Sunday and Monday. A range that starts and ends on the same day,
// like "mon-mon", is an error.
//
// # Times
//
// Hours are 0 to 24, minutes 00 to 59 and must be two digits when given
// ("9:05", not "9:5"). 24:00 (or 24) means the end of the day and may only
// be used as the end of a range. "all-day" is the same as 00:00-24:00.
// am/pm suffixes are not supported.
//
// Times are 24-hour, with a single exception, the "9-5" shorthand: when
// both times are bare hours without minutes, both are at most 12, and the
// end is not after the start, the end is read as an afternoon hour (12 is
// added to it):
//
//	9-5      09:00-17:00   (shorthand)
//	8-8      08:00-20:00   (shorthand)
//	10-2     10:00-14:00   (shorthand)
//	12-12    12:00-24:00   (shorthand)
//	9-17     09:00-17:00
//	9-12     09:00-12:00   (the end is after the start: no shorthand)
//	9:30-5   09:30-05:00   (has minutes: no shorthand, so overnight!)
//	22-6     22:00-06:00   (22 is above 12: overnight)
//
// A range covers the minutes from its start up to, but not including, its
// end: "9-17" is open at 16:59 and closed at 17:00. A range whose start and
// end are the same time, like "9:00-9:00", is an error ("empty range").
// An end of 00:00 is the same as 24:00: "22:00-00:00" is 22:00-24:00.
//
// # Overnight ranges
//
// When the end is before the start, the range is overnight: it runs from
// the start time on each of the clause's days until the end time on the
// following morning. An overnight range belongs to the day it starts on, so
// "fri 22:00-02:00" is open from Friday 22:00 to Saturday 02:00, and is not
// open in the early hours of Friday (Thursday is not in its days).
//
// # Time zones and daylight saving time
//
// A schedule has no time zone of its own. It is evaluated on the local
// wall-clock time of the instant being tested, in that instant's location
// (the runtime converts the message time to the flow's time zone first):
// what matters is the weekday and the time shown on a local clock, not the
// elapsed time since midnight. Consequently:
//
//   - "mon-fri 9-17" opens at 09:00 local time on daylight-saving transition
//     days too.
//   - On a spring-forward day the skipped local hour never happens, so a
//     range inside it is never open that day, and an overnight range
//     spanning it is one hour shorter in real time.
//   - On a fall-back day the repeated local hour happens twice and both
//     occurrences are open or closed alike; an overnight range spanning it
//     is one hour longer in real time.
//   - When computing the next opening time, an opening time that falls into
//     a skipped hour opens at the moment the clocks jump forward (a range
//     from 02:30 in America/New_York on 2026-03-08 opens at 03:00 EDT), and
//     an opening time in a repeated hour opens at its first occurrence that
//     is not already in the past.
//
// # Holidays
//
// Holidays are given as YYYY-MM-DD dates and are matched against the local
// calendar date, in the same location. On a holiday no range starts, so the
// business is closed all day, with one exception: a range belongs to the day
// it starts on, so an overnight range that started the evening before the
// holiday still runs into the holiday morning. An overnight range that would
// start on a holiday does not open at all, not even after midnight.
// CheckHoliday checks one date as a flow writes it; a date written another
// way (12/25/2026, 25.12.2026, Dec 25 2026) gets a hint with the same date
// as YYYY-MM-DD, both readings when day and month could be either.
//
// # Canonical form
//
// Schedule.String writes a spec in canonical form, keeping the clauses in
// order: three-letter lowercase day names, weekdays as mon-fri, weekends as
// sat-sun, no days when a clause applies to every day, and times as 24-hour
// HH:MM, e.g. "mon-fri 09:00-17:00, sat 10:00-14:00". The canonical form
// parses back to the same schedule.
package schedule
