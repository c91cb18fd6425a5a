package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

const (
	fakeAccount = "AC0123456789abcdef0123456789abcdef"
	fakeToken   = "twilio-auth-token-0123"
)

// fakeTwilio is Twilio's IncomingPhoneNumbers list: pageSize numbers a
// page, linked by next_page_uri, behind HTTP Basic auth with the
// account SID and auth token. fail, when set, answers a page instead.
type fakeTwilio struct {
	mu       sync.Mutex
	numbers  []fakeNumber
	pageSize int
	fail     func(w http.ResponseWriter, r *http.Request, page int) bool
	requests []string // every request's path and query, in order
	badAuth  int      // requests refused for their credentials
}

type fakeNumber struct {
	number, name string
	sms, voice   bool
}

func newFakeTwilio(t *testing.T, numbers ...fakeNumber) (*fakeTwilio, *httptest.Server) {
	f := &fakeTwilio{numbers: numbers, pageSize: 2}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	return f, hs
}

func (f *fakeTwilio) set(fn func(f *fakeTwilio)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.URL.RequestURI())
	list := "/2010-04-01/Accounts/" + fakeAccount + "/IncomingPhoneNumbers.json"
	user, pass, ok := r.BasicAuth()
	if !ok || user != fakeAccount || pass != fakeToken {
		f.badAuth++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != list {
		http.NotFound(w, r)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("Page"))
	if f.fail != nil && f.fail(w, r, page) {
		return
	}
	from := min(page*f.pageSize, len(f.numbers))
	to := min(from+f.pageSize, len(f.numbers))
	type caps struct {
		SMS   bool `json:"sms"`
		Voice bool `json:"voice"`
		MMS   bool `json:"mms"`
	}
	type resource struct {
		SID          string `json:"sid"`
		AccountSID   string `json:"account_sid"`
		PhoneNumber  string `json:"phone_number"`
		FriendlyName string `json:"friendly_name"`
		Capabilities caps   `json:"capabilities"`
		SMSURL       string `json:"sms_url"`
		VoiceURL     string `json:"voice_url"`
	}
	body := struct {
		Numbers     []resource `json:"incoming_phone_numbers"`
		Page        int        `json:"page"`
		PageSize    int        `json:"page_size"`
		URI         string     `json:"uri"`
		NextPageURI *string    `json:"next_page_uri"`
	}{Numbers: []resource{}, Page: page, PageSize: f.pageSize, URI: r.URL.RequestURI()}
	for i, n := range f.numbers[from:to] {
		body.Numbers = append(body.Numbers, resource{SID: fmt.Sprintf("PN%032d", from+i), AccountSID: fakeAccount, PhoneNumber: n.number,
			FriendlyName: n.name, Capabilities: caps{n.sms, n.voice, n.sms}, SMSURL: "https://flowc.example.com/webhooks/twilio/sms"})
	}
	if to < len(f.numbers) {
		next := fmt.Sprintf("%s?PageSize=%d&Page=%d&PageToken=PA%s", list, f.pageSize, page+1, f.numbers[to-1].number[1:])
		body.NextPageURI = &next
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// syncStores opens a new store of each kind for the server tests.
var syncStores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store { return openSQLite(t, t.TempDir()+"/flowc.db") }},
	{"postgres", func(t *testing.T) store.Store {
		u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
		return openPostgres(t, u)
	}},
}

// syncHarness is the examples' server on st, reading Twilio at api with
// the fake's credentials, and its admin token.
func syncHarness(t *testing.T, st store.Store, api string) (*harness, string) {
	t.Helper()
	h := startWith(t, setup{token: authToken, store: st,
		outbound: &server.Outbound{TwilioAPIURL: api, TwilioAccountSID: fakeAccount, TwilioAuthToken: fakeToken}}, "../examples")
	tok, _, err := h.srv.EnsureAdminToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h, tok
}

func (h *harness) sync(tok string) (int, server.SyncResponse, string) {
	h.t.Helper()
	code, body := h.admin("POST", "/v1/admin/numbers/sync", tok, nil)
	var out server.SyncResponse
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &out); err != nil {
			h.t.Fatalf("sync: %v: %s", err, body)
		}
	}
	return code, out, string(body)
}

// numbers reads the whole numbers listing, limit at a time.
func (h *harness) numbers(tok string, limit int) []server.NumberInfo {
	h.t.Helper()
	var all []server.NumberInfo
	for cursor, pages := "", 0; ; pages++ {
		q := fmt.Sprintf("?limit=%d", limit)
		if cursor != "" {
			q += "&cursor=" + strings.ReplaceAll(cursor, "+", "%2B")
		}
		code, body := h.admin("GET", "/v1/admin/numbers"+q, tok, nil)
		if code != http.StatusOK {
			h.t.Fatalf("numbers%s: %d %s", q, code, body)
		}
		var page server.NumbersResponse
		if err := json.Unmarshal(body, &page); err != nil {
			h.t.Fatal(err)
		}
		if len(page.Numbers) > limit || (len(page.Numbers) == 0 && page.Next != "") || pages > 100 {
			h.t.Fatalf("numbers%s: a page of %d numbers, next %q", q, len(page.Numbers), page.Next)
		}
		all = append(all, page.Numbers...)
		if page.Next == "" {
			return all
		}
		cursor = page.Next
	}
}

func owned(infos []server.NumberInfo, source string) []string {
	var out []string
	for _, n := range infos {
		if slices.Contains(n.Owned, source) {
			out = append(out, n.Number)
		}
	}
	return out
}

// TestNumbersSync: `flowc numbers sync` reads every page of the Twilio
// account's numbers with the account's credentials and stores them with
// their names and capabilities; a later sync adds the numbers bought
// since and removes the ones released, saying which.
func TestNumbersSync(t *testing.T) {
	for _, sk := range syncStores {
		t.Run(sk.name, func(t *testing.T) {
			fake, api := newFakeTwilio(t,
				fakeNumber{"+15550100", "Main line", true, true},
				fakeNumber{"+15550950", "Fax line", false, true},
				fakeNumber{"+15550960", "Texts only", true, false},
				fakeNumber{"+15550970", "Spare", true, true},
				fakeNumber{"+442071838750", "London", true, true})
			h, tok := syncHarness(t, sk.open(t), api.URL)
			code, got, body := h.sync(tok)
			if code != http.StatusOK {
				t.Fatalf("sync: %d %s", code, body)
			}
			want := []string{"+15550100", "+15550950", "+15550960", "+15550970", "+442071838750"}
			if got.Source != "twilio" || got.Numbers != 5 || !slices.Equal(got.Added, want) || len(got.Removed) != 0 || got.Synced.IsZero() {
				t.Errorf("sync = %+v, want 5 numbers added from twilio", got)
			}
			// Three pages of two, each asked with the credentials; the
			// first asks for Twilio's largest page.
			if len(fake.requests) != 3 || !strings.Contains(fake.requests[0], "PageSize=1000") || fake.badAuth != 0 {
				t.Errorf("requests %q (%d refused), want three pages, the first with PageSize=1000", fake.requests, fake.badAuth)
			}
			infos := h.numbers(tok, 500)
			if o := owned(infos, "twilio"); !slices.Equal(o, want) {
				t.Errorf("owned at twilio: %v, want %v", o, want)
			}
			byNumber := map[string]server.NumberInfo{}
			for _, n := range infos {
				byNumber[n.Number] = n
			}
			if fax := byNumber["+15550950"]; fax.Name != "Fax line" || fax.Capabilities == nil || *fax.Capabilities != (server.Capabilities{Voice: true}) {
				t.Errorf("fax line %+v: want its name, voice only", fax)
			}

			// Later: +15550970 released, +15550980 bought, the fax renamed.
			fake.set(func(f *fakeTwilio) {
				f.numbers = []fakeNumber{{"+15550100", "Main line", true, true}, {"+15550950", "Faxes", false, true},
					{"+15550960", "Texts only", true, false}, {"+15550980", "New", true, true}, {"+442071838750", "London", true, true}}
			})
			code, got, body = h.sync(tok)
			if code != http.StatusOK || got.Numbers != 5 || !slices.Equal(got.Added, []string{"+15550980"}) || !slices.Equal(got.Removed, []string{"+15550970"}) {
				t.Fatalf("second sync: %d %+v %s; want +15550980 added, +15550970 removed", code, got, body)
			}
			infos = h.numbers(tok, 500)
			if o := owned(infos, "twilio"); !slices.Equal(o, []string{"+15550100", "+15550950", "+15550960", "+15550980", "+442071838750"}) {
				t.Errorf("owned at twilio after the second sync: %v", o)
			}
			for _, n := range infos {
				if n.Number == "+15550970" {
					t.Errorf("the released number is still listed: %+v", n)
				}
				if n.Number == "+15550950" && n.Name != "Faxes" {
					t.Errorf("the fax line's new name: %+v", n)
				}
			}
		})
	}
}

// TestNumbersSyncFailures: a sync that cannot read the whole list says
// why, naming what to fix, with a 502, and changes nothing (a failed
// read never removes numbers); its credentials go nowhere but the list.
func TestNumbersSyncFailures(t *testing.T) {
	fake, api := newFakeTwilio(t, fakeNumber{"+15550100", "Main", true, true}, fakeNumber{"+15550950", "Fax", false, true},
		fakeNumber{"+15550960", "Texts", true, false})
	h, tok := syncHarness(t, openSQLite(t, t.TempDir()+"/flowc.db"), api.URL)
	if code, _, body := h.sync(tok); code != http.StatusOK {
		t.Fatalf("first sync: %d %s", code, body)
	}
	before := owned(h.numbers(tok, 500), "twilio")
	if len(before) != 3 {
		t.Fatalf("owned after the first sync: %v", before)
	}
	huge := func(w http.ResponseWriter, r *http.Request, page int) bool {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"incoming_phone_numbers": [], "next_page_uri": null, "padding": "`)
		for range 9 << 10 {
			fmt.Fprint(w, strings.Repeat("x", 1024))
		}
		fmt.Fprint(w, `"}`)
		return true
	}
	list := "/2010-04-01/Accounts/" + fakeAccount + "/IncomingPhoneNumbers.json"
	next := func(uri string) func(w http.ResponseWriter, r *http.Request, page int) bool {
		return func(w http.ResponseWriter, r *http.Request, page int) bool {
			if page > 0 {
				return false
			}
			fmt.Fprintf(w, `{"incoming_phone_numbers": [{"phone_number": "+15550100", "capabilities": {"sms": true, "voice": true}}], "next_page_uri": %q}`, uri)
			return true
		}
	}
	for _, tc := range []struct {
		name  string
		token string // the server's auth token; "" the right one
		fail  func(w http.ResponseWriter, r *http.Request, page int) bool
		want  []string
	}{
		{"wrong auth token", "wrong-token", nil,
			[]string{"Twilio answered 401 Unauthorized", "Authenticate (Twilio error 20003)", "check FLOWC_TWILIO_ACCOUNT_SID and FLOWC_TWILIO_AUTH_TOKEN"}},
		{"500 on the second page", "", func(w http.ResponseWriter, r *http.Request, page int) bool {
			if page == 1 {
				http.Error(w, "upstream trouble", http.StatusInternalServerError)
				return true
			}
			return false
		}, []string{"Twilio answered 500 Internal Server Error to IncomingPhoneNumbers page 2", "upstream trouble"}},
		{"a page too large", "", huge, []string{"page 1 is larger than 8 MiB"}},
		{"not JSON", "", func(w http.ResponseWriter, r *http.Request, page int) bool {
			fmt.Fprint(w, "<html>maintenance</html>")
			return true
		}, []string{"page 1 is not the JSON expected"}},
		{"a number not E.164", "", func(w http.ResponseWriter, r *http.Request, page int) bool {
			fmt.Fprint(w, `{"incoming_phone_numbers": [{"phone_number": "+15550100"}, {"phone_number": "555-0100"}], "next_page_uri": null}`)
			return true
		}, []string{"page 1: incoming_phone_numbers[1].phone_number", "555-0100", "is not an E.164 number"}},
		{"next page on another host", "", next("https://evil.example.com" + list + "?Page=1"), []string{"is not a page of " + list}},
		{"next page of another list", "", next("/2010-04-01/Accounts/" + fakeAccount + "/Messages.json?Page=1"), []string{"is not a page of " + list}},
		{"next page that loops", "", next(list + "?PageSize=1000"), []string{"links back to an earlier page"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.set(func(f *fakeTwilio) { f.fail, f.requests = tc.fail, nil })
			if tc.token != "" {
				h.srv.SetOutbound(&server.Outbound{TwilioAPIURL: api.URL, TwilioAccountSID: fakeAccount, TwilioAuthToken: tc.token})
				defer h.srv.SetOutbound(&server.Outbound{TwilioAPIURL: api.URL, TwilioAccountSID: fakeAccount, TwilioAuthToken: fakeToken})
			}
			code, _, body := h.sync(tok)
			if code != http.StatusBadGateway {
				t.Errorf("sync: %d %s, want 502", code, body)
			}
			for _, w := range append(tc.want, "nothing was changed") {
				if !strings.Contains(body, w) {
					t.Errorf("sync said %s; want it to say %q", body, w)
				}
			}
			if after := owned(h.numbers(tok, 500), "twilio"); !slices.Equal(after, before) {
				t.Errorf("owned after a failed sync: %v, want %v unchanged", after, before)
			}
			for _, r := range fake.requests {
				if !strings.HasPrefix(r, list+"?") {
					t.Errorf("the sync asked for %s, not a page of the list", r)
				}
			}
		})
	}
	fake.set(func(f *fakeTwilio) { f.fail = nil })

	// A server without the account's credentials says which to set.
	h.srv.SetOutbound(&server.Outbound{TwilioAPIURL: api.URL})
	if code, _, body := h.sync(tok); code != http.StatusConflict || !strings.Contains(body, "FLOWC_TWILIO_ACCOUNT_SID") || !strings.Contains(body, "FLOWC_TWILIO_AUTH_TOKEN") {
		t.Errorf("sync without credentials: %d %s, want 409 naming the settings", code, body)
	}
}

// TestNumbersSyncBound: an account of server.MaxOwnedNumbers numbers is
// stored (and synced again unchanged); one more is refused, changing
// nothing.
func TestNumbersSyncBound(t *testing.T) {
	nums := make([]fakeNumber, server.MaxOwnedNumbers)
	for i := range nums {
		nums[i] = fakeNumber{fmt.Sprintf("+1555%07d", i), fmt.Sprintf("line %d", i), true, true}
	}
	fake, api := newFakeTwilio(t, nums...)
	fake.pageSize = 1000
	h, tok := syncHarness(t, openSQLite(t, t.TempDir()+"/flowc.db"), api.URL)
	for range 2 {
		if code, got, body := h.sync(tok); code != http.StatusOK || got.Numbers != server.MaxOwnedNumbers {
			t.Fatalf("sync of %d numbers: %d %.300s", server.MaxOwnedNumbers, code, body)
		}
	}
	fake.set(func(f *fakeTwilio) {
		f.numbers = append(f.numbers, fakeNumber{"+15559999999", "one too many", true, true})
	})
	if code, _, body := h.sync(tok); code != http.StatusBadGateway || !strings.Contains(body, "more than 10000 numbers") || !strings.Contains(body, "nothing was changed") {
		t.Errorf("sync of one more: %d %s", code, body)
	}
	if n := len(owned(h.numbers(tok, 5000), "twilio")); n != server.MaxOwnedNumbers {
		t.Errorf("%d numbers owned after the refused sync, want %d", n, server.MaxOwnedNumbers)
	}
}
