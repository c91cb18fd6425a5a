package vm

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/flowc-dev/flowc/runtime"
)

// run calls an applet. It returns the next pc, or ok=false when the
// conversation must end (an error with no `on error` branch).
func (m *machine) run(pc, arg int) (next int, ok bool) {
	r := &m.p.Runs[arg]
	a := &m.p.Applets[r.Applet]
	args := make([]any, len(r.Args))
	for i, e := range r.Args {
		v, err := runtime.Eval(m.p.Exprs[e].compiled, m.renv)
		if err != nil {
			m.fail(pc, fmt.Errorf("applet %s argument %d: %v", a.Name, i+1, err))
			return m.appletFailed(r)
		}
		args[i] = v
	}
	if m.env == nil {
		m.fail(pc, fmt.Errorf("applet %s: no applet runner", a.Name))
		return m.appletFailed(r)
	}
	in := AppletInput{
		Message: map[string]any{"body": m.renv.Body, "from": m.renv.From, "to": m.renv.To,
			"keyword": m.renv.Keyword, "media": toAnySlice(m.renv.Media)},
		Contact: map[string]any{"known": m.renv.Contact.Known, "name": deref(m.renv.Contact.Name),
			"owner": deref(m.renv.Contact.Owner), "tags": toAnySlice(m.renv.Contact.Tags)},
		Vars: m.st.Vars,
		Args: args,
		Now:  m.now,
		Seed: seed(m.renv.From, m.renv.Body, m.now.UnixNano()),
	}
	v, err := m.env.RunApplet(m.ctx, a, in)
	if err != nil {
		m.fail(pc, fmt.Errorf("applet %s (%s): %v", a.Name, a.Path, err))
		return m.appletFailed(r)
	}
	m.trace(pc, fmt.Sprintf("applet %s returned %s", a.Name, formatValue(v)))
	if obj, isObj := v.(map[string]any); isObj && m.decide(pc, obj) {
		return pc + 1, true
	}
	if r.As != "" {
		m.setVar(pc, r.As, v)
	}
	return pc + 1, true
}

func (m *machine) appletFailed(r *RunCall) (int, bool) {
	if r.ErrorPC >= 0 {
		return r.ErrorPC, true
	}
	return 0, false
}

// decide turns an applet's routing decision ({reply, inbox, forward,
// tag}) into actions. It reports whether obj was a decision.
func (m *machine) decide(pc int, obj map[string]any) bool {
	decided := false
	if s, ok := obj["reply"].(string); ok {
		m.emit(Action{Kind: ActReply, Text: s, PC: pc})
		decided = true
	}
	for _, key := range []string{"inbox", "forward"} {
		s, ok := obj[key].(string)
		if !ok {
			continue
		}
		kind, name, found := strings.Cut(s, ":")
		valid := found && name != "" && (key == "inbox" && (kind == "user" || kind == "team") ||
			key == "forward" && (kind == "email" || kind == "webhook"))
		if !valid {
			m.fail(pc, fmt.Errorf("applet decision %s: %q is not a valid target", key, s))
			continue
		}
		act := ActDeliver
		if key == "forward" {
			act = ActForward
		}
		m.emit(Action{Kind: act, Target: Target{Kind: kind, Name: name}, PC: pc})
		decided = true
	}
	if s, ok := obj["tag"].(string); ok {
		m.emit(Action{Kind: ActTag, Text: s, PC: pc})
		decided = true
	}
	return decided
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func toAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// seed makes an applet's Math.random deterministic for the same inputs.
func seed(from, body string, at int64) int64 {
	h := fnv.New64a()
	h.Write([]byte(from))
	h.Write([]byte{0})
	h.Write([]byte(body))
	return int64(h.Sum64()) ^ at
}
