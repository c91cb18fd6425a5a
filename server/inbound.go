package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/flowc-dev/flowc/vm/inbound"
)

// Inbound is one inbound message, whichever endpoint it came through.
// Past the ids, body and media it carries what Twilio tells about the
// message and its sender, for flows (runtime.Env's message) and applets
// (ctx.message) to read; it is stored with the message (Details).
type Inbound struct {
	SID   string   `json:"sid"`
	From  string   `json:"from"`
	To    string   `json:"to"`
	Body  string   `json:"body"`
	Media []string `json:"media,omitempty"`

	AccountSID          string   `json:"account_sid,omitempty"`           // AccountSid
	MessagingServiceSID string   `json:"messaging_service_sid,omitempty"` // MessagingServiceSid
	Segments            int      `json:"segments,omitempty"`              // NumSegments
	MediaTypes          []string `json:"media_types,omitempty"`           // MediaContentType0…, one per media URL
	FromCity            string   `json:"from_city,omitempty"`             // FromCity
	FromState           string   `json:"from_state,omitempty"`            // FromState
	FromCountry         string   `json:"from_country,omitempty"`          // FromCountry
	FromZip             string   `json:"from_zip,omitempty"`              // FromZip
}

// Answer is what the server decided, stored with the message so that a
// retry is answered identically.
type Answer struct {
	Outcome string   `json:"outcome"`
	Flow    string   `json:"flow,omitempty"`
	Replies []string `json:"replies"`
	// Version is the program version that decided (not answered, not
	// stored in the answer: the message row has it), for the log line.
	Version string `json:"-"`
}

// badRequest is an input error naming the field at fault.
type badRequest struct {
	status int
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

// parseTwilioForm is twilioRequest for a handler that reads r.PostForm
// (status.go): it reads and verifies the request, answering it itself
// when either fails, and leaves the parameters in r.PostForm.
func (s *Server) parseTwilioForm(w http.ResponseWriter, r *http.Request) bool {
	form, ok := s.twilioRequest(w, r)
	if ok {
		r.PostForm = form
	}
	return ok
}

func (s *Server) handleTwilio(w http.ResponseWriter, r *http.Request) {
	form, ok := s.twilioRequest(w, r)
	if !ok {
		return
	}
	if isStatusCallback(form) { // a delivery report sent here, not a text (status.go)
		r.PostForm = form
		s.recordStatusCallback(w, r)
		return
	}
	in, err := twilioInbound(form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ans, err := s.Handle(r.Context(), in, twilioFields)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(TwiML(ans.Replies)))
}

// twilioRequest reads a Twilio request's parameters, form-encoded or (the
// bodySHA256 variant) a JSON object, and verifies it (verifyTwilio). On
// failure it has answered (400, 403, 413) and returns false.
func (s *Server) twilioRequest(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("request body over %d bytes", MaxRequestBytes), http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
		}
		return nil, false
	}
	var form url.Values
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		form, err = jsonParams(body)
	} else {
		form, err = url.ParseQuery(string(body))
		if err != nil {
			err = fmt.Errorf("malformed form body: %v", err)
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	if !s.verifyTwilio(r, form, body) {
		http.Error(w, "invalid X-Twilio-Signature", http.StatusForbidden)
		return nil, false
	}
	return form, true
}

// jsonParams reads a JSON webhook body: one object whose values are
// strings, numbers or booleans, read as the form parameters of the same
// names would be.
func jsonParams(body []byte) (url.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("malformed JSON body: %v", err)
	}
	form := url.Values{}
	for k, v := range obj {
		switch x := v.(type) {
		case string:
			form.Set(k, x)
		case json.Number:
			form.Set(k, x.String())
		case bool:
			form.Set(k, strconv.FormatBool(x))
		case nil:
		default:
			return nil, fmt.Errorf("JSON body: %s is not a string, number or boolean", k)
		}
	}
	return form, nil
}

// twilioInbound reads a message from Twilio's parameters (others are
// ignored).
func twilioInbound(form url.Values) (Inbound, error) {
	in := Inbound{SID: form.Get("MessageSid"), From: form.Get("From"), To: form.Get("To"), Body: form.Get("Body"),
		AccountSID: form.Get("AccountSid"), MessagingServiceSID: form.Get("MessagingServiceSid"),
		FromCity: form.Get("FromCity"), FromState: form.Get("FromState"), FromCountry: form.Get("FromCountry"), FromZip: form.Get("FromZip")}
	if in.SID == "" {
		in.SID = form.Get("SmsSid") // older parameter name
	}
	n, err := numMedia(form.Get("NumMedia"))
	if err != nil {
		return in, err
	}
	if in.Segments, err = numSegments(form.Get("NumSegments")); err != nil {
		return in, err
	}
	for i := 0; i < n; i++ {
		if u := form.Get(fmt.Sprintf("MediaUrl%d", i)); u != "" {
			in.Media = append(in.Media, u)
			in.MediaTypes = append(in.MediaTypes, form.Get(fmt.Sprintf("MediaContentType%d", i)))
		}
	}
	if len(in.MediaTypes) > 0 && slices.IndexFunc(in.MediaTypes, func(t string) bool { return t != "" }) < 0 {
		in.MediaTypes = nil // none given
	}
	return in, nil
}

// withDeadline bounds a webhook request by Config.WebhookDeadline: every
// wait (for earlier messages of the conversation, for the store's locks
// and statements) ends with it, and the request is answered 503 in time,
// before Twilio gives up at 15 s.
func (s *Server) withDeadline(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WebhookDeadline)
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}

var twilioFields = fieldNames{sid: "MessageSid", from: "From", to: "To", body: "Body", media: "MediaUrl%d", mediaList: "NumMedia",
	accountSID: "AccountSid", serviceSID: "MessagingServiceSid", segments: "NumSegments", mediaType: "MediaContentType%d", mediaTypes: "NumMedia",
	fromCity: "FromCity", fromState: "FromState", fromCountry: "FromCountry", fromZip: "FromZip"}
var jsonFields = fieldNames{sid: "sid", from: "from", to: "to", body: "body", media: "media[%d]", mediaList: "media",
	accountSID: "account_sid", serviceSID: "messaging_service_sid", segments: "segments", mediaType: "media_types[%d]", mediaTypes: "media_types",
	fromCity: "from_city", fromState: "from_state", fromCountry: "from_country", fromZip: "from_zip"}

// fieldNames are an endpoint's names of the fields, for errors; media
// and mediaType are formats taking a URL's index, mediaList and
// mediaTypes name the lists.
type fieldNames struct {
	sid, from, to, body, media, mediaList                   string
	accountSID, serviceSID, segments, mediaType, mediaTypes string
	fromCity, fromState, fromCountry, fromZip               string
}

func (s *Server) handleJSON(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.DevMode() {
		if s.cfg.APIToken == "" {
			http.Error(w, "POST /v1/messages is disabled: set FLOWC_API_TOKEN", http.StatusForbidden)
			return
		}
		if !tokenMatches(r.Header.Get("Authorization"), s.cfg.APIToken) {
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	var in Inbound
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("request body over %d bytes", MaxRequestBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "malformed JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	ans, err := s.Handle(r.Context(), in, jsonFields)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		http.Error(w, br.msg, br.status)
		return
	}
	var busy *errConversationBusy
	if errors.As(err, &busy) { // 503 too: the provider's retry comes when the other replicas are done
		s.log.Warn("inbound conflicts", "request_id", middleware.GetReqID(r.Context()), "error", err.Error())
		http.Error(w, "temporarily unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	// The store is down or failing, or the deadline passed: 503, which
	// the provider may retry (Twilio: with a fallback URL or connection
	// overrides, docs/server.md); nothing was committed.
	s.log.Error("inbound failed", "request_id", middleware.GetReqID(r.Context()), "error", err.Error())
	http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
}

func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/") + r.URL.RequestURI()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// Bounds on an inbound message's fields. Every field is stored, so each
// is checked for what the stores refuse (PostgreSQL's text holds neither
// NUL nor invalid UTF-8: such a message would be answered 503, and
// retried by the provider, forever) and for size.
const (
	// MaxIDBytes bounds MessageSid, From and To.
	MaxIDBytes = 64
	// MaxMedia bounds the media URLs of a message (Twilio's own limit);
	// the same bound as a .flowtest's (vm/inbound).
	MaxMedia = inbound.MaxMedia
	// MaxMediaURLBytes bounds one media URL.
	MaxMediaURLBytes = inbound.MaxMediaURLBytes
	// MaxMediaTypeBytes bounds one media content type (RFC 6838 allows
	// 127 bytes each for the type and the subtype).
	MaxMediaTypeBytes = 255
	// MaxPlaceBytes bounds FromCity, FromState, FromCountry and FromZip.
	MaxPlaceBytes = 128
	// MaxSegments bounds NumSegments (a message of MaxBodyRunes
	// characters in UCS-2 takes 149 segments).
	MaxSegments = 200
	// DefaultWebhookDeadline is Config.WebhookDeadline's default: well
	// inside Twilio's 15 s, with room for the answer to travel.
	DefaultWebhookDeadline = 10 * time.Second
	// MaxWebhookDeadline is the longest Config.Validate accepts: Twilio's
	// own limit on a webhook's answer.
	MaxWebhookDeadline = 15 * time.Second
)

// numMedia parses Twilio's NumMedia: absent is 0.
func numMedia(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > MaxMedia {
		return 0, &badRequest{http.StatusBadRequest, fmt.Sprintf("NumMedia is not a whole number from 0 to %d", MaxMedia)}
	}
	return n, nil
}

// numSegments parses Twilio's NumSegments: absent is 0.
func numSegments(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > MaxSegments {
		return 0, &badRequest{http.StatusBadRequest, fmt.Sprintf("NumSegments is not a whole number from 0 to %d", MaxSegments)}
	}
	return n, nil
}

// validate checks every field of in, naming the first one at fault as
// the endpoint names it.
func validate(in Inbound, f fieldNames) error {
	bad := func(format string, args ...any) error {
		return &badRequest{http.StatusBadRequest, fmt.Sprintf(format, args...)}
	}
	for _, fl := range []struct{ name, value string }{{f.sid, in.SID}, {f.from, in.From}, {f.to, in.To}} {
		switch {
		case fl.value == "":
			return bad("missing %s", fl.name)
		case len(fl.value) > MaxIDBytes:
			return bad("%s is longer than %d bytes", fl.name, MaxIDBytes)
		}
		if err := storableText(fl.name, fl.value); err != nil {
			return err
		}
	}
	if err := storableText(f.body, in.Body); err != nil {
		return err
	}
	if utf8.RuneCountInString(in.Body) > MaxBodyRunes {
		return &badRequest{http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is longer than %d characters", f.body, MaxBodyRunes)}
	}
	if len(in.Media) > MaxMedia {
		return bad("%s has more than %d media URLs", f.mediaList, MaxMedia)
	}
	for i, u := range in.Media {
		if err := mediaURL(fmt.Sprintf(f.media, i), u); err != nil {
			return err
		}
	}
	if len(in.MediaTypes) > len(in.Media) {
		return bad("%s has more entries than %s", f.mediaTypes, f.mediaList)
	}
	if in.Segments < 0 || in.Segments > MaxSegments {
		return bad("%s is not a whole number from 0 to %d", f.segments, MaxSegments)
	}
	type field struct {
		name, value string
		max         int
	}
	fields := []field{{f.accountSID, in.AccountSID, MaxIDBytes}, {f.serviceSID, in.MessagingServiceSID, MaxIDBytes},
		{f.fromCity, in.FromCity, MaxPlaceBytes}, {f.fromState, in.FromState, MaxPlaceBytes},
		{f.fromCountry, in.FromCountry, MaxPlaceBytes}, {f.fromZip, in.FromZip, MaxPlaceBytes}}
	for i, t := range in.MediaTypes {
		fields = append(fields, field{fmt.Sprintf(f.mediaType, i), t, MaxMediaTypeBytes})
	}
	for _, fl := range fields {
		if len(fl.value) > fl.max {
			return bad("%s is longer than %d bytes", fl.name, fl.max)
		}
		if err := storableText(fl.name, fl.value); err != nil {
			return err
		}
	}
	return nil
}

// storableText refuses what a text column cannot hold.
func storableText(field, v string) error {
	switch {
	case !utf8.ValidString(v):
		return &badRequest{http.StatusBadRequest, field + " is not valid UTF-8"}
	case strings.IndexByte(v, 0) >= 0:
		return &badRequest{http.StatusBadRequest, field + " contains a NUL character"}
	}
	return nil
}

// mediaURL checks one media URL: an absolute http(s) URL of at most
// MaxMediaURLBytes, without control characters or invalid UTF-8.
func mediaURL(field, v string) error {
	if p := inbound.MediaURLProblem(v); p != "" {
		return &badRequest{http.StatusBadRequest, field + " " + p}
	}
	return nil
}

// Handle processes one inbound message exactly once and returns the
// answer. Errors are *badRequest for bad input (400, 409, 413), anything
// else for a store failure (answered 503: nothing was committed).
func (s *Server) Handle(ctx context.Context, in Inbound, f fieldNames) (*Answer, error) {
	if err := validate(in, f); err != nil {
		return nil, err
	}
	noteMessage(ctx, in.SID, "", "", "") // validated: bounded, and the line leads to `flowc trace`
	key := in.From + "\x00" + in.To
	if err := s.order.LockContext(ctx, key); err != nil {
		return nil, fmt.Errorf("waiting for earlier messages of the conversation: %w", err)
	}
	defer s.order.Unlock(key)
	res, err := s.process(ctx, in, false, f)
	if err != nil {
		return nil, err
	}
	outcome := res.answer.Outcome
	if res.retry {
		outcome = "retry"
	}
	s.metrics.messages.WithLabelValues(res.answer.Flow, outcome).Inc()
	noteMessage(ctx, "", res.answer.Flow, res.answer.Version, outcome)
	return res.answer, nil
}
