package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"
)

// Inbound is one inbound message, whichever endpoint it came through.
type Inbound struct {
	SID   string   `json:"sid"`
	From  string   `json:"from"`
	To    string   `json:"to"`
	Body  string   `json:"body"`
	Media []string `json:"media,omitempty"`
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

// parseTwilioForm reads a Twilio webhook's form and checks its
// signature, answering the request itself when either fails: the one
// check for every Twilio endpoint (inbound texts, delivery reports).
func (s *Server) parseTwilioForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("request body over %d bytes", MaxRequestBytes), http.StatusRequestEntityTooLarge)
			return false
		}
		http.Error(w, "malformed form body: "+err.Error(), http.StatusBadRequest)
		return false
	}
	if !s.cfg.DevMode() {
		sig := r.Header.Get("X-Twilio-Signature")
		if sig == "" || !validTwilioSignature(s.cfg.TwilioAuthToken, s.publicURL(r), r.PostForm, sig) {
			s.log.Warn("bad twilio signature", "request_id", middleware.GetReqID(r.Context()), "present", sig != "")
			http.Error(w, "invalid X-Twilio-Signature", http.StatusForbidden)
			return false
		}
	}
	return true
}

func (s *Server) handleTwilio(w http.ResponseWriter, r *http.Request) {
	if !s.parseTwilioForm(w, r) {
		return
	}
	if isStatusCallback(r.PostForm) { // a delivery report sent here, not a text (status.go)
		s.recordStatusCallback(w, r)
		return
	}
	in := Inbound{SID: r.PostForm.Get("MessageSid"), From: r.PostForm.Get("From"), To: r.PostForm.Get("To"), Body: r.PostForm.Get("Body")}
	if in.SID == "" {
		in.SID = r.PostForm.Get("SmsSid") // older parameter name
	}
	n, err := numMedia(r.PostForm.Get("NumMedia"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := 0; i < n; i++ {
		if u := r.PostForm.Get(fmt.Sprintf("MediaUrl%d", i)); u != "" {
			in.Media = append(in.Media, u)
		}
	}
	ans, err := s.Handle(r.Context(), in, twilioFields)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(TwiML(ans.Replies)))
}

var twilioFields = fieldNames{sid: "MessageSid", from: "From", to: "To", body: "Body", media: "MediaUrl%d", mediaList: "NumMedia"}
var jsonFields = fieldNames{sid: "sid", from: "from", to: "to", body: "body", media: "media[%d]", mediaList: "media"}

// fieldNames are an endpoint's names of the fields, for errors; media is
// a format taking a URL's index, mediaList names the list.
type fieldNames struct{ sid, from, to, body, media, mediaList string }

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
	// The store is down or failing: 503 so the provider retries later.
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
	// MaxMedia bounds the media URLs of a message (Twilio's own limit).
	MaxMedia = 10
	// MaxMediaURLBytes bounds one media URL.
	MaxMediaURLBytes = 2048
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
	bad := func(why string) error {
		return &badRequest{http.StatusBadRequest, field + " is not an http(s) URL" + why}
	}
	if len(v) > MaxMediaURLBytes {
		return &badRequest{http.StatusBadRequest, fmt.Sprintf("%s is longer than %d bytes", field, MaxMediaURLBytes)}
	}
	if !utf8.ValidString(v) {
		return bad(" (it is not valid UTF-8)")
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return bad(" (it contains a control character)")
		}
	}
	u, err := url.Parse(v)
	if err != nil || !(strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")) || u.Host == "" {
		return bad("")
	}
	return nil
}

// Handle processes one inbound message exactly once and returns the
// answer. Errors are *badRequest for bad input (400, 409, 413), anything
// else for a store failure (answered 503 so the provider retries).
func (s *Server) Handle(ctx context.Context, in Inbound, f fieldNames) (*Answer, error) {
	if err := validate(in, f); err != nil {
		return nil, err
	}
	noteMessage(ctx, in.SID, "", "", "") // validated: bounded, and the line leads to `flowc trace`
	key := in.From + "\x00" + in.To
	s.order.Lock(key)
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
