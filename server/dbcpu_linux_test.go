package server_test

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// databaseCPU is the CPU time used so far by a PostgreSQL server on this
// machine (its postmaster, the children it has reaped and the live
// ones, from /proc), or 0 when there is none to read: the benchmarks'
// database side, which the process's own CPU time does not include.
// Connections that end are counted through the postmaster's reaped
// children's time.
func databaseCPU() time.Duration {
	pm := postmaster()
	if pm == 0 {
		return 0
	}
	ticks := procTicks(pm, true)
	children, _ := os.ReadFile("/proc/" + strconv.Itoa(pm) + "/task/" + strconv.Itoa(pm) + "/children")
	for _, c := range strings.Fields(string(children)) {
		if pid, err := strconv.Atoi(c); err == nil {
			ticks += procTicks(pid, false)
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// postmaster is the pid of the oldest process named "postgres", 0 if
// none.
func postmaster() int {
	entries, _ := os.ReadDir("/proc")
	best, bestStart := 0, int64(-1)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := procStat(pid)
		if len(f) < 22 || f[1] != "(postgres)" {
			continue
		}
		start, _ := strconv.ParseInt(f[21], 10, 64)
		if bestStart < 0 || start < bestStart {
			best, bestStart = pid, start
		}
	}
	return best
}

// procStat is /proc/pid/stat's fields (the command, in parentheses,
// as one field when it has no spaces, as postgres's has not).
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// procTicks is pid's user and system time, with its reaped children's
// when reaped.
func procTicks(pid int, reaped bool) int64 {
	f := procStat(pid)
	if len(f) < 17 {
		return 0
	}
	var t int64
	last := 14
	if reaped {
		last = 16
	}
	for i := 13; i <= last; i++ {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		t += n
	}
	return t
}
