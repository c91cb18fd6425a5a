package server

import "time"

// SetAdminReadClock replaces the clock and the timer of the admin read
// slots (adminGate.now, adminGate.after), so a test decides how long a
// read took and when its rest ends.
func SetAdminReadClock(s *Server, now func() time.Time, after func(time.Duration, func())) {
	s.adminReads.now, s.adminReads.after = now, after
}
