package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/flowc-dev/flowc/server/store"
)

// Outbound configures where outbox items go.
type Outbound struct {
	// Twilio's Messages REST API: POST {TwilioAPIURL}/2010-04-01/Accounts/{AccountSID}/Messages.json
	TwilioAPIURL     string // default https://api.twilio.com
	TwilioAccountSID string
	TwilioAuthToken  string
	// TwilioMessagingServiceSID, when set, sends SMS through that
	// Messaging Service (its sender pool, opt-out handling) instead of
	// from the business number (FLOWC_TWILIO_MESSAGING_SERVICE_SID).
	TwilioMessagingServiceSID string
	// StatusCallbackURL is sent with every SMS: Twilio reports each
	// message's delivery there (POST /webhooks/twilio/status). The server
	// sets it from FLOWC_PUBLIC_URL when it is empty.
	StatusCallbackURL string
	// SMTP for `forward email:`.
	SMTPAddr string // host:port
	SMTPFrom string
	SMTPUser string // optional PLAIN auth
	SMTPPass string
	// SMTPTLS: "opportunistic" (default: STARTTLS when offered),
	// "starttls" (required) or "tls" (implicit TLS, port 465).
	SMTPTLS string
	// SMTPTimeout bounds the connection and each SMTP command; 0 means
	// DefaultSMTPTimeout.
	SMTPTimeout time.Duration
	// WebhookSecret signs `forward webhook:` requests (X-Flowc-Signature).
	WebhookSecret string
	// HTTP client for the provider and webhooks.
	Client *http.Client
}

// permanentError is a failure that retrying cannot fix (the provider
// rejected the request as invalid).
type permanentError struct{ error }

// providerError is a non-2xx answer of the provider or a webhook.
type providerError struct {
	host   string
	status int    // HTTP status
	code   int    // Twilio's error code (the answer's "code"), 0 if none
	text   string // the answer, trimmed and clipped
	// Retry-After of a 429 or 503: a delay, or a time (RFC 9110 allows
	// both); zero when absent or unreadable.
	retryAfter   time.Duration
	retryAfterAt time.Time
}

func (e *providerError) Error() string {
	return fmt.Sprintf("%s answered %d: %s", e.host, e.status, e.text)
}

// Twilio error codes with a meaning for delivery.
const twilioUnsubscribed = 21610 // the recipient replied STOP at the carrier

// sent is what a delivery returns: the provider's id and first status of
// an SMS ("" for e-mail and webhooks).
type sent struct{ providerSID, status string }

// deliver sends one outbox item. Every network call it makes (DNS,
// connect, TLS, each request and SMTP command) ends when ctx does: the
// caller bounds a delivery with deliveryTimeout.
func (o *Outbound) deliver(ctx context.Context, it store.OutboxItem, now time.Time) (sent, error) {
	switch it.Kind {
	case "sms":
		return o.sendSMS(ctx, it)
	case "email":
		return sent{}, o.sendEmail(ctx, it, now)
	case "webhook":
		_, err := o.do(ctx, o.webhookRequest(it, now))
		return sent{}, err
	}
	return sent{}, permanentError{fmt.Errorf("unknown outbox kind %q", it.Kind)}
}

func (o *Outbound) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return &http.Client{Timeout: deliveryTimeout, Transport: deliveryTransport}
}

// deliveryTransport keeps as many idle connections to one host as
// deliveries to it may run at once (http.DefaultTransport keeps 2: the
// others would open a new connection, and a new TLS session, per request).
var deliveryTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxPerDestination
	return t
}()

// sendSMS posts to Twilio's Messages API. The idempotency token is the
// outbox item's id, so a provider that honours it (and the tests' fake
// provider) drops a repeat sent after a crash between sending and
// recording the send.
func (o *Outbound) sendSMS(ctx context.Context, it store.OutboxItem) (sent, error) {
	if o.TwilioAccountSID == "" {
		return sent{}, fmt.Errorf("no SMS provider configured (set FLOWC_TWILIO_ACCOUNT_SID)")
	}
	base := o.TwilioAPIURL
	if base == "" {
		base = "https://api.twilio.com"
	}
	endpoint := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(o.TwilioAccountSID) + "/Messages.json"
	form := url.Values{"To": {it.To}, "Body": {it.Body}}
	if o.TwilioMessagingServiceSID != "" {
		form.Set("MessagingServiceSid", o.TwilioMessagingServiceSID)
	} else {
		form.Set("From", it.From)
	}
	if o.StatusCallbackURL != "" {
		form.Set("StatusCallback", o.StatusCallbackURL)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return sent{}, permanentError{err}
	}
	req.SetBasicAuth(o.TwilioAccountSID, o.TwilioAuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("I-Twilio-Idempotency-Token", "flowc-outbox-"+strconv.FormatInt(it.ID, 10))
	body, err := o.do(ctx, req)
	if err != nil {
		return sent{}, err
	}
	var msg struct {
		SID    string `json:"sid"`
		Status string `json:"status"`
	}
	json.Unmarshal(body, &msg) // an answer without them is still a send
	if len(msg.SID) > MaxIDBytes || storableText("sid", msg.SID) != nil {
		msg.SID = ""
	}
	if _, known := deliveryRank[msg.Status]; !known {
		msg.Status = ""
	}
	return sent{providerSID: msg.SID, status: msg.Status}, nil
}

// maxAnswerBytes bounds what is read of a provider's answer (Twilio's
// message resource is about 1.5 kB).
const maxAnswerBytes = 64 << 10

// do sends req with ctx's deadline and returns a 2xx answer's body; any
// other answer is a *providerError.
func (o *Outbound) do(ctx context.Context, req *http.Request) ([]byte, error) {
	if req == nil {
		return nil, permanentError{errors.New("no request")}
	}
	resp, err := o.client().Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, err
	}
	pe := &providerError{host: req.URL.Host, status: resp.StatusCode, text: clip(strings.TrimSpace(string(body)))}
	var twilio struct {
		Code int `json:"code"`
	}
	if json.Unmarshal(body, &twilio) == nil {
		pe.code = twilio.Code
	}
	pe.retryAfter, pe.retryAfterAt = parseRetryAfter(resp.Header.Get("Retry-After"))
	return nil, pe
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP date (RFC 9110 10.2.3). Anything else is no advice.
func parseRetryAfter(v string) (time.Duration, time.Time) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, time.Time{}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, time.Time{}
		}
		return time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second, time.Time{}
	}
	if t, err := http.ParseTime(v); err == nil {
		return 0, t
	}
	return 0, time.Time{}
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

// webhookRequest is a `forward webhook:` delivery (nil for a URL that
// cannot be requested: such an item fails permanently).
func (o *Outbound) webhookRequest(it store.OutboxItem, now time.Time) *http.Request {
	req, err := http.NewRequest(http.MethodPost, it.To, bytes.NewReader([]byte(it.Body)))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Flowc-Event-Id", "flowc-outbox-"+strconv.FormatInt(it.ID, 10))
	if o.WebhookSecret != "" {
		req.Header.Set("X-Flowc-Signature", WebhookSignature(o.WebhookSecret, now, []byte(it.Body)))
	}
	return req
}

// DefaultSMTPTimeout bounds connecting to the SMTP server and each
// command of a session (read and write), when Outbound.SMTPTimeout is 0.
const DefaultSMTPTimeout = 30 * time.Second

// sendEmail forwards an SMS by e-mail. Everything that goes into a header
// is checked first (addresses with net/mail, no CR or LF anywhere), so
// a contact texting from "+1555\r\nBcc: …" (the JSON endpoint takes any
// string as a number) cannot add recipients or headers; such an item
// fails permanently. go-mail writes the message (encoded headers,
// quoted-printable body, CRLF line ends, dot-stuffing).
func (o *Outbound) sendEmail(ctx context.Context, it store.OutboxItem, now time.Time) error {
	if o.SMTPAddr == "" {
		return fmt.Errorf("no SMTP server configured (set FLOWC_SMTP_ADDR)")
	}
	var fwd struct {
		From string `json:"from"`
		To   string `json:"to"`
		Body string `json:"body"`
		Flow string `json:"flow"`
	}
	if err := jsonUnmarshal(it.Body, &fwd); err != nil {
		return permanentError{fmt.Errorf("outbox item %d: %v", it.ID, err)}
	}
	from := o.SMTPFrom
	if from == "" {
		from = "flowc@localhost"
	}
	sender, err := emailAddress("FLOWC_SMTP_FROM", from)
	if err != nil {
		return permanentError{err}
	}
	rcpt, err := emailAddress("forward email:", it.To)
	if err != nil {
		return permanentError{err}
	}
	subject := "SMS from " + fwd.From + " to " + fwd.To
	if err := headerSafe("the SMS's numbers (Subject)", subject); err != nil {
		return permanentError{err}
	}
	m := mail.NewMsg()
	m.FromMailAddress(sender)
	m.AddToMailAddress(rcpt)
	m.Subject(subject)
	m.SetDateWithValue(now)
	m.SetMessageIDWithValue("flowc-outbox-" + strconv.FormatInt(it.ID, 10) + "@flowc")
	m.SetBodyString(mail.TypeTextPlain, fwd.Body+"\n\n-- \nflow "+fwd.Flow+", from "+fwd.From+" to "+fwd.To+"\n")

	host, portText, err := net.SplitHostPort(o.SMTPAddr)
	if err != nil {
		return permanentError{fmt.Errorf("FLOWC_SMTP_ADDR %q: %v (want host:port)", o.SMTPAddr, err)}
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return permanentError{fmt.Errorf("FLOWC_SMTP_ADDR %q: port is not a number", o.SMTPAddr)}
	}
	timeout := o.SMTPTimeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	// Our own dialer, so the connection is closed whatever happens:
	// go-mail leaves it open when the greeting, EHLO, STARTTLS or AUTH
	// fails (v0.8.1), and a server that stalls there would leak one
	// descriptor per retry.
	// The connection is also closed when ctx ends: a server that
	// accepts and then never answers holds this delivery only until its
	// deadline, whatever go-mail does with ctx.
	var conn net.Conn
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	watch := func(c net.Conn, err error) (net.Conn, error) {
		if err == nil {
			conn = c
			stop = context.AfterFunc(ctx, func() { c.Close() })
		}
		return c, err
	}
	dialer := &net.Dialer{Timeout: timeout}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return watch(dialer.DialContext(ctx, network, addr))
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(timeout)}
	switch o.SMTPTLS {
	case "", "opportunistic":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "tls":
		tlsDialer := &tls.Dialer{NetDialer: dialer, Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}}
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return watch(tlsDialer.DialContext(ctx, network, addr))
		}
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS)) // TLS from the first byte: no STARTTLS
	default:
		return permanentError{fmt.Errorf("FLOWC_SMTP_TLS %q: want opportunistic, starttls or tls", o.SMTPTLS)}
	}
	opts = append(opts, mail.WithDialContextFunc(dial))
	if o.SMTPUser != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(o.SMTPUser), mail.WithPassword(o.SMTPPass))
	}
	c, err := mail.NewClient(host, opts...)
	if err != nil {
		return permanentError{err}
	}
	err = c.DialAndSendWithContext(ctx, m)
	if conn != nil {
		conn.Close() // usually closed already (after QUIT): harmless
	}
	return err
}

// emailAddress parses one address (a display name allowed: "Shop
// <shop@example.com>"), refusing line breaks and lists; field names
// the setting in errors.
func emailAddress(field, s string) (*netmail.Address, error) {
	if err := headerSafe(field, s); err != nil {
		return nil, err
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not one e-mail address: %v", field, s, err)
	}
	if err := headerSafe(field, a.Name); err != nil {
		return nil, err
	}
	return a, nil
}

// headerSafe refuses a header value with a CR or LF (which would start
// a new header) or another control character.
func headerSafe(field, v string) error {
	if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return fmt.Errorf("%s %q contains a line break or control character; not sent (it would inject mail headers)", field, v)
	}
	return nil
}
