package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/flowc-dev/flowc/server/store"
)

// Delivery reports: Twilio posts a message's status to its StatusCallback
// (every SMS flowc sends names POST /webhooks/twilio/status) as it
// moves along; the reports are signed like inbound webhooks, may come
// twice and out of order. Each status has a rank along a message's life;
// the store keeps a report only over one of lower rank, so a late "sent"
// after "delivered" changes nothing.
var deliveryRank = map[string]int{
	"accepted":    1,
	"scheduled":   1,
	"queued":      2,
	"sending":     3,
	"sent":        4,
	"canceled":    6,
	"delivered":   6,
	"undelivered": 6,
	"failed":      6,
	"read":        7, // WhatsApp/RCS: after delivered
}

// StatusCallbackPath is where the provider reports deliveries.
const StatusCallbackPath = "/webhooks/twilio/status"

// maxErrorCodeBytes bounds a report's ErrorCode (Twilio's are 5 digits).
const maxErrorCodeBytes = 16

// statusOf is a Twilio request's message status (MessageStatus, or the
// older SmsStatus).
func statusOf(form url.Values) string {
	if v := form.Get("MessageStatus"); v != "" {
		return v
	}
	return form.Get("SmsStatus")
}

// isStatusCallback tells a delivery report from an inbound text on the
// inbound URL (an operator may have pointed the number's or the
// Messaging Service's status callback there): an inbound text's status is
// "received" (or absent), a report's is one of an outgoing message's.
func isStatusCallback(form url.Values) bool {
	_, outgoing := deliveryRank[statusOf(form)]
	return outgoing
}

// handleTwilioStatus is POST /webhooks/twilio/status.
func (s *Server) handleTwilioStatus(w http.ResponseWriter, r *http.Request) {
	if !s.parseTwilioForm(w, r) {
		return
	}
	s.recordStatusCallback(w, r)
}

// recordStatusCallback keeps a signed, parsed delivery report against the
// outbox item sent as its MessageSid (the report is kept by sid, so one
// arriving before the send is recorded is not lost). ErrorCode 21610 (the
// recipient opted out at the carrier) opts the contact out of the number.
func (s *Server) recordStatusCallback(w http.ResponseWriter, r *http.Request) {
	sid := r.PostForm.Get("MessageSid")
	if sid == "" {
		sid = r.PostForm.Get("SmsSid")
	}
	status, code := statusOf(r.PostForm), r.PostForm.Get("ErrorCode")
	var bad string
	switch {
	case sid == "":
		bad = "missing MessageSid"
	case len(sid) > MaxIDBytes || storableText("MessageSid", sid) != nil:
		bad = fmt.Sprintf("MessageSid is not a message id (at most %d bytes of text)", MaxIDBytes)
	case deliveryRank[status] == 0:
		bad = fmt.Sprintf("MessageStatus %q is not a delivery status (want one of queued, sending, sent, delivered, undelivered, failed, …)", clip(status))
	case len(code) > maxErrorCodeBytes || strings.Trim(code, "0123456789") != "":
		bad = fmt.Sprintf("ErrorCode %q is not a number of at most %d digits", clip(code), maxErrorCodeBytes)
	}
	if bad != "" {
		http.Error(w, bad, http.StatusBadRequest)
		return
	}
	now := s.cfg.Now()
	err := s.store.InTx(r.Context(), func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T has no outbox", tx)
		}
		if err := otx.RecordDeliveryStatus(r.Context(), store.DeliveryStatus{ProviderSID: sid, Status: status, Rank: deliveryRank[status], ErrorCode: code, At: now}); err != nil {
			return err
		}
		if code != strconv.Itoa(twilioUnsubscribed) {
			return nil
		}
		it, err := otx.OutboxByProviderSID(r.Context(), sid)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return tx.SetOptOut(r.Context(), it.To, it.From, true, now)
	})
	if err != nil {
		s.log.Error("status callback failed", "request_id", middleware.GetReqID(r.Context()), "error", clipErr(err))
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	s.metrics.statusCallbacks.WithLabelValues(status).Inc()
	w.WriteHeader(http.StatusNoContent)
}

// statusCallbackURL is where SMS sent with the configured public URL
// report their delivery ("" without one: no reports are asked for).
func statusCallbackURL(publicURL string) string {
	if publicURL == "" {
		return ""
	}
	return strings.TrimRight(publicURL, "/") + StatusCallbackPath
}

// withStatusCallback is o with its StatusCallbackURL defaulted from the
// public URL (a copy: the caller's Outbound is not changed).
func withStatusCallback(o *Outbound, publicURL string) *Outbound {
	if o == nil || o.StatusCallbackURL != "" || publicURL == "" {
		return o
	}
	c := *o
	c.StatusCallbackURL = statusCallbackURL(publicURL)
	return &c
}

// Delivery is an outbox item in the admin API: what became of a reply or
// a forward.
type Delivery struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	To          string     `json:"to"`
	From        string     `json:"from"`
	MessageSID  string     `json:"message_sid"`
	Status      string     `json:"status"` // pending, sent, dropped
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	Created     time.Time  `json:"created"`
	NotBefore   *time.Time `json:"not_before,omitempty"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	AgeSeconds  float64    `json:"age_seconds"`
	ProviderSID string     `json:"provider_sid,omitempty"`
	// The provider's latest report (status callbacks).
	DeliveryStatus string     `json:"delivery_status,omitempty"`
	DeliveryError  string     `json:"delivery_error,omitempty"`
	DeliveryAt     *time.Time `json:"delivery_at,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deliveryOf(it store.OutboxItem, now time.Time) Delivery {
	return Delivery{ID: it.ID, Kind: it.Kind, To: it.To, From: it.From, MessageSID: it.MessageSID, Status: it.Status,
		Attempts: it.Attempts, LastError: it.LastError, Created: it.Created, NotBefore: optTime(it.NotBefore), DoneAt: optTime(it.DoneAt),
		AgeSeconds: max(0, now.Sub(it.Created).Seconds()), ProviderSID: it.ProviderSID,
		DeliveryStatus: it.DeliveryStatus, DeliveryError: it.DeliveryError, DeliveryAt: optTime(it.DeliveryAt)}
}

// deliveriesOf lists what a message (or a timer run) caused to be sent.
func (s *Server) deliveriesOf(ctx context.Context, tx store.Tx, messageSID string) ([]Delivery, error) {
	otx, ok := tx.(store.OutboxTx)
	if !ok {
		return []Delivery{}, nil
	}
	items, err := otx.OutboxByMessage(ctx, messageSID)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	out := make([]Delivery, 0, len(items))
	for _, it := range items {
		out = append(out, deliveryOf(it, now))
	}
	return out, nil
}

// deliveriesOfMany is deliveriesOf for many messages (an inbox page's)
// in one read: the deliveries by message sid.
func (s *Server) deliveriesOfMany(ctx context.Context, tx store.Tx, sids []string) (map[string][]Delivery, error) {
	otx, ok := tx.(store.OutboxTx)
	if !ok || len(sids) == 0 {
		return map[string][]Delivery{}, nil
	}
	byMsg, err := otx.OutboxByMessages(ctx, sids)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	out := make(map[string][]Delivery, len(byMsg))
	for sid, items := range byMsg {
		ds := make([]Delivery, 0, len(items))
		for _, it := range items {
			ds = append(ds, deliveryOf(it, now))
		}
		out[sid] = ds
	}
	return out, nil
}

// Bounds of GET /v1/admin/outbox.
const (
	defaultOutboxList = 100
	maxOutboxList     = 1000
)

// listOutbox is GET /v1/admin/outbox?status=pending|sent|dropped|all&limit=N:
// the queue, oldest first (default: pending, 100 items).
func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	switch status {
	case "":
		status = "pending"
	case "all":
		status = ""
	case "pending", "sent", "dropped":
	default:
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("status %q: want pending, sent, dropped or all", clip(status))})
		return
	}
	limit := defaultOutboxList
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxOutboxList {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("limit %q: want a whole number from 1 to %d", clip(v), maxOutboxList)})
			return
		}
		limit = n
	}
	var items []store.OutboxItem
	err := s.store.InTx(r.Context(), func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T has no outbox", tx)
		}
		var err error
		items, err = otx.OutboxItems(r.Context(), status, limit)
		return err
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	now := s.cfg.Now()
	out := make([]Delivery, 0, len(items))
	for _, it := range items {
		out = append(out, deliveryOf(it, now))
	}
	writeJSON(w, http.StatusOK, out)
}
