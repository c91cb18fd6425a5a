package server

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestConfigRequiresPublicURLOutsideDevMode: with signatures checked, the
// URL they are checked against must be configured, not taken from the
// request's Host header (which the sender chooses).
func TestConfigRequiresPublicURLOutsideDevMode(t *testing.T) {
	for _, c := range []struct {
		cfg     Config
		wantErr string
	}{
		{Config{}, ""}, // dev mode
		{Config{TwilioAuthToken: "t", PublicURL: "https://sms.example.com"}, ""},
		{Config{TwilioAuthToken: "t", PublicURL: "https://sms.example.com:8443/"}, ""},
		{Config{TwilioAuthToken: "t"}, "FLOWC_PUBLIC_URL is not set"},
		{Config{TwilioAuthToken: "t", PublicURL: "sms.example.com"}, "FLOWC_PUBLIC_URL"},
		{Config{TwilioAuthToken: "t", PublicURL: "ftp://sms.example.com"}, "FLOWC_PUBLIC_URL"},
		{Config{TwilioAuthToken: "t", PublicURL: "https://sms.example.com/?x=1"}, "FLOWC_PUBLIC_URL"},
		{Config{Outbound: &Outbound{SMTPTLS: "starttls"}}, ""},
		{Config{Outbound: &Outbound{SMTPTLS: "yes"}}, "FLOWC_SMTP_TLS"},
		{Config{TwilioAuthTokenSecondary: "old"}, "FLOWC_TWILIO_AUTH_TOKEN_SECONDARY is set without FLOWC_TWILIO_AUTH_TOKEN"},
		{Config{TwilioAuthToken: "t", TwilioAuthTokenSecondary: "old", PublicURL: "https://sms.example.com"}, ""},
		{Config{WebhookDeadline: 15 * time.Second}, ""},
		{Config{WebhookDeadline: 20 * time.Second}, "FLOWC_WEBHOOK_DEADLINE 20s: want at most 15s"},
	} {
		err := c.cfg.Validate()
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%+v: %v", c.cfg, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%+v: error %v, want one containing %q", c.cfg, err, c.wantErr)
		}
	}
	// ListenAndServe refuses too, so no embedding program forgets.
	s := New(Config{TwilioAuthToken: "t", Logger: discard}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.ListenAndServe(ctx, "127.0.0.1:0", time.Second, nil); err == nil || !strings.Contains(err.Error(), "FLOWC_PUBLIC_URL") {
		t.Fatalf("ListenAndServe without a public URL: %v", err)
	}
}
