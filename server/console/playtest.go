package console

import (
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/vm"
)

// A playground session saved as a .flowtest (docs/testing.md): the
// flow, the clock, the sender and number, then one test whose steps are
// the events, each followed by the expectations of what it did (the
// replies, deliveries, forwards, tags, waiting and end, and for a call
// what the caller heard and who was rung). `flowc test` checks the flow
// still does it.

func (c *Console) downloadTest(w http.ResponseWriter, r *http.Request) {
	v, code := c.play(r.Context(), readPlayForm(r))
	if v.Prog == nil || code != http.StatusOK {
		msg := v.Error
		if msg == "" {
			msg = "Pick a flow or paste a draft first."
		}
		c.fail(w, r, http.StatusBadRequest, "No .flowtest: "+msg)
		return
	}
	name := v.Prog.Name
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.flowtest"`, safeFileName(name)))
	w.Write([]byte(flowtest(v, c.b.Now())))
}

// safeFileName keeps letters, digits, - and _ of a flow's name.
func safeFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
	if s == "" {
		return "playground"
	}
	return s
}

// flowtest writes the session as a .flowtest.
func flowtest(v playView, now time.Time) string {
	p := v.Prog
	var b strings.Builder
	fmt.Fprintf(&b, "# Played in the flowc console's playground on %s.\n", now.UTC().Format("2006-01-02 15:04 UTC"))
	file := path.Base(p.File)
	if file == "playground.flow" || file == "." || file == "" {
		file = p.Name + ".flow"
	}
	fmt.Fprintf(&b, "flow %s\n", file)
	fmt.Fprintf(&b, "at %s\nfrom %s\nto %s\n\n", v.Start.In(p.Location()).Format(time.RFC3339), v.Form.From, v.Form.To)
	fmt.Fprintf(&b, "test %s\n", quote("played in the console"))
	for _, pl := range v.Played {
		fmt.Fprintf(&b, "  %s\n", pl.Line)
		for _, e := range expectations(pl.acts) {
			fmt.Fprintf(&b, "  expect %s\n", e)
		}
	}
	return b.String()
}

// expectations are the expect lines of an event's actions.
func expectations(acts []vm.Action) []string {
	var out []string
	for _, a := range acts {
		switch a.Kind {
		case vm.ActReply:
			out = append(out, "reply "+quote(a.Text))
		case vm.ActDeliver:
			if plain(a.Target.Name) {
				out = append(out, "inbox "+a.Target.Kind+":"+a.Target.Name)
			}
		case vm.ActForward:
			if plain(a.Target.Name) {
				out = append(out, "forward "+a.Target.Kind+":"+a.Target.Name)
			}
		case vm.ActTag:
			out = append(out, "tag "+quote(a.Text))
		case vm.ActUntag:
			out = append(out, "untag "+quote(a.Text))
		case vm.ActEnd:
			out = append(out, "end")
		case vm.ActSay:
			out = append(out, "say "+quote(a.Text))
		case vm.ActGather:
			out = append(out, "gather "+quote(a.Text))
		case vm.ActPlay:
			out = append(out, "play "+quote(a.Text))
		case vm.ActDial:
			if v := a.Voice; v != nil && len(v.Members) > 0 {
				how := ""
				if v.InOrder {
					how = "in order "
				}
				out = append(out, "ring "+how+strings.Join(v.Members, ", "))
			}
		case vm.ActRecord:
			out = append(out, "voicemail")
		case vm.ActHangup:
			out = append(out, "hangup")
		case vm.ActText:
			out = append(out, "text "+quote(a.Text))
		}
	}
	// A waiting conversation: once, whatever asked for it.
	for _, a := range acts {
		if a.Kind == vm.ActWait {
			out = append(out, "wait")
			break
		}
	}
	return out
}

// plain: a target name written without quotes in a .flowtest.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r == '@' || r == '+' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}
