package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/flowc-dev/flowc/server"
)

// PATCH /v1/admin/contacts/{phone} changes one contact, and what it
// names wins over what flows had changed: the next message sees it.
func TestPatchContact(t *testing.T) {
	h := startFlow(t, `numbers "+15550100"
when "vip" in contact.tags <
  untag "vip"
  field "plan" "pro"
  end
>
reply "{{ contact.name ?? 'stranger' }}: plan {{ contact.fields.plan ?? 'none' }}, tags {{ join(contact.tags, ',') }}"
`, nil)
	h.text(ann, "+15550100", "hi") // the flow removes vip and sets plan
	if got := h.text(ann, "+15550100", "again"); got != twiml("Ann: plan pro, tags ") {
		t.Fatalf("after the flow's edits: %s", got)
	}
	view := func(code int, b []byte) server.ContactView {
		t.Helper()
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, b)
		}
		var v server.ContactView
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := view(h.admin("GET", "/v1/admin/contacts/"+ann, adminTokenForEffects, nil))
	if v.Name != "Ann" || len(v.Tags) != 0 || !reflect.DeepEqual(v.Fields, map[string]string{"plan": "pro"}) {
		t.Fatalf("GET = %+v", v)
	}
	v = view(h.admin("PATCH", "/v1/admin/contacts/"+ann, adminTokenForEffects,
		map[string]any{"fields": map[string]any{"plan": "enterprise", "region": "east"}, "tags": []string{"gold"}, "owner": "bob"}))
	if v.Owner != "bob" || !reflect.DeepEqual(v.Tags, []string{"gold"}) || !reflect.DeepEqual(v.Fields, map[string]string{"plan": "enterprise", "region": "east"}) {
		t.Fatalf("PATCH = %+v", v)
	}
	if got := h.text(ann, "+15550100", "third"); got != twiml("Ann: plan enterprise, tags gold") {
		t.Fatalf("after PATCH: %s", got)
	}
	// A field set to null is removed; the rest of the contact stays.
	v = view(h.admin("PATCH", "/v1/admin/contacts/"+ann, adminTokenForEffects, map[string]any{"fields": map[string]any{"region": nil}}))
	if v.Name != "Ann" || !reflect.DeepEqual(v.Fields, map[string]string{"plan": "enterprise"}) {
		t.Fatalf("PATCH null = %+v", v)
	}
	// A number the directory does not know gets an entry; the others are kept.
	v = view(h.admin("PATCH", "/v1/admin/contacts/+15550009999", adminTokenForEffects, map[string]any{"name": "Zed"}))
	if !v.Known || v.Name != "Zed" {
		t.Fatalf("new contact = %+v", v)
	}
	if got := h.text("+15550009999", "+15550100", "hi"); got != twiml("Zed: plan none, tags ") {
		t.Fatalf("new contact's message: %s", got)
	}
	code, b := h.admin("GET", "/v1/admin/directory", adminTokenForEffects, nil)
	var d struct{ Contacts []server.Contact }
	if code != http.StatusOK || json.Unmarshal(b, &d) != nil || len(d.Contacts) != 2 {
		t.Fatalf("directory after two PATCHes: %d %s", code, b)
	}
	if code, b := h.admin("PATCH", "/v1/admin/contacts/5550100", adminTokenForEffects, map[string]any{"name": "x"}); code != http.StatusBadRequest {
		t.Fatalf("a number that is not E.164: %d %s", code, b)
	}
	if code, _ := h.admin("PATCH", "/v1/admin/contacts/"+ann, "", map[string]any{"name": "x"}); code != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", code)
	}
}
