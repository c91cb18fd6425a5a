package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// fakeCRM answers http steps the same way for the server and the
// simulator: the plan named by the request's last query value.
type fakeCRM struct{}

func (fakeCRM) DoHTTP(_ context.Context, req *vm.HTTPRequest) (*vm.HTTPResponse, error) {
	_, b, _ := strings.Cut(req.URL, "?b=")
	if b == "down" {
		return &vm.HTTPResponse{Status: 503}, nil
	}
	return &vm.HTTPResponse{Status: 200, Body: []byte(fmt.Sprintf(`{"plan": %q}`, b+"-plan"))}, nil
}

const effectsFlow = `numbers "+15550100"
timezone "UTC"
hosts "crm.example.com"
reply "We're closed." once per 2h
http "https://crm.example.com/c?b={{ body }}" as crm < on error -> reply "crm down" then end >
when body == "drop" < untag "vip" >
when body == "gold" < field "plan" "{{ crm.plan }}" >
when body == "clear" < field "plan" "" >
when body == "tag" < tag "vip" >
reply "tags={{ join(contact.tags, ',') }} plan={{ contact.fields.plan ?? '-' }} crm={{ crm.plan }}"
`

// TestSimulatorIsTheServerForEffects: the same script through vm/sim
// (flowc run, flowc test) and the server gives the same replies: the
// http step's response, the once-per-period reply, and what untag, tag
// and field leave for the next message.
func TestSimulatorIsTheServerForEffects(t *testing.T) {
	h := startFlow(t, effectsFlow, func(c *server.Config) { c.HTTP = fakeCRM{} })
	d, err := directory.Load("../examples/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	prog := h.program(filepathOfFlow(t, effectsFlow))
	env := &sim.Env{Clock: h.clock.Now(), Directory: d, HTTP: fakeCRM{}}
	c := &sim.Conversation{Prog: prog, Env: env, From: ann, To: "+15550100"}
	script := []struct {
		body string
		wait time.Duration
	}{
		{body: "hi"}, {body: "drop"}, {body: "hi"}, {body: "gold"}, {body: "hi"}, {body: "tag"},
		{body: "down"}, {body: "hi"}, {body: "clear"}, {wait: 3 * time.Hour}, {body: "hi"}, {body: "hi"},
	}
	var replies []string
	for i, s := range script {
		if s.wait > 0 {
			env.Clock = env.Clock.Add(s.wait)
			h.clock.Set(env.Clock)
			continue
		}
		if _, err := c.SendMessage(context.Background(), vm.Message{ID: fmt.Sprintf("SM%032d", i), Body: s.body, AccountSID: "AC0123"}); err != nil {
			t.Fatalf("step %d: simulator: %v", i, err)
		}
		want := c.Last.Replies
		f := h.form(fmt.Sprintf("SM%032d", i), ann, "+15550100", s.body)
		code, got := h.post(f, h.sign("/webhooks/twilio/sms", f))
		if code != 200 || got != server.TwiML(want) {
			t.Errorf("step %d (%q): the server answered %d %s, the simulator %q", i, s.body, code, got, want)
		}
		replies = append(replies, strings.Join(want, " / "))
	}
	// What the script set out to show, in the simulator's words.
	wantReplies := []string{
		"We're closed. / tags=vip plan=- crm=hi-plan",
		"tags=vip plan=- crm=drop-plan", // removed for the next message
		"tags= plan=- crm=hi-plan",
		"tags= plan=- crm=gold-plan",
		"tags= plan=gold-plan crm=hi-plan",
		"tags= plan=gold-plan crm=tag-plan",
		"crm down",
		"tags=vip plan=gold-plan crm=hi-plan",
		"tags=vip plan=gold-plan crm=clear-plan",
		"We're closed. / tags=vip plan=- crm=hi-plan", // 3h on: the period is over
		"tags=vip plan=- crm=hi-plan",
	}
	if strings.Join(replies, "\n") != strings.Join(wantReplies, "\n") {
		t.Errorf("replies:\n%s\nwant:\n%s", strings.Join(replies, "\n"), strings.Join(wantReplies, "\n"))
	}
}

// filepathOfFlow writes flow to f.flow in a directory of its own.
func filepathOfFlow(t *testing.T, flow string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.flow"), []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
