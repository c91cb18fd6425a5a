package check

import (
	"strings"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// Call flows: a file with `channel voice` handles the calls to its
// numbers, a file without it their texts. A number has at most one of
// each across the file set; the applets of one channel are errors in a
// flow of the other.

// Diagnostic codes of call flows.
const (
	CodeChannel    = "flow/channel"      // a bad channel header, or an applet of the other channel
	CodeNoCallFlow = "flow/no-call-flow" // a number with an SMS flow and no call flow
	CodeUnringable = "flow/unringable"   // a ring reaches a user with no phone or client
)

// unringable warns at a ring's target about the users it names whom the
// directory gives no way to ring.
func unringable(diags *diag.List, sp file.Span, d *directory.Directory, names ...string) {
	var none []string
	for _, n := range names {
		if u, ok := d.User(n); ok && !u.Ringable() {
			none = append(none, n)
		}
	}
	if len(none) > 0 {
		diags.Warnf(sp, CodeUnringable, "the directory has no phone or client for %s: a ring cannot reach them", strings.Join(none, ", ")).Hint =
			`give each user a "phone" ("+15550111") or a "client" ("client:alice", "sip:alice@example.com") in the directory`
	}
}

// IsVoice reports whether the file is a call flow.
func (i *Info) IsVoice() bool { return i.Channel == registry.Voice }

// channelHeader reads `channel voice` (or `channel sms`, the default).
func (c *checker) channelHeader(h *syntax.Header) {
	switch h.Name.Value {
	case registry.Voice, registry.SMS:
		c.info.Channel = h.Name.Value
		c.info.ChannelSpan = c.f.Span(h)
	default:
		d := c.diags.Errorf(c.f.Span(h.Name), CodeChannel, "unknown channel %q: a flow handles sms (texts, the default) or voice (calls)", h.Name.Value)
		d.Hint = "write `channel voice` for a call flow; a flow without a channel header handles texts"
		if s := Suggest(h.Name.Value, []string{registry.Voice, registry.SMS}); s != "" {
			DidYouMean(d, d.Span, h.Name.Value, s)
		}
	}
}

// channelFit reports an applet of the other channel at its name: `reply`
// in a call flow, `say` in an SMS flow; and `forward number:`, which
// connects a call, in an SMS flow.
func (c *checker) channelFit(cmd *syntax.Command, a *registry.Applet, b Bound) {
	voice := c.info.IsVoice()
	sp := c.f.Span(cmd.Name)
	switch {
	case a.Channel == registry.SMS && voice:
		d := c.diags.Errorf(sp, CodeChannel, "%s is for SMS flows; this is a call flow (channel voice)", a.Name)
		d.Hint = voiceInstead[a.Name]
	case a.Channel == registry.Voice && !voice:
		d := c.diags.Errorf(sp, CodeChannel, "%s is for call flows; this flow handles texts", a.Name)
		d.Hint = "add the header `channel voice` to make the file a call flow (a number has one SMS flow and one call flow, in two files)"
	case a.Name == "forward" && len(b.Positional) > 0 && b.Positional[0] != nil:
		kind := b.Positional[0].TargetKind()
		switch {
		case kind == "number" && !voice:
			c.diags.Errorf(c.f.Span(b.Positional[0]), CodeChannel, "forward number: connects a call; this flow handles texts").Hint =
				`forward a text with email:"…" or webhook:"…"`
		case kind == "webhook" && voice:
			c.diags.Errorf(c.f.Span(b.Positional[0]), CodeChannel, "forward webhook: hands over a text; this is a call flow").Hint =
				`connect the call with forward number:"+1…", or deliver a voicemail with forward email:"…"`
		}
	}
}

// voiceInstead says what a call flow writes for an SMS applet.
var voiceInstead = map[string]string{
	"reply": "say it to the caller with say \"…\", or text them with text \"…\"",
	"menu":  "a voice menu is gather \"Press 1 …\" < 1 -> … >",
	"ask":   "a voice menu is gather \"Press 1 …\" < 1 -> … >; a message is voicemail",
	"queue": "ring the team: ring team:NAME all (or in order)",
}

// channels checks what spans the file set: a number has at most one call
// flow and one SMS flow (an error at the second's number), and a number
// with an SMS flow and no call flow is a warning, once the set has any
// call flow (every number needs one to take calls; a set without any
// is an SMS-only deployment, and says nothing).
func channels(infos []*Info, all *diag.List) {
	type served struct {
		info *Info
		at   Number
	}
	byChannel := map[string]map[string]served{registry.SMS: {}, registry.Voice: {}}
	anyVoice := false
	for _, info := range infos {
		ch := registry.SMS
		if info.IsVoice() {
			ch, anyVoice = registry.Voice, true
		}
		for _, n := range info.Numbers {
			if prev, ok := byChannel[ch][n.Value]; ok && prev.info.Name != info.Name {
				by, what := "flow", "SMS flow"
				if ch == registry.Voice {
					by, what = "call flow", "call flow"
				}
				all.Errorf(n.Span, CodeNumber, "number %s is already served by %s %q (%s); a number has exactly one %s",
					n.Value, by, prev.info.Name, prev.at.Span, what)
				continue
			}
			byChannel[ch][n.Value] = served{info, n}
		}
	}
	if !anyVoice {
		return
	}
	for _, info := range infos {
		if info.IsVoice() {
			continue
		}
		for _, n := range info.Numbers {
			if _, ok := byChannel[registry.Voice][n.Value]; !ok {
				all.Warnf(n.Span, CodeNoCallFlow, "number %s has an SMS flow but no call flow: calls to it are not answered", n.Value).Hint =
					"add a file with `channel voice` and `numbers \"" + n.Value + "\"`"
			}
		}
	}
}
