package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/server"
)

// TestNumbersListing: GET /v1/admin/numbers lists every number the
// server knows, from the directory, the Twilio sync, the SMS and call
// routes and the texts with no flow, each with its SMS flow and call
// flow and what it lacks (what it can receive and no flow answers), the
// same page by page as in one page. Assigning a call flow routes the
// number's calls; unassigning takes the texts, the calls, or both.
func TestNumbersListing(t *testing.T) {
	for _, sk := range syncStores {
		t.Run(sk.name, func(t *testing.T) {
			_, api := newFakeTwilio(t,
				fakeNumber{"+15550100", "Twilio's name", true, true},
				fakeNumber{"+15550950", "Fax line", false, true},
				fakeNumber{"+15550960", "Texts only", true, false})
			h, tok := syncHarness(t, sk.open(t), api.URL)
			if code, _, body := h.sync(tok); code != http.StatusOK {
				t.Fatalf("sync: %d %s", code, body)
			}
			// The directory lists two numbers: the examples' +15550800
			// and a spare line nothing serves.
			_, body := h.admin("GET", "/v1/admin/directory", tok, nil)
			var dir map[string]any
			if err := json.Unmarshal(body, &dir); err != nil {
				t.Fatal(err)
			}
			dir["numbers"] = []any{
				map[string]any{"number": "+15550900", "name": "Spare line"},
				map[string]any{"number": "+15550800", "name": "turboDial inbound", "backup_email": "desk@example.com"},
				map[string]any{"number": "+15550100", "name": "Main line"},
			}
			if code, body := h.admin("PUT", "/v1/admin/directory", tok, dir); code != http.StatusOK {
				t.Fatalf("PUT directory: %d %s", code, body)
			}
			h.text("+15557654321", "+15559999999", "hello?") // no flow serves it

			all := h.numbers(tok, 500)
			byNumber := map[string]server.NumberInfo{}
			for _, n := range all {
				byNumber[n.Number] = n
			}
			for _, want := range []server.NumberInfo{
				{Number: "+15550100", Name: "Main line", Owned: []string{"directory", "twilio"}, Capabilities: &server.Capabilities{SMS: true, Voice: true},
					SMSFlow: "sales", CallFlow: "main-line"},
				{Number: "+15550800", Name: "turboDial inbound", Owned: []string{"directory"}, SMSFlow: "most-recent", CallFlow: "take-a-message"},
				{Number: "+15550900", Name: "Spare line", Owned: []string{"directory"}, Missing: []string{"sms_flow", "call_flow"}},
				{Number: "+15550950", Name: "Fax line", Owned: []string{"twilio"}, Capabilities: &server.Capabilities{Voice: true}, Missing: []string{"call_flow"}},
				{Number: "+15550960", Name: "Texts only", Owned: []string{"twilio"}, Capabilities: &server.Capabilities{SMS: true}, Missing: []string{"sms_flow"}},
				{Number: "+15559999999", TextedUnrouted: true, Missing: []string{"sms_flow", "call_flow"}},
				// Routed by the examples only: owned nowhere, served both ways.
				{Number: "+15550400", SMSFlow: "support", CallFlow: "take-a-message"},
			} {
				got, ok := byNumber[want.Number]
				if !ok {
					t.Errorf("%s is not listed", want.Number)
					continue
				}
				if (want.SMSFlow != "") != (got.SMSVersion != "") || (want.CallFlow != "") != (got.CallVersion != "") {
					t.Errorf("%s: versions %q, %q for flows %q, %q", want.Number, got.SMSVersion, got.CallVersion, got.SMSFlow, got.CallFlow)
				}
				got.SMSVersion, got.CallVersion = "", ""
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got %+v\nwant %+v", want.Number, got, want)
				}
			}
			if !slices.IsSortedFunc(all, func(a, b server.NumberInfo) int { return strings.Compare(a.Number, b.Number) }) {
				t.Errorf("not in number order: %v", all)
			}
			for _, limit := range []int{1, 2, 3, 7, len(all) - 1, len(all), len(all) + 1} {
				if paged := h.numbers(tok, limit); !reflect.DeepEqual(paged, all) {
					t.Errorf("limit %d, page by page: %d numbers, want the %d of one page", limit, len(paged), len(all))
				}
			}

			// The fax line gets the call flow; the texts-only line the SMS flow.
			for number, want := range map[string]server.AssignResponse{
				"+15550950": {Number: "+15550950", Flow: "main-line", Channel: "voice"},
				"+15550960": {Number: "+15550960", Flow: "support", Channel: "sms"},
			} {
				code, body := h.admin("PUT", "/v1/admin/numbers/"+strings.ReplaceAll(number, "+", "%2B"), tok, map[string]string{"flow": want.Flow})
				var got server.AssignResponse
				json.Unmarshal(body, &got)
				if code != http.StatusOK || got != want {
					t.Errorf("assign %s to %s: %d %s, want %+v", number, want.Flow, code, body, want)
				}
			}
			if got := h.text("+15557654321", "+15550960", "hi"); !strings.Contains(got, "Thanks, an agent will reply soon.") {
				t.Errorf("a text to the newly routed number: %s", got)
			}
			info := func(number string) server.NumberInfo {
				for _, n := range h.numbers(tok, 500) {
					if n.Number == number {
						return n
					}
				}
				t.Fatalf("%s is not listed", number)
				return server.NumberInfo{}
			}
			if n := info("+15550950"); n.CallFlow != "main-line" || len(n.Missing) != 0 {
				t.Errorf("the fax line after assigning its call flow: %+v", n)
			}
			if n := info("+15550960"); n.SMSFlow != "support" || len(n.Missing) != 0 {
				t.Errorf("the texts-only line after assigning its SMS flow: %+v", n)
			}

			unassign := func(q string) (int, server.UnassignResponse, string) {
				code, body := h.admin("DELETE", "/v1/admin/numbers/%2B15550100"+q, tok, nil)
				var out server.UnassignResponse
				json.Unmarshal(body, &out)
				return code, out, string(body)
			}
			if code, out, body := unassign("?channel=voice"); code != http.StatusOK || !slices.Equal(out.Unassigned, []string{"voice"}) {
				t.Errorf("unassign the calls: %d %s", code, body)
			}
			if n := info("+15550100"); n.SMSFlow != "sales" || n.CallFlow != "" || !slices.Equal(n.Missing, []string{"call_flow"}) {
				t.Errorf("after unassigning the calls: %+v, want sales kept and the call flow missing", n)
			}
			if code, _, body := unassign("?channel=voice"); code != http.StatusNotFound || !strings.Contains(body, "calls of number +15550100 are not routed") {
				t.Errorf("unassign the calls again: %d %s, want 404", code, body)
			}
			if code, out, body := unassign(""); code != http.StatusOK || !slices.Equal(out.Unassigned, []string{"sms"}) {
				t.Errorf("unassign both: %d %s, want the texts unassigned", code, body)
			}
			if code, _, body := unassign(""); code != http.StatusNotFound || !strings.Contains(body, "neither texts nor calls") {
				t.Errorf("unassign an unrouted number: %d %s, want 404", code, body)
			}
			if code, _, body := unassign("?channel=fax"); code != http.StatusBadRequest || !strings.Contains(body, `channel \"fax\"`) {
				t.Errorf("unassign ?channel=fax: %d %s, want 400 naming it", code, body)
			}
			if n := info("+15550100"); !slices.Equal(n.Missing, []string{"sms_flow", "call_flow"}) || !slices.Equal(n.Owned, []string{"directory", "twilio"}) {
				t.Errorf("after unassigning both: %+v, still owned, both missing", n)
			}
		})
	}
}

// TestNumbersListingSeesAnotherReplicasDirectory: a number added to the
// directory through one replica is listed by another at once (the
// listing reads the stored directory's version with its page).
func TestNumbersListingSeesAnotherReplicasDirectory(t *testing.T) {
	path := t.TempDir() + "/flowc.db"
	a, tok := syncHarness(t, openSQLite(t, path), "http://127.0.0.1:1")
	b, _ := syncHarness(t, openSQLite(t, path), "http://127.0.0.1:1")
	listed := func(h *harness) bool {
		for _, n := range h.numbers(tok, 500) {
			if n.Number == "+15550901" {
				return n.Name == "Second line" && slices.Equal(n.Owned, []string{"directory"})
			}
		}
		return false
	}
	if listed(b) {
		t.Fatal("listed before it was added")
	}
	_, body := a.admin("GET", "/v1/admin/directory", tok, nil)
	var dir map[string]any
	if err := json.Unmarshal(body, &dir); err != nil {
		t.Fatal(err)
	}
	dir["numbers"] = []any{map[string]any{"number": "+15550901", "name": "Second line"}}
	if code, body := a.admin("PUT", "/v1/admin/directory", tok, dir); code != http.StatusOK {
		t.Fatalf("PUT directory: %d %s", code, body)
	}
	if !listed(b) {
		t.Error("the other replica does not list the number the directory gained")
	}
}
