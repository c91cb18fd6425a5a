package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
)

// POST /v1/outbound: a person (user) or a campaign sends a text from a
// business number to a contact; POST /v1/interactions: another system
// reports a call (turboDial's dialer "Call Note") or a text it sent.
// Both are guarded as POST /v1/messages is (FLOWC_API_TOKEN).
//
// An outbound send is checked in one transaction, in this order, and
// refused with the field at fault: the idempotency key (answered before:
// that answer; with another body: 409), the sending number (one of this
// server's: routed to a flow, 422), the contact's opt-out of that number
// (422, reason opted-out) and the outbound blacklist (the list
// Config.OutboundBlacklist, 422, reason blacklisted). It is then
// enqueued in the outbox (delivered paced per number, pacing.go, the
// opt-out checked again at the claim), recorded as an interaction with
// its user or campaign and the campaign's reply address, and its answer
// stored under the key, all in that transaction. Refusals are not
// stored under the key: the same request sent again is checked again.

// MaxOutboundBodyRunes bounds an outbound text: Twilio's limit for one
// message (10 segments).
const MaxOutboundBodyRunes = 1600

// MaxIdempotencyKeyBytes bounds an idempotency key.
const MaxIdempotencyKeyBytes = 200

// maxNameBytes bounds a user, a campaign's name, a reported SID.
const maxNameBytes = 200

// OutboundRequest is POST /v1/outbound's body.
type OutboundRequest struct {
	From string `json:"from"` // the business number (E.164)
	To   string `json:"to"`   // the contact (E.164)
	Body string `json:"body"`
	// Exactly one of User (a directory user: a person's send) and
	// Campaign (a campaign's name).
	User     string `json:"user,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	// Where the contact's reply to a campaign send should go, readable
	// by flows as contact.campaign.reply_user / reply_email.
	ReplyUser  string `json:"reply_user,omitempty"`
	ReplyEmail string `json:"reply_email,omitempty"`
	// IdempotencyKey, or the Idempotency-Key header.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// OutboundAnswer is POST /v1/outbound's answer (202).
type OutboundAnswer struct {
	Status        string    `json:"status"` // queued
	OutboxID      int64     `json:"outbox_id"`
	InteractionID int64     `json:"interaction_id"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	Queued        time.Time `json:"queued"`
}

// apiRefusal is an API error naming its field, and for a refusal its
// reason.
type apiRefusal struct {
	status int
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func refuse(status int, field, reason, format string, args ...any) *apiRefusal {
	return &apiRefusal{status: status, Error: fmt.Sprintf(format, args...), Field: field, Reason: reason}
}

// requireAPIToken is handleJSON's check, for the other public JSON
// endpoints: open in dev mode, else the bearer FLOWC_API_TOKEN.
func (s *Server) requireAPIToken(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.DevMode() {
		return true
	}
	if s.cfg.APIToken == "" {
		writeJSON(w, http.StatusForbidden, apiError{Error: r.URL.Path + " is disabled: set FLOWC_API_TOKEN"})
		return false
	}
	if !tokenMatches(r.Header.Get("Authorization"), s.cfg.APIToken) {
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "missing or wrong bearer token (Authorization: Bearer FLOWC_API_TOKEN)"})
		return false
	}
	return true
}

// readAPIJSON decodes a bounded JSON body, refusing unknown fields.
func readAPIJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("request body over %d bytes", MaxRequestBytes)})
			return false
		}
		writeJSON(w, http.StatusBadRequest, apiError{Error: "malformed JSON body: " + err.Error()})
		return false
	}
	return true
}

// checkName checks an optional name-like field.
func checkName(field, v string) *apiRefusal {
	switch {
	case len(v) > maxNameBytes:
		return refuse(http.StatusBadRequest, field, "", "%s: %d bytes, at most %d", field, len(v), maxNameBytes)
	case !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 || strings.ContainsAny(v, "\r\n"):
		return refuse(http.StatusBadRequest, field, "", "%s: not valid UTF-8, or holds a NUL or a line break", field)
	}
	return nil
}

// knownUser checks that a user field names a directory user.
func (s *Server) knownUser(field, name string) *apiRefusal {
	if !slices.ContainsFunc(s.directory().Users, func(u User) bool { return u.Name == name }) {
		return refuse(http.StatusBadRequest, field, "unknown-user", "%s %q is not a user of the directory", field, name)
	}
	return nil
}

// validate checks a send's fields, naming the first at fault.
func (s *Server) validateOutbound(req *OutboundRequest) *apiRefusal {
	switch {
	case !e164(req.From):
		return refuse(http.StatusBadRequest, "from", "", "from %q is not an E.164 number (+ then digits)", req.From)
	case !e164(req.To):
		return refuse(http.StatusBadRequest, "to", "", "to %q is not an E.164 number (+ then digits)", req.To)
	case strings.TrimSpace(req.Body) == "":
		return refuse(http.StatusBadRequest, "body", "", "body is empty")
	case !utf8.ValidString(req.Body) || strings.IndexByte(req.Body, 0) >= 0:
		return refuse(http.StatusBadRequest, "body", "", "body is not valid UTF-8, or holds a NUL character")
	case utf8.RuneCountInString(req.Body) > MaxOutboundBodyRunes:
		return refuse(http.StatusBadRequest, "body", "", "body: %d characters, at most %d", utf8.RuneCountInString(req.Body), MaxOutboundBodyRunes)
	case (req.User == "") == (req.Campaign == ""):
		return refuse(http.StatusBadRequest, "user", "", "give exactly one of user (a person's send) and campaign")
	case req.Campaign == "" && (req.ReplyUser != "" || req.ReplyEmail != ""):
		return refuse(http.StatusBadRequest, "reply_user", "", "reply_user and reply_email are a campaign's reply address: give campaign too")
	}
	for _, f := range []struct{ name, v string }{{"user", req.User}, {"campaign", req.Campaign}, {"reply_user", req.ReplyUser},
		{"reply_email", req.ReplyEmail}, {"idempotency_key", req.IdempotencyKey}} {
		if r := checkName(f.name, f.v); r != nil {
			return r
		}
	}
	if req.User != "" {
		if r := s.knownUser("user", req.User); r != nil {
			return r
		}
	}
	if req.ReplyUser != "" {
		if r := s.knownUser("reply_user", req.ReplyUser); r != nil {
			return r
		}
	}
	if req.ReplyEmail != "" {
		if a, err := mail.ParseAddress(req.ReplyEmail); err != nil || a.Address != req.ReplyEmail {
			return refuse(http.StatusBadRequest, "reply_email", "", "reply_email %q is not an e-mail address (name@example.com)", req.ReplyEmail)
		}
	}
	return nil
}

// hash is the request's identity under its key: its fields, not its
// bytes (a client may re-encode a retry).
func (req OutboundRequest) hash() string {
	c := req
	c.IdempotencyKey = ""
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (s *Server) handleOutbound(w http.ResponseWriter, r *http.Request) {
	if !s.requireAPIToken(w, r) {
		return
	}
	var req OutboundRequest
	if !readAPIJSON(w, r, &req) {
		return
	}
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		if req.IdempotencyKey != "" && req.IdempotencyKey != h {
			writeJSON(w, http.StatusBadRequest, refuse(http.StatusBadRequest, "idempotency_key", "", "the Idempotency-Key header and the idempotency_key field differ"))
			return
		}
		req.IdempotencyKey = h
	}
	if ref := s.validateOutbound(&req); ref != nil {
		writeJSON(w, ref.status, ref)
		return
	}
	var (
		answer   string
		replayed bool
		ref      *apiRefusal
	)
	var err error
	for attempt := 1; attempt <= 2; attempt++ { // a concurrent request under the key committed first: its answer
		answer, replayed, ref, err = s.send(r.Context(), &req)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	switch {
	case err != nil:
		s.storeError(w, err)
	case ref != nil:
		writeJSON(w, ref.status, ref)
	default:
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(answer))
	}
}

// send checks, enqueues and records one send in one transaction (see
// the top of the file), returning the JSON answer or the refusal.
func (s *Server) send(ctx context.Context, req *OutboundRequest) (answer string, replayed bool, ref *apiRefusal, err error) {
	now := s.cfg.Now()
	hash := req.hash()
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		answer, replayed, ref = "", false, nil
		ht, err := historyTx(tx)
		if err != nil {
			return err
		}
		if req.IdempotencyKey != "" {
			prev, err := ht.OutboundRequest(ctx, req.IdempotencyKey)
			switch {
			case err == nil && prev.BodyHash == hash:
				answer, replayed = prev.Response, true
				return nil
			case err == nil:
				ref = refuse(http.StatusConflict, "idempotency_key", "key-reused", "idempotency key %q was used for another request (other fields)", req.IdempotencyKey)
				return nil
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		if _, _, err := tx.Route(ctx, req.From); errors.Is(err, store.ErrNotFound) {
			ref = refuse(http.StatusUnprocessableEntity, "from", "not-our-number", "from %s is not a number of this server (no flow serves it)", req.From)
			return nil
		} else if err != nil {
			return err
		}
		out, err := tx.OptedOut(ctx, req.To, req.From)
		if err != nil {
			return err
		}
		if out {
			ref = refuse(http.StatusUnprocessableEntity, "to", "opted-out", "to %s opted out of texts from %s (sent STOP)", req.To, req.From)
			return nil
		}
		listed, err := ht.InList(ctx, s.cfg.OutboundBlacklist, req.To)
		if err != nil {
			return err
		}
		if listed {
			ref = refuse(http.StatusUnprocessableEntity, "to", "blacklisted", "to %s is on the outbound blacklist (list %q)", req.To, s.cfg.OutboundBlacklist)
			return nil
		}
		item := store.OutboxItem{Kind: "sms", To: req.To, From: req.From, Body: req.Body, Contact: req.To, Created: now, NotBefore: now}
		if err := tx.Enqueue(ctx, &item); err != nil {
			return err
		}
		in := store.Interaction{Contact: req.To, Number: req.From, At: now, Kind: runtime.InteractionSMS, Direction: runtime.DirectionOutbound,
			User: req.User, Campaign: req.Campaign, ReplyUser: req.ReplyUser, ReplyEmail: req.ReplyEmail, OutboxID: item.ID}
		if err := ht.RecordInteraction(ctx, &in); err != nil {
			return err
		}
		b, _ := json.Marshal(OutboundAnswer{Status: "queued", OutboxID: item.ID, InteractionID: in.ID, From: req.From, To: req.To, Queued: now.UTC()})
		answer = string(b)
		if req.IdempotencyKey == "" {
			return nil
		}
		return ht.SaveOutboundRequest(ctx, &store.OutboundRequest{Key: req.IdempotencyKey, BodyHash: hash, Response: answer, Created: now})
	})
	return answer, replayed, ref, err
}

// InteractionReport is POST /v1/interactions' body: a call (or a text)
// another system placed or took.
type InteractionReport struct {
	Kind      string `json:"kind"`      // call (default) or sms
	Contact   string `json:"contact"`   // E.164
	Number    string `json:"number"`    // the business number (E.164)
	Direction string `json:"direction"` // outbound (to the contact) or inbound
	User      string `json:"user,omitempty"`
	At        string `json:"at,omitempty"`  // RFC 3339; default: now
	SID       string `json:"sid,omitempty"` // the call's id: a report sent again is recorded once
}

// InteractionAnswer is POST /v1/interactions' answer: 201 when recorded,
// 200 when the SID was recorded before (Recorded false, its ID).
type InteractionAnswer struct {
	ID       int64 `json:"id"`
	Recorded bool  `json:"recorded"`
}

// maxReportSkew is how far in the future a reported time may be (clocks
// differ).
const maxReportSkew = 5 * time.Minute

func (s *Server) validateReport(rep *InteractionReport, now time.Time) (time.Time, *apiRefusal) {
	if rep.Kind == "" {
		rep.Kind = runtime.InteractionCall
	}
	switch {
	case rep.Kind != runtime.InteractionCall && rep.Kind != runtime.InteractionSMS:
		return time.Time{}, refuse(http.StatusBadRequest, "kind", "", "kind %q: want call or sms", rep.Kind)
	case !e164(rep.Contact):
		return time.Time{}, refuse(http.StatusBadRequest, "contact", "", "contact %q is not an E.164 number (+ then digits)", rep.Contact)
	case !e164(rep.Number):
		return time.Time{}, refuse(http.StatusBadRequest, "number", "", "number %q is not an E.164 number (+ then digits)", rep.Number)
	case rep.Direction != runtime.DirectionOutbound && rep.Direction != runtime.DirectionInbound:
		return time.Time{}, refuse(http.StatusBadRequest, "direction", "", "direction %q: want outbound (to the contact) or inbound", rep.Direction)
	case rep.Kind == runtime.InteractionSMS && rep.Direction == runtime.DirectionInbound:
		// A contact's text is recorded when its webhook arrives, under its
		// MessageSid: a report of it would either count it twice or, made
		// first with that sid, make the webhook's own record a duplicate.
		return time.Time{}, refuse(http.StatusBadRequest, "direction", "", "an inbound text is recorded by its webhook: report calls, and texts sent to the contact")
	}
	for _, f := range []struct{ name, v string }{{"user", rep.User}, {"sid", rep.SID}} {
		if r := checkName(f.name, f.v); r != nil {
			return time.Time{}, r
		}
	}
	if rep.User != "" {
		if r := s.knownUser("user", rep.User); r != nil {
			return time.Time{}, r
		}
	}
	at := now
	if rep.At != "" {
		t, err := time.Parse(time.RFC3339Nano, rep.At)
		if err != nil {
			return time.Time{}, refuse(http.StatusBadRequest, "at", "", "at %q is not an RFC 3339 time (2026-11-23T10:00:00Z)", rep.At)
		}
		if t.After(now.Add(maxReportSkew)) {
			return time.Time{}, refuse(http.StatusBadRequest, "at", "", "at %s is in the future", rep.At)
		}
		at = t
	}
	return at, nil
}

func (s *Server) handleInteraction(w http.ResponseWriter, r *http.Request) {
	if !s.requireAPIToken(w, r) {
		return
	}
	var rep InteractionReport
	if !readAPIJSON(w, r, &rep) {
		return
	}
	at, ref := s.validateReport(&rep, s.cfg.Now())
	if ref != nil {
		writeJSON(w, ref.status, ref)
		return
	}
	var ans InteractionAnswer
	var err error
	for attempt := 1; attempt <= 2; attempt++ { // the same SID reported concurrently: the first one's
		err = s.store.InTx(r.Context(), func(tx store.Tx) error {
			ht, err := historyTx(tx)
			if err != nil {
				return err
			}
			if rep.SID != "" {
				prev, err := ht.InteractionBySID(r.Context(), rep.Kind, rep.SID)
				if err == nil {
					ans = InteractionAnswer{ID: prev.ID}
					return nil
				}
				if !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			in := store.Interaction{Contact: rep.Contact, Number: rep.Number, At: at, Kind: rep.Kind, Direction: rep.Direction, User: rep.User, SID: rep.SID}
			if err := ht.RecordInteraction(r.Context(), &in); err != nil {
				return err
			}
			ans = InteractionAnswer{ID: in.ID, Recorded: true}
			return nil
		})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		s.storeError(w, err)
		return
	}
	code := http.StatusOK
	if ans.Recorded {
		code = http.StatusCreated
	}
	writeJSON(w, code, ans)
}
