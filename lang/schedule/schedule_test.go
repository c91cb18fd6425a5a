package schedule

import (
	"testing"
	"time"
)

func mustParse(t testing.TB, spec string) *Schedule {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return s
}

// week is a reference week in UTC: week[time.Monday] is Monday 2026-06-01.
var week = func() (w [7]time.Time) {
	mon := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 7; i++ {
		d := mon.AddDate(0, 0, i)
		w[d.Weekday()] = d
	}
	return w
}()

// on returns hh:mm on the given weekday of the reference week; a day of
// time.Saturday+1 means the following Sunday.
func on(wd time.Weekday, hhmm string) time.Time {
	d := week[wd%7]
	if wd == time.Saturday+1 {
		d = d.AddDate(0, 0, 7)
	}
	c, err := time.Parse("15:04", hhmm)
	if err != nil {
		panic(err)
	}
	return d.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute)
}

type probe struct {
	day  time.Weekday
	hhmm string
	open bool
}

func checkProbes(t *testing.T, spec string, probes []probe) {
	t.Helper()
	s := mustParse(t, spec)
	for _, p := range probes {
		at := on(p.day, p.hhmm)
		if got := s.Contains(at); got != p.open {
			t.Errorf("%q.Contains(%s %s) = %v, want %v", spec, at.Weekday(), p.hhmm, got, p.open)
		}
	}
}

func TestReferenceWeek(t *testing.T) {
	if week[time.Monday].Format(time.DateOnly) != "2026-06-01" || week[time.Sunday].Format(time.DateOnly) != "2026-06-07" {
		t.Fatalf("bad reference week %v", week)
	}
}

func TestShorthand(t *testing.T) {
	mon := time.Monday
	checkProbes(t, "9-5", []probe{
		{mon, "08:59", false}, {mon, "09:00", true}, {mon, "12:00", true},
		{mon, "16:59", true}, {mon, "17:00", false}, {mon, "05:00", false},
	})
	checkProbes(t, "8-8", []probe{
		{mon, "07:59", false}, {mon, "08:00", true}, {mon, "19:59", true}, {mon, "20:00", false},
	})
	checkProbes(t, "10-2", []probe{
		{mon, "09:59", false}, {mon, "10:00", true}, {mon, "13:59", true}, {mon, "14:00", false}, {mon, "01:00", false},
	})
	// 24-hour forms: no shorthand.
	checkProbes(t, "9-17", []probe{
		{mon, "08:59", false}, {mon, "09:00", true}, {mon, "16:59", true}, {mon, "17:00", false},
	})
	checkProbes(t, "9:30-17:00", []probe{
		{mon, "09:29", false}, {mon, "09:30", true}, {mon, "16:59", true}, {mon, "17:00", false},
	})
	checkProbes(t, "9-12", []probe{
		{mon, "11:59", true}, {mon, "12:00", false}, {mon, "21:00", false},
	})
	// Minutes disable the shorthand: 9:30-5 is overnight.
	checkProbes(t, "mon 9:30-5", []probe{
		{mon, "12:00", true}, {mon, "23:00", true}, {mon + 1, "04:59", true}, {mon + 1, "05:00", false}, {mon, "17:00", true},
	})
}

func TestHalfOpenSeconds(t *testing.T) {
	s := mustParse(t, "9-17")
	end := on(time.Monday, "17:00")
	if !s.Contains(end.Add(-time.Nanosecond)) {
		t.Error("16:59:59.999999999 should be open")
	}
	if s.Contains(end) {
		t.Error("17:00:00 should be closed")
	}
	if s.Contains(on(time.Monday, "09:00").Add(-time.Nanosecond)) {
		t.Error("08:59:59.999999999 should be closed")
	}
}

func TestOvernight(t *testing.T) {
	mon, tue := time.Monday, time.Tuesday
	checkProbes(t, "22:00-06:00", []probe{
		{mon, "21:59", false}, {mon, "22:00", true}, {mon, "23:00", true},
		{tue, "00:00", true}, {tue, "05:59", true}, {tue, "06:00", false}, {tue, "12:00", false},
	})
	checkProbes(t, "22-6", []probe{
		{mon, "23:00", true}, {tue, "05:59", true}, {tue, "06:00", false},
	})
	// Belongs to the day it starts on.
	checkProbes(t, "mon 22:00-06:00", []probe{
		{mon, "05:59", false}, {mon, "23:00", true}, {tue, "05:59", true}, {tue, "06:00", false}, {tue, "23:00", false},
	})
	checkProbes(t, "fri 22:00-02:00", []probe{
		{time.Friday, "01:00", false}, {time.Friday, "22:00", true},
		{time.Saturday, "01:59", true}, {time.Saturday, "02:00", false}, {time.Saturday, "23:00", false},
	})
	// Sunday night wraps to Monday morning.
	checkProbes(t, "sun 23:00-01:00", []probe{
		{time.Sunday, "23:30", true}, {time.Monday, "00:30", true}, {time.Monday, "01:00", false},
		{time.Saturday + 1, "00:30", false},
	})
	checkProbes(t, "22:00-00:00", []probe{
		{mon, "23:59", true}, {tue, "00:00", false},
	})
}

func TestDays(t *testing.T) {
	days := []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	cases := []struct {
		spec string
		open []time.Weekday
	}{
		{"fri-mon 10-16", []time.Weekday{time.Friday, time.Saturday, time.Sunday, time.Monday}},
		{"sat-tue 10-16", []time.Weekday{time.Saturday, time.Sunday, time.Monday, time.Tuesday}},
		{"mon-fri 10-16", []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}},
		{"weekdays 10-16", []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}},
		{"weekends 10-16", []time.Weekday{time.Saturday, time.Sunday}},
		{"daily 10-16", days},
		{"10-16", days},
		{"wed-tue 10-16", days},
		{"Thursday 10-16", []time.Weekday{time.Thursday}},
		{"sun 10-16", []time.Weekday{time.Sunday}},
		{"mon 10-16, wed 10-16, fri all-day", []time.Weekday{time.Monday, time.Wednesday, time.Friday}},
	}
	for _, tc := range cases {
		s := mustParse(t, tc.spec)
		want := map[time.Weekday]bool{}
		for _, d := range tc.open {
			want[d] = true
		}
		for _, d := range days {
			if got := s.Contains(on(d, "12:00")); got != want[d] {
				t.Errorf("%q.Contains(%s 12:00) = %v, want %v", tc.spec, d, got, want[d])
			}
		}
	}
}

func TestAllDay(t *testing.T) {
	checkProbes(t, "sat all-day", []probe{
		{time.Friday, "23:59", false}, {time.Saturday, "00:00", true}, {time.Saturday, "23:59", true}, {time.Saturday + 1, "00:00", false},
	})
	checkProbes(t, "sat 00:00-24:00", []probe{
		{time.Saturday, "00:00", true}, {time.Saturday, "23:59", true}, {time.Saturday + 1, "00:00", false},
	})
}

func TestContainsUsesLocation(t *testing.T) {
	s := mustParse(t, "mon-fri 9-17")
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := on(time.Monday, "20:00") // 16:00 EDT
	if s.Contains(at) {
		t.Error("20:00 UTC should be closed")
	}
	if !s.Contains(at.In(ny)) {
		t.Error("16:00 EDT should be open")
	}
	sat := on(time.Saturday, "02:00") // Friday 22:00 EDT
	if s.Contains(sat.In(ny)) {
		t.Error("Friday 22:00 EDT should be closed")
	}
}

func TestNilSchedule(t *testing.T) {
	var s *Schedule
	if s.Contains(on(time.Monday, "12:00")) {
		t.Error("nil schedule open")
	}
	if _, ok := s.NextOpen(on(time.Monday, "12:00")); ok {
		t.Error("nil schedule NextOpen ok")
	}
	if s.String() != "" {
		t.Error("nil schedule String")
	}
	if (&Schedule{}).Contains(on(time.Monday, "12:00")) {
		t.Error("zero schedule open")
	}
}

func TestNextOpen(t *testing.T) {
	cases := []struct {
		spec string
		from time.Time
		want time.Time
	}{
		{"mon-fri 9-17", on(time.Monday, "08:00"), on(time.Monday, "09:00")},
		{"mon-fri 9-17", on(time.Monday, "10:00"), on(time.Monday, "10:00")},
		{"mon-fri 9-17", on(time.Monday, "17:00"), on(time.Tuesday, "09:00")},
		{"mon-fri 9-17", on(time.Friday, "17:00"), on(time.Monday, "09:00").AddDate(0, 0, 7)},
		{"mon-fri 9-17", on(time.Saturday, "12:00"), on(time.Monday, "09:00").AddDate(0, 0, 7)},
		{"mon-fri 9-17", on(time.Monday, "08:59").Add(59*time.Second + 500*time.Millisecond), on(time.Monday, "09:00")},
		{"mon 9-10", on(time.Monday, "10:00"), on(time.Monday, "09:00").AddDate(0, 0, 7)},
		{"mon 9-10, mon 12-13", on(time.Monday, "10:30"), on(time.Monday, "12:00")},
		{"fri 22:00-02:00", on(time.Saturday, "01:00"), on(time.Saturday, "01:00")},
		{"fri 22:00-02:00", on(time.Saturday, "02:00"), on(time.Friday, "22:00").AddDate(0, 0, 7)},
		{"sun 23:00-01:00", on(time.Monday, "00:59"), on(time.Monday, "00:59")},
		{"all-day", on(time.Wednesday, "03:17"), on(time.Wednesday, "03:17")},
	}
	for _, tc := range cases {
		s := mustParse(t, tc.spec)
		got, ok := s.NextOpen(tc.from)
		if !ok || !got.Equal(tc.want) {
			t.Errorf("%q.NextOpen(%v) = %v, %v; want %v", tc.spec, tc.from, got, ok, tc.want)
		}
		if got.Location() != tc.from.Location() {
			t.Errorf("%q.NextOpen: location %v, want %v", tc.spec, got.Location(), tc.from.Location())
		}
	}
}

func TestContainsNoAllocs(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	s := mustParse(t, "mon-fri 09:00-17:30, sat 10-14, fri-sat 22:00-02:00")
	h, err := ParseHolidays([]string{"2026-12-25", "2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	c := Calendar{Schedule: s, Holidays: h}
	at := time.Date(2026, 12, 25, 10, 0, 0, 0, ny)
	var sink bool
	if n := testing.AllocsPerRun(100, func() { sink = s.Contains(at) }); n != 0 {
		t.Errorf("Schedule.Contains allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { sink = c.Open(at) }); n != 0 {
		t.Errorf("Calendar.Open allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { sink = h.Contains(at) }); n != 0 {
		t.Errorf("Holidays.Contains allocates %v times", n)
	}
	_ = sink
}

func BenchmarkContains(b *testing.B) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	s := mustParse(b, "mon-fri 09:00-17:30, sat 10-14, fri-sat 22:00-02:00")
	h, err := ParseHolidays([]string{"2026-01-01", "2026-07-03", "2026-11-26", "2026-12-25"})
	if err != nil {
		b.Fatal(err)
	}
	c := Calendar{Schedule: s, Holidays: h}
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, ny)
	var ts [64]time.Time
	for i := range ts {
		ts[i] = base.Add(time.Duration(i) * 157 * time.Minute)
	}
	var sink bool
	b.Run("Schedule", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sink = s.Contains(ts[i%len(ts)])
			i++
		}
	})
	b.Run("Calendar", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sink = c.Open(ts[i%len(ts)])
			i++
		}
	})
	_ = sink
}
