package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// Set at link time by release builds that have no VCS metadata to stamp
// (the Dockerfile passes -ldflags "-X main.commit=… -X main.version=…");
// otherwise read from the build info the go command embeds.
var (
	version = ""
	commit  = ""
)

func init() {
	register(command{name: "version", summary: "print the version, commit and Go version", run: runVersion})
}

// buildVersion reports the module version, the VCS commit (with "-dirty"
// when built from a modified tree) and the Go version of this binary.
func buildVersion() (mod, rev, goVersion string) {
	mod, rev, goVersion = version, commit, "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return orUnknown(mod), orUnknown(rev), goVersion
	}
	goVersion = info.GoVersion
	if mod == "" {
		mod = info.Main.Version // "(devel)" for a build in a checkout
	}
	if rev == "" {
		var dirty bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" && dirty {
			rev += "-dirty"
		}
	}
	return orUnknown(mod), orUnknown(rev), goVersion
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: flowc version")
		return exitUsage
	}
	mod, rev, gov := buildVersion()
	fmt.Fprintf(stdout, "flowc %s\ncommit %s\n%s\n", mod, rev, gov)
	return exitOK
}
