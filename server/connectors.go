package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/smtp"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Outbound configures where outbox items go.
type Outbound struct {
	// Twilio's Messages REST API: POST {TwilioAPIURL}/2010-04-01/Accounts/{AccountSID}/Messages.json
	TwilioAPIURL     string // default https://api.twilio.com
	TwilioAccountSID string
	TwilioAuthToken  string
	// SMTP for `forward email:`.
	SMTPAddr string // host:port
	SMTPFrom string
	SMTPUser string // optional PLAIN auth
	SMTPPass string
	// WebhookSecret signs `forward webhook:` requests (X-Flowc-Signature).
	WebhookSecret string
	// HTTP client for the provider and webhooks.
	Client *http.Client
}

// permanentError is a failure that retrying cannot fix (the provider
// rejected the request as invalid).
type permanentError struct{ error }

// deliver sends one outbox item.
func (o *Outbound) deliver(ctx context.Context, it store.OutboxItem, now time.Time) error {
	switch it.Kind {
	case "sms":
		return o.sendSMS(ctx, it)
	case "email":
		return o.sendEmail(it, now)
	case "webhook":
		return o.sendWebhook(ctx, it, now)
	}
	return permanentError{fmt.Errorf("unknown outbox kind %q", it.Kind)}
}

func (o *Outbound) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return &http.Client{Timeout: 15 * time.Second}
}

// sendSMS posts to Twilio's Messages API. The idempotency token is the
// outbox item's id, so a provider that honours it (and the tests' fake
// provider) drops a repeat sent after a crash between sending and
// recording the send.
func (o *Outbound) sendSMS(ctx context.Context, it store.OutboxItem) error {
	if o.TwilioAccountSID == "" {
		return fmt.Errorf("no SMS provider configured (set FLOWC_TWILIO_ACCOUNT_SID)")
	}
	base := o.TwilioAPIURL
	if base == "" {
		base = "https://api.twilio.com"
	}
	endpoint := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(o.TwilioAccountSID) + "/Messages.json"
	form := url.Values{"To": {it.To}, "From": {it.From}, "Body": {it.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return permanentError{err}
	}
	req.SetBasicAuth(o.TwilioAccountSID, o.TwilioAuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("I-Twilio-Idempotency-Token", "flowc-outbox-"+strconv.FormatInt(it.ID, 10))
	return o.do(req)
}

func (o *Outbound) do(req *http.Request) error {
	resp, err := o.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("%s answered %d: %s", req.URL.Host, resp.StatusCode, strings.TrimSpace(string(body)))
	default:
		return permanentError{fmt.Errorf("%s answered %d: %s", req.URL.Host, resp.StatusCode, strings.TrimSpace(string(body)))}
	}
}

// WebhookSignature is the X-Flowc-Signature value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>".
func WebhookSignature(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

func (o *Outbound) sendWebhook(ctx context.Context, it store.OutboxItem, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, it.To, bytes.NewReader([]byte(it.Body)))
	if err != nil {
		return permanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Flowc-Event-Id", "flowc-outbox-"+strconv.FormatInt(it.ID, 10))
	if o.WebhookSecret != "" {
		req.Header.Set("X-Flowc-Signature", WebhookSignature(o.WebhookSecret, now, []byte(it.Body)))
	}
	return o.do(req)
}

func (o *Outbound) sendEmail(it store.OutboxItem, now time.Time) error {
	if o.SMTPAddr == "" {
		return fmt.Errorf("no SMTP server configured (set FLOWC_SMTP_ADDR)")
	}
	from := o.SMTPFrom
	if from == "" {
		from = "flowc@localhost"
	}
	var fwd struct {
		From string `json:"from"`
		To   string `json:"to"`
		Body string `json:"body"`
		Flow string `json:"flow"`
	}
	_ = jsonUnmarshal(it.Body, &fwd)
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: SMS from %s to %s\r\nDate: %s\r\nMessage-ID: <flowc-outbox-%d@flowc>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		from, it.To, fwd.From, fwd.To, now.Format(time.RFC1123Z), it.ID)
	fmt.Fprintf(&msg, "%s\r\n\r\n-- \r\nflow %s, from %s to %s\r\n", strings.ReplaceAll(fwd.Body, "\n", "\r\n"), fwd.Flow, fwd.From, fwd.To)
	var auth smtp.Auth
	if o.SMTPUser != "" {
		host := o.SMTPAddr
		if i := strings.LastIndex(host, ":"); i >= 0 {
			host = host[:i]
		}
		auth = smtp.PlainAuth("", o.SMTPUser, o.SMTPPass, host)
	}
	return smtp.SendMail(o.SMTPAddr, auth, from, []string{it.To}, msg.Bytes())
}
