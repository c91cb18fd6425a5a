package schedule

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, tc := range goodSpecs {
		f.Add(tc.spec)
	}
	for _, tc := range badSpecs {
		f.Add(tc.spec)
	}
	for _, s := range []string{"mon 22-6, tue 5-9", "mon-fri 9-17, daily 22:00-02:00", "sun 02:30-10:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %T, want *SyntaxError", spec, err)
			}
			if se.Offset < 0 || se.Offset > se.End || se.End > len(spec) || se.Msg == "" {
				t.Fatalf("Parse(%q): bad error position %d-%d (len %d): %q", spec, se.Offset, se.End, len(spec), se.Msg)
			}
			return
		}
		canon := s.String()
		s2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String() %q fails: %v", spec, canon, err)
		}
		if got := s2.String(); got != canon {
			t.Fatalf("String() not stable: %q -> %q -> %q", spec, canon, got)
		}
		if !sameTables(s, s2) {
			t.Fatalf("%q and its canonical form %q are not equivalent", spec, canon)
		}
	})
}

// checkNextOpen verifies that got is the earliest instant >= from at which
// open reports true, by scanning every wall-clock minute boundary in
// between (openness can only change there, as the zones used have
// whole-minute offsets).
func checkNextOpen(t *testing.T, what string, open func(time.Time) bool, from, got time.Time, ok bool) {
	t.Helper()
	if !ok {
		t.Fatalf("%s: NextOpen(%v) not ok", what, from)
	}
	if got.Before(from) || !open(got) || got.Location() != from.Location() {
		t.Fatalf("%s: NextOpen(%v) = %v: before start, closed, or wrong location", what, from, got)
	}
	if got.Equal(from) {
		return
	}
	if open(got.Add(-time.Nanosecond)) {
		t.Fatalf("%s: NextOpen(%v) = %v, but already open a nanosecond earlier", what, from, got)
	}
	if open(from) {
		t.Fatalf("%s: open at %v, but NextOpen = %v", what, from, got)
	}
	for at := from.Truncate(time.Minute).Add(time.Minute); at.Before(got); at = at.Add(time.Minute) {
		if open(at) {
			t.Fatalf("%s: NextOpen(%v) = %v, but open at %v", what, from, got, at)
		}
	}
}

var randomSpecs = []string{
	"mon-fri 9-17", "sat 22:00-06:00", "sun 02:30-10:00", "sun 01:30-01:45", "sun 02:10-02:50",
	"fri-mon 23:00-01:00, wed 12-13", "mon 22-6, tue 5-9", "daily 00:00-00:01", "sun 01:00-02:00, sun 03:00-03:30",
	"weekends 02:00-02:30", "thu 0-24", "sun 3-2",
}

// TestNextOpenProperty checks NextOpen against a brute-force scan around
// the 2026 DST transitions of the test zones, for Schedule and Calendar.
func TestNextOpenProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 300
	if testing.Short() {
		n = 30
	}
	for i := 0; i < n; i++ {
		z := dstZones[rng.IntN(len(dstZones))]
		loc := load(t, z.name)
		day := z.spring
		if rng.IntN(2) == 0 {
			day = z.fall
		}
		spec := randomSpecs[rng.IntN(len(randomSpecs))]
		s := mustParse(t, spec)
		from := wallAt(loc, day, 0, 0).Add(time.Duration(rng.Int64N(int64(72*time.Hour))) - 36*time.Hour)
		if rng.IntN(3) == 0 {
			from = from.Truncate(time.Minute)
		}
		got, ok := s.NextOpen(from)
		checkNextOpen(t, spec+" in "+z.name, s.Contains, from, got, ok)

		var dates []string
		for d := -2; d <= 2; d++ {
			if rng.IntN(2) == 0 {
				dates = append(dates, wallAt(loc, day, 12, 0).AddDate(0, 0, d).Format(time.DateOnly))
			}
		}
		h, err := ParseHolidays(dates)
		if err != nil {
			t.Fatal(err)
		}
		c := Calendar{Schedule: s, Holidays: h}
		got, ok = c.NextOpen(from)
		checkNextOpen(t, fmt.Sprintf("%s with holidays %v in %s", spec, h.Dates(), z.name), c.Open, from, got, ok)
	}
}
