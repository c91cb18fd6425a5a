package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

const apiToken = "test-api-token-0123456789abcdef"

// postJSON posts a message to POST /v1/messages with the API token.
func (h *harness) postJSON(msg map[string]any) (int, string) {
	h.t.Helper()
	b, _ := json.Marshal(msg)
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/v1/messages", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// postForm posts a signed Twilio form.
func (h *harness) postForm(f url.Values) (int, string) {
	h.t.Helper()
	return h.post(f, h.sign("/webhooks/twilio/sms", f))
}

// message returns the stored message of sid, nil when none.
func (h *harness) message(sid string) *store.Message {
	h.t.Helper()
	return h.messageT(h.t, sid)
}

func (h *harness) messageT(t *testing.T, sid string) *store.Message {
	t.Helper()
	var m *store.Message
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		m, err = tx.MessageBySID(context.Background(), sid)
		if errors.Is(err, store.ErrNotFound) {
			m, err = nil, nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMessageSidOfAnotherConversationIs409 (issue #10): a MessageSid
// already stored for one contact, arriving from another contact (or to
// another number), used to be answered with the first contact's reply.
// It is a 409 Conflict, and nothing is stored.
func TestMessageSidOfAnotherConversationIs409(t *testing.T) {
	const other = "+15550009999"
	for _, endpoint := range []string{"twilio", "json"} {
		for _, change := range []string{"from", "to"} {
			t.Run(endpoint+"/"+change, func(t *testing.T) {
				h := startWith(t, setup{token: authToken, apiToken: apiToken}, "../examples")
				h.clock.Set(time.Date(2026, 11, 23, 20, 0, 0, 0, ny)) // closed: a reply and an inbox item
				sid := "SM409" + endpoint + change
				send := func(from, to string) (int, string) {
					if endpoint == "json" {
						return h.postJSON(map[string]any{"sid": sid, "from": from, "to": to, "body": "hello"})
					}
					return h.postForm(h.form(sid, from, to, "hello"))
				}
				code, first := send(ann, "+15550100")
				if code != http.StatusOK || !strings.Contains(first, "closed") {
					t.Fatalf("first delivery: %d %s", code, first)
				}
				from, to := other, "+15550100"
				if change == "to" {
					from, to = ann, "+15550200"
				}
				code, body := send(from, to)
				field := map[string]string{"twilio": "MessageSid", "json": "sid"}[endpoint]
				if code != http.StatusConflict || !strings.Contains(body, field) || strings.Contains(body, "closed") {
					t.Fatalf("same %s from another conversation: %d %q, want 409 naming %s and not the first answer", field, code, body, field)
				}
				if m := h.message(sid); m == nil || m.From != ann || m.To != "+15550100" {
					t.Fatalf("stored message changed: %+v", m)
				}
				if n := len(h.inbox("team", "sales")); n != 1 {
					t.Fatalf("team sales has %d inbox items, want only the first delivery's", n)
				}
				// The first contact's retry still gets its answer.
				if code, again := send(ann, "+15550100"); code != http.StatusOK || again != first {
					t.Fatalf("retry of the first delivery: %d %q, want %q", code, again, first)
				}
			})
		}
	}
}

// badField is one invalid value of one field, as each endpoint names it.
type badField struct {
	name        string
	twilio      func(f url.Values)     // nil: not expressible on the Twilio form
	json        func(m map[string]any) // nil: not expressible in JSON
	twilioField string                 // what the Twilio error must name
	jsonField   string
	want        string // also in the error
}

var badFields = func() []badField {
	var out []badField
	ids := []struct{ form, json string }{{"MessageSid", "sid"}, {"From", "from"}, {"To", "to"}, {"Body", "body"}}
	for _, id := range ids {
		out = append(out,
			badField{name: id.form + " with a NUL", twilioField: id.form, jsonField: id.json, want: "NUL",
				twilio: func(f url.Values) { f.Set(id.form, f.Get(id.form)+"\x00x") },
				json:   func(m map[string]any) { m[id.json] = m[id.json].(string) + "\x00x" }},
			// encoding/json turns invalid UTF-8 into U+FFFD: only the form can carry it.
			badField{name: id.form + " not UTF-8", twilioField: id.form, want: "UTF-8",
				twilio: func(f url.Values) { f.Set(id.form, f.Get(id.form)+"\xff\xfe") }},
		)
		if id.form != "Body" {
			out = append(out, badField{name: id.form + " too long", twilioField: id.form, jsonField: id.json, want: "longer than 64",
				twilio: func(f url.Values) { f.Set(id.form, strings.Repeat("1", 65)) },
				json:   func(m map[string]any) { m[id.json] = strings.Repeat("1", 65) }})
		}
	}
	// The provider's other parameters, stored as the message's details.
	for _, p := range []struct {
		form, json string
		max        int
	}{{"AccountSid", "account_sid", 64}, {"MessagingServiceSid", "messaging_service_sid", 64}, {"FromCity", "from_city", 128},
		{"FromState", "from_state", 128}, {"FromCountry", "from_country", 128}, {"FromZip", "from_zip", 128}} {
		out = append(out,
			badField{name: p.form + " with a NUL", twilioField: p.form, jsonField: p.json, want: "NUL",
				twilio: func(f url.Values) { f.Set(p.form, "x\x00y") },
				json:   func(m map[string]any) { m[p.json] = "x\x00y" }},
			badField{name: p.form + " not UTF-8", twilioField: p.form, want: "UTF-8",
				twilio: func(f url.Values) { f.Set(p.form, "x\xff\xfe") }},
			badField{name: p.form + " too long", twilioField: p.form, jsonField: p.json, want: fmt.Sprintf("longer than %d bytes", p.max),
				twilio: func(f url.Values) { f.Set(p.form, strings.Repeat("a", p.max+1)) },
				json:   func(m map[string]any) { m[p.json] = strings.Repeat("a", p.max+1) }})
	}
	out = append(out,
		badField{name: "NumSegments not a number", twilioField: "NumSegments", want: "not a whole number from 0 to 200",
			twilio: func(f url.Values) { f.Set("NumSegments", "two") }},
		badField{name: "NumSegments too large", twilioField: "NumSegments", jsonField: "segments", want: "not a whole number from 0 to 200",
			twilio: func(f url.Values) { f.Set("NumSegments", "201") },
			json:   func(m map[string]any) { m["segments"] = -1 }},
		badField{name: "MediaContentType with a NUL", twilioField: "MediaContentType0", jsonField: "media_types[0]", want: "NUL",
			twilio: func(f url.Values) {
				f.Set("NumMedia", "1")
				f.Set("MediaUrl0", "https://api.twilio.com/m/1")
				f.Set("MediaContentType0", "image/\x00jpeg")
			},
			json: func(m map[string]any) {
				m["media"] = []string{"https://a.example/1"}
				m["media_types"] = []string{"image/\x00jpeg"}
			}},
		badField{name: "MediaContentType too long", twilioField: "MediaContentType0", want: "longer than 255 bytes",
			twilio: func(f url.Values) {
				f.Set("NumMedia", "1")
				f.Set("MediaUrl0", "https://api.twilio.com/m/1")
				f.Set("MediaContentType0", "image/"+strings.Repeat("x", 250))
			}},
		badField{name: "more media types than media", jsonField: "media_types", want: "more entries than media",
			json: func(m map[string]any) {
				m["media"] = []string{"https://a.example/1"}
				m["media_types"] = []string{"a/b", "c/d"}
			}},
	)
	media := func(u string) (func(url.Values), func(map[string]any)) {
		return func(f url.Values) { f.Set("NumMedia", "1"); f.Set("MediaUrl0", u) },
			func(m map[string]any) { m["media"] = []string{u} }
	}
	for _, c := range []struct{ name, url, want string }{
		{"with a NUL", "https://api.twilio.com/media/ME1\x00.jpg", "http(s) URL"},
		{"with a newline", "https://api.twilio.com/media/ME1\n.jpg", "http(s) URL"},
		{"not UTF-8", "https://api.twilio.com/media/ME1\xff.jpg", "http(s) URL"},
		{"relative", "/media/ME1.jpg", "http(s) URL"},
		{"of another scheme", "javascript:alert(1)", "http(s) URL"},
		{"ftp", "ftp://example.com/a.jpg", "http(s) URL"},
		{"without a host", "https:///a.jpg", "http(s) URL"},
		{"too long", "https://example.com/" + strings.Repeat("a", 2030), "longer than 2048 bytes"},
	} {
		tw, js := media(c.url)
		if c.name == "not UTF-8" {
			js = nil
		}
		out = append(out, badField{name: "media URL " + c.name, twilio: tw, json: js, twilioField: "MediaUrl0", jsonField: "media[0]", want: c.want})
	}
	for _, n := range []string{"x", "-1", "11", "1.5"} {
		out = append(out, badField{name: "NumMedia " + n, twilioField: "NumMedia", want: "NumMedia",
			twilio: func(f url.Values) { f.Set("NumMedia", n) }})
	}
	out = append(out, badField{name: "11 media URLs", jsonField: "media", want: "more than 10",
		json: func(m map[string]any) {
			var us []string
			for i := 0; i < 11; i++ {
				us = append(us, fmt.Sprintf("https://example.com/%d.jpg", i))
			}
			m["media"] = us
		}})
	return out
}()

// TestEveryStoredFieldIsValidated (issue #10): a value the database
// cannot store (a NUL, invalid UTF-8) or should not (unbounded, a media
// URL that is not one) is a 400 naming the field as the endpoint names
// it, and nothing is stored; on PostgreSQL a NUL in MediaUrl0 used to be
// answered 503, and so retried by the provider, forever.
func TestEveryStoredFieldIsValidated(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startWith(t, setup{token: authToken, apiToken: apiToken, store: sc.open(t)}, "../examples")
			for i, c := range badFields {
				sid := fmt.Sprintf("SMinvalid%04d", i)
				if c.twilio != nil {
					t.Run("twilio/"+c.name, func(t *testing.T) {
						f := h.form(sid+"t", ann, "+15550100", "hi")
						c.twilio(f)
						code, body := h.postForm(f)
						if code != http.StatusBadRequest || !strings.Contains(body, c.twilioField) || !strings.Contains(body, c.want) {
							t.Fatalf("%d %q, want 400 naming %s and saying %q", code, body, c.twilioField, c.want)
						}
						if m := h.messageT(t, sid+"t"); m != nil { // the SID as sent, unless that is what is bad
							t.Fatalf("stored anyway: %+v", m)
						}
					})
				}
				if c.json != nil {
					t.Run("json/"+c.name, func(t *testing.T) {
						m := map[string]any{"sid": sid + "j", "from": ann, "to": "+15550100", "body": "hi"}
						c.json(m)
						code, body := h.postJSON(m)
						if code != http.StatusBadRequest || !strings.Contains(body, c.jsonField) || !strings.Contains(body, c.want) {
							t.Fatalf("%d %q, want 400 naming %s and saying %q", code, body, c.jsonField, c.want)
						}
						if stored := h.messageT(t, sid+"j"); stored != nil {
							t.Fatalf("stored anyway: %+v", stored)
						}
					})
				}
			}
			// Valid media URLs are accepted and stored as given.
			t.Run("valid media", func(t *testing.T) {
				f := h.form("SMmediaok", ann, "+15550100", "a photo")
				urls := []string{"https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "http://example.com/b.png?x=1&y=%00"}
				f.Set("NumMedia", "2")
				f.Set("MediaUrl0", urls[0])
				f.Set("MediaUrl1", urls[1])
				if code, body := h.postForm(f); code != http.StatusOK {
					t.Fatalf("%d %s", code, body)
				}
				m := h.messageT(t, "SMmediaok")
				if m == nil || fmt.Sprint(m.Media) != fmt.Sprint(urls) {
					t.Fatalf("stored %+v, want media %v", m, urls)
				}
				code, body := h.postJSON(map[string]any{"sid": "SMmediaokj", "from": ann, "to": "+15550100", "body": "x", "media": urls})
				if code != http.StatusOK {
					t.Fatalf("json: %d %s", code, body)
				}
				if m := h.messageT(t, "SMmediaokj"); m == nil || fmt.Sprint(m.Media) != fmt.Sprint(urls) {
					t.Fatalf("json stored %+v, want media %v", m, urls)
				}
			})
		})
	}
}

// TestTextFromAnAppletIsStorable: text a flow computes from an applet's
// result is stored too (in the reply, the stored answer and the
// conversation's variables), and an applet can return any string: a NUL
// in it used to fail the transaction on PostgreSQL on every retry. It is
// stored as U+FFFD, as TwiML renders it. (An applet's result is data: it
// cannot add a tag or a forward target, so those are always the flow's
// own literal text.)
func TestTextFromAnAppletIsStorable(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			applets := func(context.Context, *vm.Applet, vm.AppletInput) (any, error) {
				return "ok\x00", nil
			}
			h := startWith(t, setup{token: authToken, store: sc.open(t), applets: applets}, "testdata/slow.flow")
			code, body := h.postForm(h.form("SMappletnul", ann, "+15550950", "hi"))
			if code != http.StatusOK || !strings.Contains(body, "done ok\uFFFD") {
				t.Fatalf("%d %q", code, body)
			}
			err := h.store.InTx(context.Background(), func(tx store.Tx) error {
				m, err := tx.MessageBySID(context.Background(), "SMappletnul")
				if err == nil && !strings.Contains(m.Response, "done ok") {
					err = fmt.Errorf("stored answer %q", m.Response)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
