package lsp

import (
	"testing"

	"github.com/flowc-dev/flowc/lang/syntax"
)

// TestCompleteHistoryFields: completion after contact., number.,
// contact.last_interaction?. and contact.campaign?. offers their fields,
// typed in flowc's words, and list() is offered with the functions.
func TestCompleteHistoryFields(t *testing.T) {
	f := &fileState{idx: &Index{}}
	for _, tc := range []struct {
		before string
		want   map[string]string // label → detail
	}{
		{`when contact.`, map[string]string{"last_texted_by": "string", "last_called_by": "string", "last_interaction": "interaction", "interactions": "list", "campaign": "campaign", "owner": "string"}},
		{`reply "{{number.`, map[string]string{"backup_email": "string", "settings": "map", "name": "string"}},
		{`when contact.last_interaction?.u`, map[string]string{"kind": "string", "user": "string", "at": "time", "direction": "string"}},
		{`when contact.campaign?.`, map[string]string{"reply_user": "string", "reply_email": "string", "name": "string"}},
		{`inbox user:(contact.`, map[string]string{"last_texted_by": "string"}},
	} {
		got := map[string]string{}
		for _, it := range complete(f, tc.before) {
			got[it.Label] = it.Detail
		}
		for label, detail := range tc.want {
			if d, ok := got[label]; !ok || d != detail {
				t.Errorf("%s: %s is %q (offered %v), want %q", tc.before, label, d, ok, detail)
			}
		}
	}
	offered := false
	for _, it := range complete(f, `when from in l`) {
		offered = offered || it.Label == "list"
	}
	if !offered {
		t.Error("list() is not offered in an expression")
	}
}

// TestIndexComputedTargets: a computed target is an expression (its
// variables are references), not a user or team named "(…)".
func TestIndexComputedTargets(t *testing.T) {
	f, _ := syntax.ParseString("f.flow", "flow f\nnumbers \"+15550100\"\nset who = contact.owner\ninbox user:(who ?? contact.last_texted_by) < on error -> inbox team:sales >\n")
	x := BuildIndex(f)
	var uses, users int
	for _, r := range x.Refs {
		switch {
		case r.Kind == RefVariable && r.Name == "who" && !r.Def:
			uses++
		case r.Kind == RefUser:
			users++
		}
	}
	if uses != 1 || users != 0 {
		t.Errorf("refs %+v: want one use of who and no user", x.Refs)
	}
}
