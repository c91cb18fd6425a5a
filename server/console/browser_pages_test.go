package console_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/flowc-dev/flowc/vm/scenario"
)

// Browser tests of the admin pages: numbers, playground, traces and
// queues (screenshots numbers*.png, playground*.png, traces.png,
// queues.png).

// TestBrowserNumbersAssign: the directory's number without a flow is
// red; the admin picks a flow for it and assigns it; the row then links
// the flow, and the number's texts are routed (the admin API says so).
func TestBrowserNumbersAssign(t *testing.T) {
	ctx := tab(t)
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	e.deploy(flowV1)
	signIn(t, ctx, e.ts.URL, "/ui/numbers", adminToken, "")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#numbers")))
	if n := eval[int](t, ctx, `document.querySelectorAll("#n15550800 td.missing").length`); n != 2 {
		t.Errorf("+15550800 has %d red cells, want 2 (no SMS flow, no call flow)", n)
	}
	if c := eval[string](t, ctx, `getComputedStyle(document.querySelector("#n15550800 td.missing .missing-text")).color`); !strings.Contains(c, "rgb(") || strings.Contains(c, "rgb(0, 0, 0)") {
		t.Errorf("the missing flow is written in %s, not red", c)
	}
	shot(t, ctx, "numbers")
	// By keyboard: focus the select, choose the flow, Tab to Assign, Enter.
	do(t, ctx, chromedp.Focus(chromedp.CSS("#flow-15550800")), chromedp.SetValue(chromedp.CSS("#flow-15550800"), "gaps"),
		chromedp.KeyEvent("\t"), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if got := eval[string](t, ctx, `document.getElementById("flash").textContent`); got != "+15550800's texts now go to gaps." {
		t.Errorf("flash %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#n15550800 td[data-channel=sms] a[href="/ui/flows/gaps"]').length`); n != 1 {
		t.Error("the row does not link the assigned SMS flow")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#n15550800 td.missing").length`); n != 1 {
		t.Errorf("after assigning, %d red cells, want 1 (the call flow)", n)
	}
	if got := e.numbers()["+15550800"].SMSFlow; got != "gaps" {
		t.Errorf("the API lists the SMS flow %q", got)
	}
	shot(t, ctx, "numbers-assigned")
	do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.ts.URL+"/ui/numbers"), chromedp.WaitVisible(chromedp.CSS("#numbers")))
	if w := eval[int](t, ctx, "document.documentElement.scrollWidth"); w > 390 {
		t.Errorf("at 390px the numbers page is %dpx wide", w)
	}
	// The table fits its box: the flow picker and Assign are not cut off
	// at the right edge (behind a scroll that nothing shows).
	if over := eval[int](t, ctx, `(b => b.scrollWidth - b.clientWidth)(document.querySelector("#numbers").closest(".scroll"))`); over > 0 {
		t.Errorf("at 390px the numbers table is %dpx wider than its box: the flow picker is cut off", over)
	}
	shot(t, ctx, "numbers-phone")
}

// TestBrowserPlayground: the admin picks the flow, texts "hi" and "1" as
// the contact (typing, Enter), sees the menu, the sales inbox and the
// trace marked on the source and on the drawing, goes back to event 1,
// and saves the session as a .flowtest, which parses and passes.
func TestBrowserPlayground(t *testing.T) {
	ctx := tab(t)
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	e.deploy(flowV1)
	signIn(t, ctx, e.ts.URL, "/ui/playground", adminToken, "")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#message")), chromedp.SetValue(chromedp.CSS("#flow"), "gaps"),
		chromedp.SetValue(chromedp.CSS("#at"), "2026-11-23T10:00"),
		chromedp.SendKeys(chromedp.CSS("#message"), "hi\r"), chromedp.WaitVisible(chromedp.CSS("#event-1")))
	if got := eval[string](t, ctx, `document.querySelector("#event-1 .acts").textContent`); !strings.Contains(got, `reply "Reply 1 for sales, 2 for news"`) {
		t.Errorf("event 1 did %q", got)
	}
	if got := eval[string](t, ctx, "document.activeElement.id"); got != "message" && got != "" {
		t.Logf("focus after sending: %q", got)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#message"), "1\r"), chromedp.WaitVisible(chromedp.CSS("#event-2")))
	if got := eval[string](t, ctx, `document.querySelector("#event-2").textContent`); !strings.Contains(got, "inbox team:sales") {
		t.Errorf("event 2: %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#source .line.hit").length`); n < 2 {
		t.Errorf("%d source lines marked as run by event 2, want the menu's and its choice's", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#graph svg g.node.hit").length`); n == 0 {
		t.Error("no box of the drawing is highlighted")
	}
	shot(t, ctx, "playground")
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Show the trace of event 1"]`)), chromedp.WaitVisible(chromedp.CSS("#event-1.shown")))
	if got := eval[string](t, ctx, `document.getElementById("ptrace-h").textContent`); !strings.Contains(got, `event 1`) {
		t.Errorf("trace heading %q", got)
	}
	// Following a step's file:line moves the focus to the line.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#play-trace a[href="#L8"]`)))
	waitFor(t, ctx, `document.activeElement.id === "L8"`)

	test, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/ui/playground/flowtest", {method: "POST", body: new URLSearchParams(new FormData(document.getElementById("play")))}).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prog := compile(t, dir, flowV1)
	path := filepath.Join(dir, "gaps.flowtest")
	if err := os.WriteFile(path, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := scenario.ParseFile(path)
	if err != nil {
		t.Fatalf("the downloaded .flowtest does not parse: %v\n%s", err, test)
	}
	if r := scenario.Run(ctx, f.Tests[0], prog); len(r.Failures) > 0 || !strings.Contains(test, "expect inbox team:sales") {
		t.Errorf("the downloaded .flowtest fails: %+v\n%s", r.Failures, test)
	}
	do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#message")))
	if w := eval[int](t, ctx, "document.documentElement.scrollWidth"); w > 390 {
		t.Errorf("at 390px the playground is %dpx wide", w)
	}
	shot(t, ctx, "playground-phone")
}

// TestBrowserTraceBySID: a message's SID typed in the search opens its
// trace; a step's file:line opens the flow's version at that line.
func TestBrowserTraceBySID(t *testing.T) {
	ctx := tab(t)
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	v1 := e.deploy(flowV1)
	if code, body := e.api("POST", "/v1/messages", map[string]string{"sid": "SMbrowser1", "from": "+15557654321", "to": "+15550900", "body": "hi"}); code != http.StatusOK {
		t.Fatalf("message: %d %s", code, body)
	}
	signIn(t, ctx, e.ts.URL, "/ui/traces", adminToken, "")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#sid")), chromedp.SendKeys(chromedp.CSS("#sid"), "SMbrowser1\r"), chromedp.WaitVisible(chromedp.CSS("#trace")))
	if got := eval[string](t, ctx, `document.getElementById("outcome").textContent`); got == "" {
		t.Error("no outcome shown")
	}
	href := eval[string](t, ctx, `document.querySelector("#trace .trace a.loc[href$='#L8']").getAttribute("href")`)
	if href != "/ui/flows/gaps?version="+v1+"#L8" {
		t.Errorf("the menu's step links %q", href)
	}
	shot(t, ctx, "traces")
	do(t, ctx, chromedp.Click(chromedp.CSS(`#trace .trace a.loc[href$='#L8']`)), chromedp.WaitVisible(chromedp.CSS("#source")))
	waitFor(t, ctx, `document.activeElement.id === "L8"`)

	e.queueOne()
	do(t, ctx, chromedp.Navigate(e.ts.URL+"/ui/queues"), chromedp.WaitVisible(chromedp.CSS("#queues")))
	if got := eval[string](t, ctx, `document.querySelector("#q-support td.waiting").textContent`); got != "1" {
		t.Errorf("support queue waiting %q, want 1", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#queues tbody tr").length`); n < 2 {
		t.Errorf("%d queues listed", n)
	}
	shot(t, ctx, "queues")
}
