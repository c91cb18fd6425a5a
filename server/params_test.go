package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/vm"
)

// TestMessageParametersReachFlowsAndApplets: Twilio's AccountSid,
// MessagingServiceSid, NumSegments, MediaContentType0…, FromCity,
// FromState, FromCountry and FromZip are readable by a flow (message.*)
// and an applet (ctx.message.*), and stored with the message.
func TestMessageParametersReachFlowsAndApplets(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			var seen map[string]any
			applets := func(_ context.Context, _ *vm.Applet, in vm.AppletInput) (any, error) {
				seen = in.Message
				return "ok", nil
			}
			h := startWith(t, setup{token: authToken, store: sc.open(t), applets: applets}, "testdata/params.flow")
			f := h.form("SMparams1", ann, "+15550970", "two pictures")
			for k, v := range map[string]string{"AccountSid": "AC123", "MessagingServiceSid": "MG456", "NumSegments": "2",
				"NumMedia": "2", "MediaUrl0": "https://api.twilio.com/m/1", "MediaContentType0": "image/jpeg",
				"MediaUrl1": "https://api.twilio.com/m/2", "MediaContentType1": "text/vcard",
				"FromCity": "SAN FRANCISCO", "FromState": "CA", "FromCountry": "US", "FromZip": "94105"} {
				f.Set(k, v)
			}
			code, body := h.postForm(f)
			want := "SMparams1|AC123|MG456|2|image/jpeg, text/vcard|SAN FRANCISCO|CA|US|94105"
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Fatalf("%d %s, want the reply %s", code, body, want)
			}
			for k, v := range map[string]any{"sid": "SMparams1", "account_sid": "AC123", "messaging_service_sid": "MG456",
				"segments": 2, "media_types": []any{"image/jpeg", "text/vcard"}, "from_city": "SAN FRANCISCO",
				"from_state": "CA", "from_country": "US", "from_zip": "94105", "body": "two pictures"} {
				if !reflect.DeepEqual(seen[k], v) {
					t.Errorf("ctx.message.%s = %#v, want %#v", k, seen[k], v)
				}
			}
			m := h.message("SMparams1")
			var details map[string]any
			if m == nil || json.Unmarshal(m.Details, &details) != nil {
				t.Fatalf("stored %+v", m)
			}
			if got := fmt.Sprint(details); got != "map[account_sid:AC123 from_city:SAN FRANCISCO from_country:US from_state:CA from_zip:94105 "+
				"media_types:[image/jpeg text/vcard] messaging_service_sid:MG456 segments:2]" {
				t.Errorf("stored details %s", got)
			}
			// A message that tells none of it stores none, and reads "".
			plain := h.form("SMparams2", "+15550003333", "+15550970", "plain")
			plain.Del("AccountSid")
			code, body = h.postForm(plain)
			if code != http.StatusOK || !strings.Contains(body, "SMparams2|||0|||||") {
				t.Fatalf("%d %s", code, body)
			}
			if m := h.message("SMparams2"); m == nil || m.Details != nil {
				t.Fatalf("stored %+v", m)
			}
		})
	}
}
