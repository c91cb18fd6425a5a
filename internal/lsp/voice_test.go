package lsp

import (
	"testing"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/registry"
)

// TestCompleteOffersTheChannelsApplets: a call flow is offered say and
// ring, not reply; an SMS flow the reverse; both get inbox.
func TestCompleteOffersTheChannelsApplets(t *testing.T) {
	for _, voice := range []bool{false, true} {
		info := &check.Info{}
		if voice {
			info.Channel = registry.Voice
		}
		got := map[string]bool{}
		for _, it := range complete(&fileState{idx: &Index{}, info: info}, "") {
			got[it.Label] = true
		}
		if got["say"] != voice || got["ring"] != voice || got["reply"] == voice || got["menu"] == voice || !got["inbox"] {
			t.Errorf("voice %v: offered %v", voice, got)
		}
	}
}
