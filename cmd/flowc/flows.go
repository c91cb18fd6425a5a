package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/flowc-dev/flowc/server"
)

func init() {
	register(command{name: "flows", summary: "list a server's flows, or one flow's versions (flowc flows NAME)", run: runFlows})
}

func runFlows(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows", "flowc flows [FLOW] [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch len(paths) {
	case 0:
		var flows []struct {
			Flow          string    `json:"flow"`
			ActiveVersion string    `json:"active_version"`
			Numbers       []string  `json:"numbers"`
			Deployed      time.Time `json:"deployed"`
		}
		if code, err := c.call("GET", "/v1/admin/flows", nil, &flows, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc flows:", err)
			return clientExit(code)
		}
		fmt.Fprintln(tw, "FLOW\tACTIVE VERSION\tDEPLOYED\tNUMBERS")
		for _, f := range flows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", f.Flow, short(f.ActiveVersion), f.Deployed.Format(time.RFC3339), f.Numbers)
		}
	case 1:
		var versions []server.VersionInfo
		if code, err := c.call("GET", "/v1/admin/flows/"+url.PathEscape(paths[0])+"/versions", nil, &versions, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc flows:", err)
			return clientExit(code)
		}
		fmt.Fprintln(tw, "VERSION\tCREATED\tBY\tACTIVE\tNUMBERS")
		for _, v := range versions {
			active, by := "", v.DeployedBy
			if v.Active {
				active = "active"
			}
			if by == "" {
				by = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", v.Version, v.Created.Format(time.RFC3339), by, active, v.Numbers)
		}
	default:
		fs.Usage()
		return exitUsage
	}
	return exitOK
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}
