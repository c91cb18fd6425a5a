package schedule

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // do not depend on the machine's zoneinfo
)

// dstZone describes the 2026 daylight-saving transitions of a zone. All of
// them fall on a Sunday.
type dstZone struct {
	name string
	// spring-forward day; the local hour starting at gap is skipped
	spring [3]int
	gap    int
	// fall-back day; the local hour starting at rep happens twice
	fall [3]int
	rep  int
}

var dstZones = []dstZone{
	// 02:00 EST -> 03:00 EDT; 02:00 EDT -> 01:00 EST.
	{"America/New_York", [3]int{2026, 3, 8}, 2, [3]int{2026, 11, 1}, 1},
	// 01:00 GMT -> 02:00 BST; 02:00 BST -> 01:00 GMT.
	{"Europe/London", [3]int{2026, 3, 29}, 1, [3]int{2026, 10, 25}, 1},
	// 02:00 AEST -> 03:00 AEDT; 03:00 AEDT -> 02:00 AEST.
	{"Australia/Sydney", [3]int{2026, 10, 4}, 2, [3]int{2026, 4, 5}, 2},
}

func load(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func wallAt(loc *time.Location, d [3]int, h, m int) time.Time {
	return time.Date(d[0], time.Month(d[1]), d[2], h, m, 0, 0, loc)
}

func offset(t time.Time) time.Duration {
	_, off := t.Zone()
	return time.Duration(off) * time.Second
}

// TestDSTDates guards the test data: each listed day really is a transition
// day in the embedded tzdata.
func TestDSTDates(t *testing.T) {
	for _, z := range dstZones {
		loc := load(t, z.name)
		for _, c := range []struct {
			day   [3]int
			delta time.Duration
		}{{z.spring, time.Hour}, {z.fall, -time.Hour}} {
			before, after := wallAt(loc, c.day, 0, 0), wallAt(loc, c.day, 12, 0)
			if d := offset(after) - offset(before); d != c.delta {
				t.Errorf("%s %v: offset changes by %v, want %v", z.name, c.day, d, c.delta)
			}
			if before.Weekday() != time.Sunday {
				t.Errorf("%s %v is a %v", z.name, c.day, before.Weekday())
			}
		}
	}
}

func TestDSTWallClock(t *testing.T) {
	s := mustParse(t, "daily 9-17")
	for _, z := range dstZones {
		loc := load(t, z.name)
		for _, day := range [][3]int{z.spring, z.fall} {
			for _, p := range []struct {
				h, m int
				open bool
			}{{8, 59, false}, {9, 0, true}, {16, 59, true}, {17, 0, false}} {
				at := wallAt(loc, day, p.h, p.m)
				if got := s.Contains(at); got != p.open {
					t.Errorf("%s: Contains(%v) = %v, want %v", z.name, at, got, p.open)
				}
			}
		}
	}
}

// TestDSTOvernight counts the open minutes of "sat 22:00-06:00" across the
// night of each transition: the range is eight wall-clock hours, so seven
// real hours on a spring-forward night and nine on a fall-back night.
func TestDSTOvernight(t *testing.T) {
	s := mustParse(t, "sat 22:00-06:00")
	for _, z := range dstZones {
		loc := load(t, z.name)
		for _, c := range []struct {
			day  [3]int
			want time.Duration
		}{{z.spring, 7 * time.Hour}, {z.fall, 9 * time.Hour}} {
			sun := wallAt(loc, c.day, 0, 0)
			start := sun.Add(-6 * time.Hour) // Saturday 18:00
			var open time.Duration
			for at := start; at.Before(start.Add(18 * time.Hour)); at = at.Add(time.Minute) {
				if s.Contains(at) {
					open += time.Minute
				}
			}
			if open != c.want {
				t.Errorf("%s night before %v: open %v, want %v", z.name, c.day, open, c.want)
			}
			if !s.Contains(wallAt(loc, c.day, 5, 59)) || s.Contains(wallAt(loc, c.day, 6, 0)) {
				t.Errorf("%s %v: want open at 05:59, closed at 06:00", z.name, c.day)
			}
			first, ok := s.NextOpen(start)
			if want := wallAt(loc, c.day, 0, 0).Add(-2 * time.Hour); !ok || !first.Equal(want) {
				t.Errorf("%s: NextOpen(%v) = %v, want %v", z.name, start, first, want)
			}
		}
	}
}

// TestDSTRepeatedHour checks the two instants, one hour apart, that show the
// same wall-clock time on a fall-back day.
func TestDSTRepeatedHour(t *testing.T) {
	for _, z := range dstZones {
		loc := load(t, z.name)
		spec := fmt.Sprintf("sun %02d:00-%02d:00", z.rep, z.rep+1)
		s := mustParse(t, spec)
		// time.Date does not reliably pick either occurrence (it returns the
		// second one in London), so derive both from the transition instant.
		fallBack, _ := wallAt(loc, z.fall, 12, 0).ZoneBounds()
		first, second := fallBack.Add(-30*time.Minute), fallBack.Add(30*time.Minute)
		if first.Hour() != z.rep || second.Hour() != z.rep || second.Minute() != 30 || offset(first) == offset(second) {
			t.Fatalf("%s: %v and %v are not the repeated hour", z.name, first, second)
		}
		for _, at := range []time.Time{first, second} {
			if !s.Contains(at) {
				t.Errorf("%s: %q.Contains(%v) = false", z.name, spec, at)
			}
		}
		if after := second.Add(30 * time.Minute); s.Contains(after) {
			t.Errorf("%s: %q.Contains(%v) = true", z.name, spec, after)
		}
		if before := first.Add(-time.Hour); s.Contains(before) {
			t.Errorf("%s: %q.Contains(%v) = true", z.name, spec, before)
		}

		// NextOpen of a range that opens in the repeated hour.
		s2 := mustParse(t, fmt.Sprintf("sun %02d:30-%02d:45", z.rep, z.rep))
		for _, c := range []struct{ from, want time.Time }{
			{first.Add(-time.Hour), first},                                     // before both
			{first.Add(10 * time.Minute), first.Add(10 * time.Minute)},         // inside the first
			{first.Add(20 * time.Minute), second},                              // between them
			{second.Add(20 * time.Minute), wallAt(loc, z.fall, z.rep+168, 30)}, // next week
		} {
			if got, ok := s2.NextOpen(c.from); !ok || !got.Equal(c.want) {
				t.Errorf("%s: %q.NextOpen(%v) = %v, want %v", z.name, s2, c.from, got, c.want)
			}
		}
	}
}

// TestDSTSkippedHour: a range opening inside the skipped hour opens at the
// moment the clocks jump; a range entirely inside it does not open that day.
func TestDSTSkippedHour(t *testing.T) {
	for _, z := range dstZones {
		loc := load(t, z.name)
		jump, _ := wallAt(loc, z.spring, z.gap+1, 0).ZoneBounds()
		if jump.Hour() != z.gap+1 || jump.Minute() != 0 || offset(jump.Add(-time.Second)) == offset(jump) {
			t.Fatalf("%s: bad jump instant %v", z.name, jump)
		}
		s := mustParse(t, fmt.Sprintf("sun %02d:30-10:00", z.gap))
		from := wallAt(loc, z.spring, 0, 0)
		if got, ok := s.NextOpen(from); !ok || !got.Equal(jump) {
			t.Errorf("%s: %q.NextOpen(%v) = %v, want %v", z.name, s, from, got, jump)
		}
		if !s.Contains(jump) || s.Contains(jump.Add(-time.Nanosecond)) {
			t.Errorf("%s: want %q closed just before %v and open at it", z.name, s, jump)
		}

		inside := mustParse(t, fmt.Sprintf("sun %02d:10-%02d:50", z.gap, z.gap))
		for at := from; at.Before(from.Add(24 * time.Hour)); at = at.Add(time.Minute) {
			if inside.Contains(at) {
				t.Errorf("%s: %q open at %v", z.name, inside, at)
			}
		}
		want := wallAt(loc, z.spring, z.gap+168, 10) // next Sunday
		if got, ok := inside.NextOpen(from); !ok || !got.Equal(want) {
			t.Errorf("%s: %q.NextOpen(%v) = %v, want %v", z.name, inside, from, got, want)
		}
	}
}

// TestTimeDateGap documents why NextOpen does not use time.Date: for the
// skipped 02:30 in New York it yields an instant before the jump, at which
// the schedule is closed.
func TestTimeDateGap(t *testing.T) {
	loc := load(t, "America/New_York")
	s := mustParse(t, "sun 02:30-10:00")
	naive := time.Date(2026, 3, 8, 2, 30, 0, 0, loc)
	if s.Contains(naive) {
		t.Skipf("time.Date now normalises %v into the range", naive)
	}
	got, _ := s.NextOpen(time.Date(2026, 3, 8, 0, 0, 0, 0, loc))
	if want := time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC); !got.Equal(want) || got.Format("15:04 MST") != "03:00 EDT" {
		t.Errorf("NextOpen = %v, want 03:00 EDT", got)
	}
}
