package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/server/store"
)

// `flowc numbers sync` (POST /v1/admin/numbers/sync): the server reads
// the numbers the Twilio account holds (IncomingPhoneNumbers, page by
// page) and stores them (store.OwnedNumbersTx), so that `flowc numbers`
// lists every number the business owns, with the flows it lacks, before
// a text or a call reaches it (smrtPhone's red buttons). A number no
// longer at Twilio is removed. Either the whole list is read and stored
// or nothing changes: a failed read never removes numbers.
//
// It is net/http, not twilio-go's ListIncomingPhoneNumber: that one
// cannot be pointed at another base URL (FLOWC_TWILIO_API_URL, which the
// SMS sender honours and the tests' fake API needs), sends its requests
// without the caller's context, and reads answers without a bound.

// Bounds of a sync (docs/security.md).
const (
	// MaxOwnedNumbers is the most numbers a sync stores; an account
	// listing more is refused (nothing changes).
	MaxOwnedNumbers = 10000
	// maxSyncPageBytes bounds one page of the list (Twilio's resource is
	// about 2 kB, its largest page 1000 of them).
	maxSyncPageBytes = 8 << 20
	// maxSyncPages bounds the pages followed (empty pages with a next
	// link would otherwise be followed forever).
	maxSyncPages = 2*MaxOwnedNumbers/syncPageSize + 10
	// syncPageSize is the PageSize asked for: Twilio's largest.
	syncPageSize = 1000
	// syncTimeout bounds the whole sync, within the admin listener's
	// 30 s write timeout (listen.go) so that its answer still goes out.
	syncTimeout = 25 * time.Second
	// maxNumberName bounds a stored friendly name (Twilio's own limit is
	// 64 characters).
	maxNumberName = 256
)

// twilioSource is OwnedNumber.Source for numbers read from Twilio.
const twilioSource = "twilio"

// SyncResponse is what POST /v1/admin/numbers/sync answers.
type SyncResponse struct {
	Source  string    `json:"source"`  // "twilio"
	Numbers int       `json:"numbers"` // how many the account holds
	Added   []string  `json:"added"`   // new since the last sync
	Removed []string  `json:"removed"` // no longer at Twilio: removed
	Synced  time.Time `json:"synced"`
}

// syncError is a sync that failed at Twilio (or on the way): a 502 that
// says what to fix.
type syncError struct{ msg string }

func (e *syncError) Error() string { return e.msg }

func (s *Server) syncNumbers(w http.ResponseWriter, r *http.Request) {
	out, err := s.syncOwned(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// syncOwned reads the Twilio account's numbers and stores them (POST
// /v1/admin/numbers/sync, the console's "Sync from Twilio"). A failure
// at Twilio is a *badRequest (502) saying what to fix; nothing changes.
func (s *Server) syncOwned(ctx context.Context) (SyncResponse, error) {
	o := s.cfg.Outbound
	if o == nil || o.TwilioAccountSID == "" || o.TwilioAuthToken == "" {
		return SyncResponse{}, &badRequest{http.StatusConflict, "numbers sync reads the Twilio account's IncomingPhoneNumbers: set FLOWC_TWILIO_ACCOUNT_SID and FLOWC_TWILIO_AUTH_TOKEN on the server"}
	}
	tctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	nums, err := o.incomingNumbers(tctx)
	if err != nil {
		var se *syncError
		if !errors.As(err, &se) {
			err = &syncError{fmt.Sprintf("reading Twilio's IncomingPhoneNumbers: %v; nothing was changed", err)}
		}
		s.log.Warn("numbers sync failed", "error", err.Error())
		return SyncResponse{}, &badRequest{http.StatusBadGateway, err.Error()}
	}
	now := s.cfg.Now()
	out := SyncResponse{Source: twilioSource, Numbers: len(nums), Synced: now}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		ot, ok := tx.(store.OwnedNumbersTx)
		if !ok {
			return fmt.Errorf("store %T keeps no owned numbers", tx)
		}
		before, err := ot.OwnedNumbersPage(ctx, "", 0)
		if err != nil {
			return err
		}
		had := make(map[string]bool, len(before))
		for _, n := range before {
			had[n.Number] = n.Source == twilioSource
		}
		out.Added = nil
		for _, n := range nums {
			if !had[n.Number] {
				out.Added = append(out.Added, n.Number)
			}
		}
		out.Removed, err = ot.ReplaceOwnedNumbers(ctx, twilioSource, nums, now)
		return err
	})
	if err != nil {
		return SyncResponse{}, err
	}
	out.Added, out.Removed = nonNil(out.Added), nonNil(out.Removed)
	s.log.Info("numbers synced", "numbers", out.Numbers, "added", len(out.Added), "removed", len(out.Removed))
	return out, nil
}

// twilioNumber is the part of Twilio's IncomingPhoneNumber resource a
// sync reads.
type twilioNumber struct {
	PhoneNumber  string `json:"phone_number"`
	FriendlyName string `json:"friendly_name"`
	Capabilities struct {
		SMS   bool `json:"sms"`
		Voice bool `json:"voice"`
	} `json:"capabilities"`
}

// incomingNumbers reads every page of the account's IncomingPhoneNumbers,
// sorted as Twilio lists them, each number once.
func (o *Outbound) incomingNumbers(ctx context.Context) ([]store.OwnedNumber, error) {
	base := strings.TrimRight(o.TwilioAPIURL, "/")
	if base == "" {
		base = "https://api.twilio.com"
	}
	// A next page must be of the same list: the account's credentials
	// never go to another path (or, resolved against base, another host).
	listPath := "/2010-04-01/Accounts/" + url.PathEscape(o.TwilioAccountSID) + "/IncomingPhoneNumbers.json"
	next := listPath + "?PageSize=" + fmt.Sprint(syncPageSize)
	seen := map[string]bool{}
	followed := map[string]bool{}
	var out []store.OwnedNumber
	for page := 0; next != ""; page++ {
		if page >= maxSyncPages {
			return nil, &syncError{fmt.Sprintf("Twilio's IncomingPhoneNumbers went on past %d pages; nothing was changed", maxSyncPages)}
		}
		if followed[next] {
			return nil, &syncError{fmt.Sprintf("Twilio's IncomingPhoneNumbers page %d links back to an earlier page (%s); nothing was changed", page+1, next)}
		}
		followed[next] = true
		if u, err := url.Parse(next); err != nil || u.IsAbs() || u.Host != "" || u.Path != listPath {
			return nil, &syncError{fmt.Sprintf("Twilio's IncomingPhoneNumbers page %d: next_page_uri %q is not a page of %s; nothing was changed", page, next, listPath)}
		}
		var body struct {
			Numbers     []twilioNumber `json:"incoming_phone_numbers"`
			NextPageURI *string        `json:"next_page_uri"`
		}
		if err := o.getTwilio(ctx, base+next, page+1, &body); err != nil {
			return nil, err
		}
		for i, n := range body.Numbers {
			if !e164(n.PhoneNumber) {
				return nil, &syncError{fmt.Sprintf("Twilio's IncomingPhoneNumbers page %d: incoming_phone_numbers[%d].phone_number %q is not an E.164 number; nothing was changed", page+1, i, n.PhoneNumber)}
			}
			if seen[n.PhoneNumber] { // the list moved between two pages
				continue
			}
			seen[n.PhoneNumber] = true
			if len(out) == MaxOwnedNumbers {
				return nil, &syncError{fmt.Sprintf("the Twilio account holds more than %d numbers, the most a sync stores; nothing was changed", MaxOwnedNumbers)}
			}
			out = append(out, store.OwnedNumber{Number: n.PhoneNumber, Name: numberName(n.FriendlyName), Source: twilioSource,
				SMS: n.Capabilities.SMS, Voice: n.Capabilities.Voice})
		}
		next = ""
		if body.NextPageURI != nil {
			next = *body.NextPageURI
		}
	}
	return out, nil
}

// getTwilio GETs one page of a Twilio list into v.
func (o *Outbound) getTwilio(ctx context.Context, u string, page int, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &syncError{fmt.Sprintf("Twilio's IncomingPhoneNumbers page %d: %v; nothing was changed", page, err)}
	}
	req.SetBasicAuth(o.TwilioAccountSID, o.TwilioAuthToken)
	req.Header.Set("Accept", "application/json")
	resp, err := o.client().Do(req)
	if err != nil {
		return &syncError{fmt.Sprintf("reading Twilio's IncomingPhoneNumbers page %d: %v; nothing was changed", page, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSyncPageBytes+1))
	if err != nil {
		return &syncError{fmt.Sprintf("reading Twilio's IncomingPhoneNumbers page %d: %v; nothing was changed", page, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return &syncError{twilioRefusal(resp.StatusCode, page, b)}
	}
	if len(b) > maxSyncPageBytes {
		return &syncError{fmt.Sprintf("Twilio's IncomingPhoneNumbers page %d is larger than %d MiB; nothing was changed", page, maxSyncPageBytes>>20)}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &syncError{fmt.Sprintf("Twilio's IncomingPhoneNumbers page %d is not the JSON expected: %v; nothing was changed", page, err)}
	}
	return nil
}

// twilioRefusal says what a non-200 answer of Twilio means, with
// Twilio's own code and message when it gave them.
func twilioRefusal(status, page int, body []byte) string {
	var te struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	detail := clip(strings.TrimSpace(string(body)))
	if json.Unmarshal(body, &te) == nil && te.Message != "" {
		detail = clip(te.Message)
		if te.Code != 0 {
			detail = fmt.Sprintf("%s (Twilio error %d)", detail, te.Code)
		}
	}
	if !utf8.ValidString(detail) {
		detail = strings.ToValidUTF8(detail, "?")
	}
	msg := fmt.Sprintf("Twilio answered %d %s to IncomingPhoneNumbers page %d: %s", status, http.StatusText(status), page, detail)
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += "; check FLOWC_TWILIO_ACCOUNT_SID and FLOWC_TWILIO_AUTH_TOKEN"
	case http.StatusNotFound:
		msg += "; check FLOWC_TWILIO_ACCOUNT_SID (and FLOWC_TWILIO_API_URL if set)"
	}
	return msg + "; nothing was changed"
}

// numberName is a friendly name as stored: valid UTF-8 without control
// characters, at most maxNumberName bytes.
func numberName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	for len(s) > maxNumberName {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return strings.TrimSpace(s)
}
