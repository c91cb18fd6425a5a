package main

import (
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime/applet"
)

func TestAppletLimitsFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	lim, err := appletLimits(env())
	if err != nil || lim != (applet.Limits{}) {
		t.Errorf("unset: %+v, %v; want the defaults", lim, err)
	}
	lim, err = appletLimits(env("FLOWC_APPLET_TIMEOUT", "200ms", "FLOWC_APPLET_MAX_MEMORY", "512MiB"))
	if err != nil || lim.Timeout != 200*time.Millisecond || lim.MaxMemory != 512<<20 {
		t.Errorf("set: %+v, %v", lim, err)
	}
	if lim, err := appletLimits(env("FLOWC_APPLET_MAX_MEMORY", "1073741824")); err != nil || lim.MaxMemory != 1<<30 {
		t.Errorf("bytes: %+v, %v", lim, err)
	}
	for _, bad := range [][2]string{
		{"FLOWC_APPLET_TIMEOUT", "50"}, {"FLOWC_APPLET_TIMEOUT", "-1s"}, {"FLOWC_APPLET_TIMEOUT", "2h"},
		{"FLOWC_APPLET_MAX_MEMORY", "1MiB"}, {"FLOWC_APPLET_MAX_MEMORY", "lots"}, {"FLOWC_APPLET_MAX_MEMORY", "99999999999999GiB"},
	} {
		if _, err := appletLimits(env(bad[0], bad[1])); err == nil || !strings.HasPrefix(err.Error(), bad[0]+"=") {
			t.Errorf("%s=%s: err = %v, want an error naming the variable", bad[0], bad[1], err)
		}
	}
	// A bad value stops the command before anything runs.
	t.Setenv("FLOWC_APPLET_TIMEOUT", "soon")
	code, _, errs := runFlowc(t, "test", "../../examples")
	if code != exitUsage || !strings.Contains(errs, "FLOWC_APPLET_TIMEOUT=\"soon\"") {
		t.Errorf("flowc test with a bad FLOWC_APPLET_TIMEOUT: exit %d, stderr %q", code, errs)
	}
}
