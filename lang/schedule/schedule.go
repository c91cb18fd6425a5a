package schedule

import (
	"strings"
	"time"
	"unicode"
)

const (
	minutesPerDay = 24 * 60
	secondsPerDay = 24 * 60 * 60
)

// span is a half-open interval [start, end) of minutes since local midnight.
type span struct{ start, end int16 }

// Schedule is a parsed opening-hours spec. It is immutable after Parse and
// safe for concurrent use. The zero value and a nil *Schedule are never open.
type Schedule struct {
	clauses []clause

	// Precomputed per weekday (time.Weekday numbering), sorted and merged:
	own   [7][]span // intervals of clauses that start on this weekday
	carry [7][]span // the overnight spill-over from the previous weekday: [0, c)
	open  [7][]span // own ∪ carry
}

// Parse parses an opening-hours spec (see the package documentation for the
// grammar). Errors are of type *SyntaxError.
func Parse(spec string) (*Schedule, error) {
	cs, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	s := &Schedule{clauses: cs}
	var carryEnd [7]int
	for _, c := range cs {
		for d := 0; d < 7; d++ {
			if c.days&(1<<d) == 0 {
				continue
			}
			if c.end > c.start {
				s.own[d] = append(s.own[d], span{int16(c.start), int16(c.end)})
				continue
			}
			s.own[d] = append(s.own[d], span{int16(c.start), minutesPerDay})
			next := (d + 1) % 7
			carryEnd[next] = max(carryEnd[next], c.end)
		}
	}
	for d := 0; d < 7; d++ {
		s.own[d] = merge(s.own[d])
		if carryEnd[d] > 0 {
			s.carry[d] = []span{{0, int16(carryEnd[d])}}
		}
		all := append(append([]span(nil), s.own[d]...), s.carry[d]...)
		s.open[d] = merge(all)
	}
	return s, nil
}

// merge sorts spans by start and coalesces overlapping or touching ones.
// It reuses the backing array of in.
func merge(in []span) []span {
	if len(in) == 0 {
		return nil
	}
	// Insertion sort: specs have a handful of clauses.
	for i := 1; i < len(in); i++ {
		for j := i; j > 0 && in[j].start < in[j-1].start; j-- {
			in[j], in[j-1] = in[j-1], in[j]
		}
	}
	out := in[:1]
	for _, x := range in[1:] {
		last := &out[len(out)-1]
		if x.start <= last.end {
			last.end = max(last.end, x.end)
			continue
		}
		out = append(out, x)
	}
	return out[:len(out):len(out)]
}

func inSpans(sp []span, minute int) bool {
	for _, x := range sp {
		if minute < int(x.start) {
			return false
		}
		if minute < int(x.end) {
			return true
		}
	}
	return false
}

// wallClock returns t's local calendar day as a count of days since
// 1970-01-01 (in t's location), the weekday, and the number of seconds
// since local midnight. It does a single zone lookup and never allocates.
func wallClock(t time.Time) (day int64, wd int, sec int) {
	_, off := t.Zone()
	u := t.Unix() + int64(off)
	day = u / secondsPerDay
	if u%secondsPerDay < 0 {
		day--
	}
	sec = int(u - day*secondsPerDay)
	wd = int((day%7 + 7 + 4) % 7) // 1970-01-01 was a Thursday
	return day, wd, sec
}

// Contains reports whether the schedule is open at t. It is evaluated on the
// wall-clock time of t in t's own location (convert with t.In(loc) first):
// the weekday and the hour and minute shown on a local clock. Contains does
// not allocate.
func (s *Schedule) Contains(t time.Time) bool {
	if s == nil {
		return false
	}
	_, wd, sec := wallClock(t)
	return inSpans(s.open[wd], sec/60)
}

// String returns the spec in canonical form: clauses in their original
// order, separated by ", ", each written as an optional day or day range
// using three-letter lowercase names ("mon", "mon-fri", "fri-mon";
// "weekdays" becomes "mon-fri", "weekends" "sat-sun", and "daily" or a range
// covering the whole week is omitted) followed by HH:MM-HH:MM in 24-hour
// form ("all-day" becomes 00:00-24:00). Parsing the result yields an
// equivalent Schedule.
func (s *Schedule) String() string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	for i, c := range s.clauses {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.label != "" {
			b.WriteString(c.label)
			b.WriteByte(' ')
		}
		fmtClock(&b, c.start)
		b.WriteByte('-')
		fmtClock(&b, c.end)
	}
	return b.String()
}

// NextOpen returns the earliest instant at or after t at which the schedule
// is open (Contains reports true), in t's location, or false if the schedule
// is never open. If the schedule is open at t, it returns t itself.
//
// Opening times are wall-clock times, so daylight-saving transitions are
// handled as follows:
//
//   - If the opening time does not exist on a spring-forward day (02:30 in
//     America/New_York on 2026-03-08, when clocks jump from 02:00 to 03:00),
//     and the range is still open after the jump, NextOpen returns the
//     instant of the jump (03:00 EDT), the first moment the local clock shows
//     a time inside the range. A range lying entirely in the skipped hour
//     never opens that day.
//   - If the opening time occurs twice on a fall-back day, NextOpen returns
//     the first occurrence at or after t.
//
// This deliberately does not use time.Date to convert wall times: for a
// skipped wall time time.Date may return an instant before the jump (for
// 02:30 in New York it returns 01:30 EST), at which the schedule is closed.
func (s *Schedule) NextOpen(t time.Time) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	return nextOpen(t, 7, func(_ int64, wd int) []span { return s.open[wd] })
}

// nextOpen finds the earliest instant >= t whose wall-clock time lies in
// spansFor(day, weekday). horizon is the number of days after t's day to
// search; if no day within it has a span, nextOpen reports false.
//
// Openness can only change where the wall clock reaches a span start or
// where the zone offset changes. Between two offset changes the wall clock
// advances in step with real time, so the next span start can be reached by
// adding the wall-clock distance to t; if an offset change comes first, the
// search restarts from it.
func nextOpen(t time.Time, horizon int, spansFor func(day int64, wd int) []span) (time.Time, bool) {
	cur := t
	for iter := 0; iter < 1000; iter++ {
		day, wd, sec := wallClock(cur)
		minute := sec / 60
		if inSpans(spansFor(day, wd), minute) {
			return cur, true
		}
		target := -1 // wall-clock minutes from cur's local midnight
		for k := 0; k <= horizon && target < 0; k++ {
			for _, x := range spansFor(day+int64(k), (wd+k)%7) {
				if k > 0 || int(x.start) > minute {
					target = k*minutesPerDay + int(x.start)
					break
				}
			}
		}
		if target < 0 {
			return time.Time{}, false
		}
		cand := cur.Add(time.Duration(target*60-sec)*time.Second - time.Duration(cur.Nanosecond()))
		if _, zoneEnd := cur.ZoneBounds(); !zoneEnd.IsZero() && !cand.Before(zoneEnd) {
			cur = zoneEnd
			continue
		}
		return cand, true
	}
	return time.Time{}, false
}

// IsName reports whether an hours() argument reads as the name of a
// schedule rather than a spec: a word of letters, '-' and '_' that is
// not itself a spec ("weekdays" is one). check and the language server
// both decide with it.
func IsName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || unicode.IsLetter(r)) {
			return false
		}
	}
	_, err := Parse(s)
	return err != nil
}
