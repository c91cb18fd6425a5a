package scenario_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/vm/fetch"
	"github.com/flowc-dev/flowc/vm/scenario"
)

// The http step against a fake server over the network (the client the
// server uses, loopback allowed as in a dev setup): success, timeout,
// oversized response and a non-2xx status, each the branch a user sees.
func TestHTTPStepFakeServer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "ok":
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
				w.WriteHeader(401)
				return
			}
			w.Write([]byte(`{"owner": "alice"}`))
		case "slow":
			select { // never answers: the budget runs out
			case <-release:
			case <-r.Context().Done():
			}
		case "big":
			w.Write([]byte(`"` + strings.Repeat("x", 100<<10) + `"`))
		default:
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the handler
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	flow := `flow f
numbers "+15550100"
hosts "` + host + `"
set q = {text: body}
http POST "` + srv.URL + `/lookup?case={{ body }}" json q header "Authorization: Bearer ${CRM_TOKEN}" as crm < on error -> reply "fallback" then end >
reply "owner {{ crm.owner }}"
`
	if err := os.WriteFile(filepath.Join(dir, "f.flow"), []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{filepath.Join(dir, "f.flow")})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if all := append(append(diag.List{}, res.Diags...), cd...); all.HasErrors() {
		t.Fatal(all.Err())
	}
	f, err := scenario.Parse(filepath.Join(dir, "f.flowtest"), `at 2026-11-23T10:00
test "success"
  send "ok"
  expect reply "owner alice"
test "timeout"
  send "slow"
  expect error ~ "timed out after"
  expect reply "fallback"
test "oversized"
  send "big"
  expect error ~ "response too large: over 65536 bytes"
  expect reply "fallback"
test "non-2xx"
  send "other"
  expect error ~ "status 500"
  expect reply "fallback"
`)
	if err != nil {
		t.Fatal(err)
	}
	c := fetch.New(true)
	c.Secret = func(name string) (string, bool) { return "tok", name == "CRM_TOKEN" }
	for _, test := range f.Tests {
		r := scenario.RunWith(context.Background(), test, progs[0], nil, scenario.WithHTTP(c), scenario.WithEventBudget(200*time.Millisecond))
		for _, fl := range r.Failures {
			t.Errorf("%s: %s: expected %s, got %s", test.Name, fl.Where, fl.Expected, fl.Got)
		}
	}
}
