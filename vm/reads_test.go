package vm_test

import (
	"bytes"
	"testing"

	"github.com/flowc-dev/flowc/vm"
)

// TestProgramReads: a program says which of the contact's history, its
// edits and the lists it may read (what a server then leaves unread),
// the same once encoded, decoded and linked again.
func TestProgramReads(t *testing.T) {
	const head = "flow f\nnumbers \"+15550100\"\n"
	for _, c := range []struct {
		name, src string
		applets   []string
		want      vm.Reads
	}{
		{"nothing", head + "when hours(\"9-5\") < reply \"open {{body}}\" > else reply \"closed\"\n", nil, vm.Reads{}},
		{"name only", head + "reply \"hi {{contact.name ?? 'there'}}\"\n", nil, vm.Reads{}},
		{"known and owner", head + "when contact.known and contact.owner != nil < reply \"a\" > else reply \"b\"\n", nil, vm.Reads{}},
		{"last texted by", head + "reply \"{{contact.last_texted_by ?? 'nobody'}}\"\n", nil, vm.Reads{History: true}},
		{"interactions", head + "when len(contact.interactions) > 2 < reply \"a\" > else reply \"b\"\n", nil, vm.Reads{History: true}},
		{"campaign", head + "when contact.campaign != nil < reply \"a\" > else reply \"b\"\n", nil, vm.Reads{History: true}},
		{"last interaction", head + "when contact.last_interaction?.kind == \"call\" < reply \"a\" > else reply \"b\"\n", nil, vm.Reads{History: true}},
		{"tags", head + "when \"vip\" in contact.tags < reply \"a\" > else reply \"b\"\n", nil, vm.Reads{Edits: true}},
		{"fields", head + "reply \"{{contact.fields.plan ?? 'none'}}\"\n", nil, vm.Reads{Edits: true}},
		{"index", head + "reply \"{{contact['tags']}}\"\n", nil, vm.Reads{Edits: true}},
		{"whole contact", head + "reply \"{{contact}}\"\n", nil, vm.Reads{History: true, Edits: true}},
		{"applet", head + "applet a = \"a.js\"\nrun a(body) < on error -> inbox team:x >\nreply \"done\"\n", []string{"a"}, vm.Reads{History: true, Edits: true}},
		{"once per", head + "reply \"closed\" once per 12h\n", nil, vm.Reads{Edits: true}},
		{"list", head + "when from in list(\"blocked\") < reply \"a\" > else reply \"b\"\n", nil, vm.Reads{Lists: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := compileFlow(t, c.src, c.applets...)
			if got := p.Reads(); got != c.want {
				t.Errorf("compiled: %+v, want %+v", got, c.want)
			}
			var buf bytes.Buffer
			if err := p.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			q, err := vm.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Reads(); len(q.Exprs) > 0 && got != (vm.Reads{History: true, Edits: true, Lists: true}) {
				t.Errorf("decoded, not linked: %+v, want every read", got)
			}
			if err := vm.Link(q); err != nil {
				t.Fatal(err)
			}
			if got := q.Reads(); got != c.want {
				t.Errorf("decoded and linked: %+v, want %+v", got, c.want)
			}
		})
	}
}
