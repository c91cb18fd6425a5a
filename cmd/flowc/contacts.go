package main

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
)

func init() {
	register(command{name: "contacts", summary: "show one contact as flows see it (contacts NUMBER), or change it: contacts set NUMBER name=… owner=… tags=a,b field.NAME=VALUE", run: runContacts})
}

// contactView is the server's ContactView.
type contactView struct {
	Phone  string            `json:"phone"`
	Known  bool              `json:"known"`
	Name   string            `json:"name"`
	Owner  string            `json:"owner"`
	Tags   []string          `json:"tags"`
	Fields map[string]string `json:"fields"`
}

func runContacts(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("contacts", "flowc contacts NUMBER | contacts set NUMBER [name=NAME] [owner=USER] [tags=A,B] [field.NAME=VALUE]… [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	var v contactView
	switch {
	case len(paths) == 1 && paths[0] != "set":
		if code, err := c.call("GET", "/v1/admin/contacts/"+url.PathEscape(paths[0]), nil, &v, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc contacts:", err)
			return clientExit(code)
		}
	case len(paths) >= 3 && paths[0] == "set":
		patch, err := contactPatch(paths[2:])
		if err != nil {
			fmt.Fprintln(stderr, "flowc contacts set:", err)
			return exitUsage
		}
		if code, err := c.call("PATCH", "/v1/admin/contacts/"+url.PathEscape(paths[1]), patch, &v, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc contacts set:", err)
			return clientExit(code)
		}
	default:
		fs.Usage()
		return exitUsage
	}
	printContact(stdout, v)
	return exitOK
}

// contactPatch reads KEY=VALUE arguments: name, owner, tags (comma
// separated, empty for none) and field.NAME (empty removes the field).
func contactPatch(args []string) (map[string]any, error) {
	patch := map[string]any{}
	fields := map[string]any{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want KEY=VALUE (name=, owner=, tags=, field.NAME=)", a)
		}
		switch {
		case k == "name" || k == "owner":
			patch[k] = v
		case k == "tags":
			tags := []string{}
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					tags = append(tags, t)
				}
			}
			patch["tags"] = tags
		case strings.HasPrefix(k, "field.") && len(k) > len("field."):
			if v == "" {
				fields[k[len("field."):]] = nil
			} else {
				fields[k[len("field."):]] = v
			}
		default:
			return nil, fmt.Errorf("%q: unknown key %q (name, owner, tags, field.NAME)", a, k)
		}
	}
	if len(fields) > 0 {
		patch["fields"] = fields
	}
	if len(patch) == 0 {
		return nil, fmt.Errorf("nothing to change: give name=, owner=, tags= or field.NAME=")
	}
	return patch, nil
}

func printContact(w io.Writer, v contactView) {
	known := ""
	if !v.Known {
		known = " (not in the directory)"
	}
	fmt.Fprintf(w, "%s%s\n", v.Phone, known)
	if v.Name != "" {
		fmt.Fprintf(w, "  name:  %s\n", v.Name)
	}
	if v.Owner != "" {
		fmt.Fprintf(w, "  owner: %s\n", v.Owner)
	}
	fmt.Fprintf(w, "  tags:  %s\n", strings.Join(v.Tags, ", "))
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  field %s = %s\n", k, v.Fields[k])
	}
}
