// Package buildinfo names the build of this binary: module version, VCS
// commit and Go version. `flowc version` prints it and the server exports
// it as flowc_build_info, so a log line, a dashboard or a bug report leads
// back to the source.
package buildinfo

import "runtime/debug"

// Set at link time by release builds that have no VCS metadata to stamp
// (the Dockerfile passes
// -ldflags "-X github.com/flowc-dev/flowc/internal/buildinfo.Commit=…");
// otherwise read from the build info the go command embeds.
var (
	Version = ""
	Commit  = ""
)

// Read reports the module version, the VCS commit (with "-dirty" when
// built from a modified tree) and the Go version of this binary; each is
// "unknown" when the binary does not say.
func Read() (mod, rev, goVersion string) {
	mod, rev, goVersion = Version, Commit, "unknown"
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
