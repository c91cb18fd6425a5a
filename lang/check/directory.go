package check

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// Codes of the directory checks.
const (
	CodeUnknownTarget = "flow/unknown-target"
	CodeEmptyTeam     = "flow/empty-team"
)

// Directory checks every `inbox team:NAME`, `inbox user:NAME` and `queue
// team:NAME` of files
// against the directory: an unknown name is an error (a typo would route
// every message to an inbox nobody reads), a team nobody can take items
// for is a warning. Without a directory (d nil) nothing is checked: the
// server would start with an empty directory too, and reporting every
// target as unknown would bury real problems.
func Directory(files []*syntax.File, d *directory.Directory) diag.List {
	var diags diag.List
	if d == nil {
		return diags
	}
	var users, teams []string
	for _, u := range d.Users {
		users = append(users, u.Name)
	}
	for _, t := range d.Teams {
		teams = append(teams, t.Name)
	}
	for _, f := range files {
		eachCommand(f, func(cmd *syntax.Command) {
			a, ok := registry.Lookup(cmd.Name.Value)
			if !ok || a.Name != "inbox" && a.Name != "queue" && a.Name != "ring" {
				return
			}
			b, _ := Bind(a, cmd.Args)
			v := b.Positional[0]
			if v == nil || v.Type() != syntax.VTarget || v.Computed() {
				return // a computed name is checked when it runs (vm)
			}
			kind, name := v.TargetKind(), v.Text()
			start := syntax.Start(v) + len(v.Kind)
			sp := f.Source.Span(start, start+len(v.Tok))
			switch kind {
			case "team":
				t, ok := d.Team(name)
				if !ok {
					unknown(&diags, sp, kind, name, teams)
					return
				}
				switch {
				case len(t.Members) == 0:
					diags.Warnf(sp, CodeEmptyTeam, "team %q has no members: its inbox items reach nobody", name).Hint =
						"add members to the team in the directory"
				case len(d.Members(name)) == 0:
					diags.Warnf(sp, CodeEmptyTeam, "no member of team %q is available: its inbox items reach nobody now", name).Hint =
						fmt.Sprintf("members %s are all marked \"available\": false in the directory", strings.Join(t.Members, ", "))
				}
				if a.Name == "ring" {
					unringable(&diags, sp, d, t.Members...) // voice.go
				}
			case "user":
				if _, ok := d.User(name); !ok {
					unknown(&diags, sp, kind, name, users)
				} else if a.Name == "ring" {
					unringable(&diags, sp, d, name) // voice.go
				}
			}
		})
	}
	diags.Sort()
	return diags
}

func unknown(diags *diag.List, sp file.Span, kind, name string, known []string) {
	d := diags.Errorf(sp, CodeUnknownTarget, "no %s named %q in the directory", kind, name)
	if s := Suggest(name, known); s != "" {
		d.Hint, d.Fixes = fmt.Sprintf("did you mean %s:%s?", kind, s), NameFix(sp, name, s)
	} else {
		d.Hint = knownHint(kind, name, known)
	}
}

// maxListed is how many names a hint lists whole: a directory of
// hundreds of teams is not advice.
const maxListed = 8

// knownHint is the hint for a name the directory does not have and that
// is no close misspelling of one: the names, when there are few; else
// those that contain it or that it contains (sales for sales-east, or the
// other way round); else how many there are.
func knownHint(kind, name string, known []string) string {
	switch {
	case len(known) == 0:
		return fmt.Sprintf("the directory has no %ss", kind)
	case len(known) <= maxListed:
		return fmt.Sprintf("%ss in the directory: %s", kind, strings.Join(known, ", "))
	}
	var like []string
	lower := strings.ToLower(name)
	for _, k := range known {
		if lk := strings.ToLower(k); strings.Contains(lk, lower) || strings.Contains(lower, lk) {
			like = append(like, k)
		}
	}
	if len(like) > 0 && len(like) <= maxListed {
		sort.Strings(like)
		return fmt.Sprintf("%ss named like it: %s", kind, strings.Join(like, ", "))
	}
	return fmt.Sprintf("none of the directory's %d %ss is named like it: check the spelling, or add it to %s", len(known), kind, directory.FileName)
}

// eachCommand calls fn for every command of f, in source order, inside
// sections, conditions and branches too.
func eachCommand(f *syntax.File, fn func(*syntax.Command)) {
	syntax.WalkFile(f, func(n syntax.Node) bool {
		if cmd, ok := n.(*syntax.Command); ok {
			fn(cmd)
		}
		return true
	})
}
