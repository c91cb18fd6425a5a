package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/server"
)

func (h *harness) admin(method, path, token string, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.http.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func adminHarness(t *testing.T) (*harness, string) {
	h := start(t, authToken, "../examples")
	tok, generated, err := h.srv.EnsureAdminToken(context.Background())
	if err != nil || !generated || !strings.HasPrefix(tok, "flowc_") {
		t.Fatalf("token %q generated=%v err=%v", tok, generated, err)
	}
	// Later starts reuse the stored token, and cannot show it: the
	// store keeps only its hash.
	again, generated, err := h.srv.EnsureAdminToken(context.Background())
	if err != nil || again != "" || generated {
		t.Fatalf("second EnsureAdminToken: token %q generated=%v err=%v, want the stored one reused and not returned", again, generated, err)
	}
	return h, tok
}

// adminRoutes lists every admin route of the server's router.
func adminRoutes(t *testing.T, srv *server.Server) [][2]string {
	var out [][2]string
	err := chi.Walk(srv.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/v1/admin/") {
			out = append(out, [2]string{method, route})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d admin routes", len(out))
	}
	return out
}

func TestEveryAdminRouteNeedsTheToken(t *testing.T) {
	h, tok := adminHarness(t)
	fill := strings.NewReplacer("{flow}", "sales", "{number}", "%2B15550100", "{user}", "alice", "{kind}", "team", "{name}", "sales", "{id}", "1", "{sid}", "SM1")
	for _, r := range adminRoutes(t, h.srv) {
		path := fill.Replace(r[1])
		for _, bad := range []string{"", "wrong-" + tok, tok[:len(tok)-1]} {
			code, body := h.admin(r[0], path, bad, map[string]string{})
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d %s, want 401", r[0], path, bad, code, body)
			}
		}
	}
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	h, _ := adminHarness(t)
	docs, err := os.ReadFile("../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, server.OpenAPI) {
		t.Fatal("docs/openapi.json differs from server/openapi.json (copy it over)")
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(server.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var missing []string
	chi.Walk(h.srv.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/ui/") {
			return nil // the console's HTML pages (docs/console.md), not the JSON API
		}
		if _, ok := doc.Paths[route][strings.ToLower(method)]; !ok {
			missing = append(missing, method+" "+route)
		}
		return nil
	})
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("routes missing from the OpenAPI document: %v", missing)
	}
}

const salesV2 = `flow sales
numbers "+15550100", "+15550101"
timezone "America/New_York"

reply "Version two here." then inbox team:sales
`

func TestDeployRollbackAndInFlightConversations(t *testing.T) {
	h, tok := adminHarness(t)
	// A conversation waits at version one's menu.
	if got := h.text(ann, "+15550100", "hi"); got != twiml("Reply 1 for sales, 2 for support") {
		t.Fatalf("v1: %s", got)
	}
	// A bad deploy: 422 with diagnostics, and nothing changes.
	code, body := h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "sales.flow", Source: "flow sales\nnumbers \"+15550100\"\nrply \"x\"\n"})
	var apiErr struct {
		Diagnostics []struct {
			File, Code, Message string
			Range               struct{ Start struct{ Line, Column int } }
		}
	}
	json.Unmarshal(body, &apiErr)
	if code != http.StatusUnprocessableEntity || len(apiErr.Diagnostics) != 1 || apiErr.Diagnostics[0].File != "sales.flow" ||
		apiErr.Diagnostics[0].Code != "flow/applet" || apiErr.Diagnostics[0].Range.Start.Line != 3 {
		t.Fatalf("bad deploy: %d %s", code, body)
	}
	_, flows := h.admin("GET", "/v1/admin/flows", tok, nil)
	if !bytes.Contains(flows, []byte(`"flow": "sales"`)) {
		t.Fatalf("flows: %s", flows)
	}
	if _, versions := h.admin("GET", "/v1/admin/flows/sales/versions", tok, nil); bytes.Count(versions, []byte(`"version"`)) != 1 {
		t.Fatalf("a failed deploy left a version behind: %s", versions)
	}

	// A good deploy: new conversations get version two…
	code, body = h.admin("POST", "/v1/admin/flows", tok, server.DeployRequest{File: "sales.flow", Source: salesV2})
	var dep server.DeployResponse
	json.Unmarshal(body, &dep)
	if code != http.StatusCreated || dep.Flow != "sales" || len(dep.Version) != 64 {
		t.Fatalf("deploy: %d %s", code, body)
	}
	if got := h.text("+15550001234", "+15550100", "hi"); got != twiml("Version two here.") {
		t.Fatalf("new conversation after deploy: %s", got)
	}
	// …while the one in flight finishes on version one.
	if got := h.text(ann, "+15550100", "2"); got != twiml("Thanks Ann! Support will text you shortly.") {
		t.Fatalf("in-flight conversation after deploy: %s", got)
	}
	// Versions, newest first; roll back to the first.
	_, body = h.admin("GET", "/v1/admin/flows/sales/versions", tok, nil)
	var versions []server.VersionInfo
	json.Unmarshal(body, &versions)
	if len(versions) != 2 || versions[0].Version != dep.Version || !versions[0].Active || versions[1].Active {
		t.Fatalf("versions: %s", body)
	}
	code, body = h.admin("POST", "/v1/admin/flows/sales/rollback", tok, map[string]string{"version": versions[1].Version[:12]})
	if code != http.StatusOK {
		t.Fatalf("rollback: %d %s", code, body)
	}
	if got := h.text("+15550004321", "+15550100", "hi"); got != twiml("Reply 1 for sales, 2 for support") {
		t.Fatalf("after rollback: %s", got)
	}
	code, _ = h.admin("POST", "/v1/admin/flows/sales/rollback", tok, map[string]string{"version": "ffffffffffff"})
	if code != http.StatusNotFound {
		t.Fatalf("rollback to an unknown version: %d", code)
	}
}

func TestInboxNumbersDirectoryAndTrace(t *testing.T) {
	h, tok := adminHarness(t)
	h.text(ann, "+15550100", "hi")
	h.text(ann, "+15550100", "2")
	h.text(ann, "+15559999999", "anyone?") // no flow
	// Inbox.
	_, body := h.admin("GET", "/v1/admin/inbox/team/support", tok, nil)
	var items []struct {
		ID   int64
		Body string
	}
	json.Unmarshal(body, &items)
	if len(items) != 1 || items[0].Body != "2" {
		t.Fatalf("support inbox: %s", body)
	}
	if code, body := h.admin("POST", "/v1/admin/inbox/items/"+itoa(items[0].ID)+"/done", tok, nil); code != 200 {
		t.Fatalf("done: %d %s", code, body)
	}
	_, body = h.admin("GET", "/v1/admin/inbox/team/support", tok, nil)
	if strings.TrimSpace(string(body)) != "[]" {
		t.Fatalf("open items after done: %s", body)
	}
	// Numbers: the unrouted one shows up, and can be routed.
	_, body = h.admin("GET", "/v1/admin/numbers", tok, nil)
	var nums server.NumbersResponse
	json.Unmarshal(body, &nums)
	routedToSales, unrouted := false, []string{}
	for _, n := range nums.Numbers {
		routedToSales = routedToSales || (n.Number == "+15550100" && n.SMSFlow == "sales")
		if n.TextedUnrouted {
			unrouted = append(unrouted, n.Number)
		}
	}
	if len(unrouted) != 1 || unrouted[0] != "+15559999999" || !routedToSales {
		t.Fatalf("numbers: %s", body)
	}
	if code, body := h.admin("PUT", "/v1/admin/numbers/%2B15559999999", tok, map[string]string{"flow": "support"}); code != 200 {
		t.Fatalf("assign: %d %s", code, body)
	}
	if got := h.text(ann, "+15559999999", "now?"); !strings.Contains(got, "Thanks, an agent will reply soon.") {
		t.Fatalf("after assigning: %s", got)
	}
	if code, _ := h.admin("PUT", "/v1/admin/numbers/5551234", tok, map[string]string{"flow": "support"}); code != 400 {
		t.Fatalf("assigning a non-E.164 number: %d", code)
	}
	// Directory: bob becomes unavailable.
	if code, body := h.admin("PATCH", "/v1/admin/directory/users/bob", tok, map[string]any{"available": false}); code != 200 {
		t.Fatalf("patch: %d %s", code, body)
	}
	if code, _ := h.admin("PUT", "/v1/admin/directory", tok, map[string]any{"teams": []any{map[string]any{"name": "x", "members": []string{"ghost"}}}}); code != 400 {
		t.Fatalf("a directory with an unknown member was accepted: %d", code)
	}
	// Trace of the routed "2".
	_, body = h.admin("GET", "/v1/admin/executions/SM00000000000000000000000000000002", tok, nil)
	var ex server.Execution
	json.Unmarshal(body, &ex)
	if ex.Flow != "sales" || !strings.Contains(string(ex.Trace), "sales.flow:13:") || !strings.Contains(string(ex.Trace), "inbox team:support") {
		t.Fatalf("execution: %s", body)
	}
	if code, _ := h.admin("GET", "/v1/admin/executions/nope", tok, nil); code != 404 {
		t.Fatalf("unknown execution: %d", code)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
