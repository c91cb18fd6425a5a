package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

const tester = "+15550009999"

// TestDraftAnswersItsTestContactOnly: a draft deploy answers its test
// contact on the flow's numbers and nobody else; promote makes it active
// for everyone, while a conversation started on the old version
// finishes on it.
func TestDraftAnswersItsTestContactOnly(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			open := reopenable(t, sc.name)
			st := open()
			defer st.Close()
			d := serveDir(t, st, "../examples")
			menu := twiml("Reply 1 for sales, 2 for support")
			// Ann is mid-conversation on the active version.
			if got := d.text(ann, "+15550100", "hi"); got != menu {
				t.Fatalf("before the draft: %s", got)
			}
			code, out, body := d.deploy("sales.flow", salesV2, func(r *server.DeployRequest) { r.Draft, r.TestContacts = true, []string{tester} })
			if code != http.StatusCreated || out.Status != server.StatusDraft || fmt.Sprint(out.TestContacts) != "["+tester+"]" {
				t.Fatalf("draft deploy: %d %s", code, body)
			}
			v2 := out.Version
			if got := d.text(tester, "+15550100", "hi"); got != twiml("Version two here.") {
				t.Fatalf("the test contact gets %s, want the draft", got)
			}
			if got := d.text(tester, "+15550101", "hi"); got != twiml("Version two here.") {
				t.Fatalf("the test contact on the flow's other number gets %s", got)
			}
			if got := d.text("+15550001234", "+15550100", "hi"); got != menu {
				t.Fatalf("another contact gets %s, want the active version", got)
			}
			// The draft is listed with its flow; the active version is unchanged.
			_, list := d.admin("GET", "/v1/admin/flows", adminToken, nil)
			var flows []server.FlowInfo
			json.Unmarshal(list, &flows)
			found := false
			for _, f := range flows {
				if f.Flow == "sales" {
					found = f.Draft != nil && f.Draft.Version == v2 && f.ActiveVersion != v2
				}
			}
			if !found {
				t.Fatalf("flows: %s", list)
			}
			// Promote: a wrong version is refused, the draft's is taken.
			if code, body := d.admin("POST", "/v1/admin/flows/sales/promote", adminToken, map[string]string{"version": "0123456789ab"}); code != http.StatusConflict {
				t.Fatalf("promote of another version: %d %s", code, body)
			}
			if code, body := d.admin("POST", "/v1/admin/flows/sales/promote", adminToken, map[string]string{"version": v2[:12]}); code != http.StatusOK {
				t.Fatalf("promote: %d %s", code, body)
			}
			if got := d.text("+15550001235", "+15550100", "hi"); got != twiml("Version two here.") {
				t.Fatalf("after promote, everyone gets %s", got)
			}
			if got := d.text(ann, "+15550100", "2"); got != twiml("Thanks Ann! Support will text you shortly.") {
				t.Fatalf("ann's conversation from before finishes on its version: %s", got)
			}
			if code, body := d.admin("POST", "/v1/admin/flows/sales/promote", adminToken, map[string]string{}); code != http.StatusNotFound {
				t.Fatalf("promote with no draft: %d %s", code, body)
			}
		})
	}
}

// TestDraftRequestChecks: a draft needs E.164 test contacts; test
// contacts without a draft are refused.
func TestDraftRequestChecks(t *testing.T) {
	h, tok := adminHarness(t)
	for _, req := range []server.DeployRequest{
		{File: "sales.flow", Source: salesV2, Draft: true},
		{File: "sales.flow", Source: salesV2, Draft: true, TestContacts: []string{"5550100"}},
		{File: "sales.flow", Source: salesV2, TestContacts: []string{tester}},
	} {
		if code, body := h.admin("POST", "/v1/admin/flows", tok, req); code != http.StatusBadRequest || !strings.Contains(string(body), "test_contacts") {
			t.Errorf("%+v: %d %s", req, code, body)
		}
	}
}

const warningFlow = "flow warn\nnumbers \"+15550499\"\nmenu \"Reply 1\" <\n  1 -> reply \"one\"\n>\n"

// TestStrictDeployRefusesWarnings: strict (field or query) refuses a
// flow with warnings, naming them, and deploys nothing; without it the
// flow deploys with its warnings.
func TestStrictDeployRefusesWarnings(t *testing.T) {
	h, tok := adminHarness(t)
	for _, path := range []string{"/v1/admin/flows?strict=true", "/v1/admin/flows"} {
		req := server.DeployRequest{File: "warn.flow", Source: warningFlow, Strict: path == "/v1/admin/flows"}
		code, body := h.admin("POST", path, tok, req)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "flow/missing-branch") || !strings.Contains(string(body), "strict") {
			t.Fatalf("strict deploy via %s: %d %s", path, code, body)
		}
	}
	if code, body := h.admin("GET", "/v1/admin/flows/warn/versions", tok, nil); code != http.StatusNotFound {
		t.Fatalf("a strict refusal stored a version: %d %s", code, body)
	}
	code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "warn.flow", Source: warningFlow})
	if code != http.StatusCreated || !strings.Contains(string(body), "flow/missing-branch") {
		t.Fatalf("deploy without strict: %d %s", code, body)
	}
}

// TestDiffListsExactlyTheChangedFirstMessages: a recorded day of the
// sales line (first messages every hour or so, one conversation
// continued), then a diff of a version open 8-6 instead of 9-5: exactly
// the first messages received 8-9 and 5-6 are listed, the continued
// conversation's second message is not replayed, messages older than
// the window are left out, and nothing changes.
func TestDiffListsExactlyTheChangedFirstMessages(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			open := reopenable(t, sc.name)
			st := open()
			defer st.Close()
			d := serveDir(t, st, "../examples")
			day := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 0, 0, ny) }
			type msg struct {
				at   time.Time
				from string
				body string
			}
			var recorded []msg
			changed := map[string]bool{} // by contact
			for i, at := range []time.Time{day(7, 10), day(7, 50), day(8, 5), day(8, 40), day(9, 30), day(11, 0), day(12, 15), day(13, 0),
				day(14, 20), day(15, 45), day(16, 30), day(16, 55), day(17, 10), day(17, 30), day(17, 50), day(18, 20), day(19, 0), day(22, 0), day(23, 30)} {
				from := fmt.Sprintf("+1555010%04d", i)
				recorded = append(recorded, msg{at, from, "hi"})
				if h := at.Hour(); h == 8 || h == 17 {
					changed[from] = true
				}
			}
			// The 16:55 conversation continues at 17:02: under 8-6 that
			// message, replayed as a first one, would be routed differently.
			recorded = append(recorded, msg{day(17, 2), recorded[11].from, "2"})
			// Nine days earlier, at 8:30: outside the 7 days.
			old := msg{day(8, 30).AddDate(0, 0, -9), "+15550200000", "hi"}
			recorded = append([]msg{old}, recorded...)
			sort.SliceStable(recorded, func(i, j int) bool { return recorded[i].at.Before(recorded[j].at) })
			for _, m := range recorded {
				d.clock.Set(m.at)
				d.text(m.from, "+15550100", m.body)
			}
			d.clock.Set(day(23, 59))

			src, _ := os.ReadFile("../examples/sales.flow")
			open86 := strings.Replace(string(src), `hours("9-5")`, `hours("8-6")`, 1)
			diff := func(days int) server.DiffResponse {
				t.Helper()
				code, body := d.admin("POST", "/v1/admin/flows/diff", adminToken, server.DiffRequest{File: "sales.flow", Source: open86, Days: days})
				if code != http.StatusOK {
					t.Fatalf("diff: %d %s", code, body)
				}
				var out server.DiffResponse
				json.Unmarshal(body, &out)
				return out
			}
			out := diff(0)
			if out.Replayed != len(recorded)-2 {
				t.Errorf("replayed %d messages, want the %d first messages of the last 7 days", out.Replayed, len(recorded)-2)
			}
			got := map[string]bool{}
			for _, c := range out.Changed {
				got[c.From] = true
				if c.Active.Outcome != "routed" || len(c.Active.Replies) != 1 || !strings.Contains(c.Active.Replies[0], "closed") ||
					len(c.New.Replies) != 1 || !strings.Contains(c.New.Replies[0], "Reply 1") {
					t.Errorf("%s at %s: active %+v, new %+v", c.SID, c.Received, c.Active, c.New)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(changed) {
				t.Errorf("changed contacts %v, want %v", got, changed)
			}
			// Ten days reach the old message too.
			if out := diff(10); len(out.Changed) != len(changed)+1 {
				t.Errorf("10 days: %d changed, want %d", len(out.Changed), len(changed)+1)
			}
			// The same flow: nothing differs. And nothing was deployed.
			if out := diff(0); len(diff0(t, d, string(src)).Changed) != 0 || out.ActiveVersion == out.Version {
				t.Errorf("diff of the active flow itself lists changes, or the diff deployed")
			}
			d.clock.Set(day(8, 20).AddDate(0, 0, 1))
			if got := d.text("+15550300000", "+15550100", "hi"); !strings.Contains(got, "closed") {
				t.Errorf("after the diffs, the active version still answers: %s", got)
			}
		})
	}
}

func diff0(t *testing.T, d *deployment, src string) server.DiffResponse {
	t.Helper()
	code, body := d.admin("POST", "/v1/admin/flows/diff", adminToken, server.DiffRequest{File: "sales.flow", Source: src})
	if code != http.StatusOK {
		t.Fatalf("diff: %d %s", code, body)
	}
	var out server.DiffResponse
	json.Unmarshal(body, &out)
	return out
}

// TestDraftOfANewFlow: a draft of a flow no number routes to yet answers
// its test contact on the numbers it declares that no flow serves, is
// listed without an active version, and serves everyone once promoted.
func TestDraftOfANewFlow(t *testing.T) {
	h, tok := adminHarness(t)
	src := "flow fresh\nnumbers \"+15550777\"\nreply \"fresh\"\n"
	if code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "fresh.flow", Source: src, Draft: true, TestContacts: []string{tester}}); code != http.StatusCreated {
		t.Fatalf("draft: %d %s", code, body)
	}
	if got := h.text(tester, "+15550777", "hi"); got != twiml("fresh") {
		t.Fatalf("the test contact gets %s", got)
	}
	if got := h.text(ann, "+15550777", "hi"); got != twiml() {
		t.Fatalf("another contact gets %s, want no flow's empty answer", got)
	}
	_, list := h.admin("GET", "/v1/admin/flows", tok, nil)
	var flows []server.FlowInfo
	json.Unmarshal(list, &flows)
	listed := false
	for _, f := range flows {
		listed = listed || (f.Flow == "fresh" && f.ActiveVersion == "" && f.Draft != nil)
	}
	if !listed {
		t.Fatalf("flows: %s", list)
	}
	if code, body := h.admin("POST", "/v1/admin/flows/fresh/promote", tok, map[string]string{}); code != http.StatusOK {
		t.Fatalf("promote: %d %s", code, body)
	}
	if got := h.text(ann, "+15550777", "hi"); got != twiml("fresh") {
		t.Fatalf("after promote: %s", got)
	}
}
