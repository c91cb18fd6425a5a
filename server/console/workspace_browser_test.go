package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAgentWorkspace: bob, signed in with his own token, accepts
// the queued conversation from his queue by keyboard, replies (the reply
// reaches the fake Twilio), sees the contact's next text arrive in the
// open thread without a reload (and what he was typing is kept), adds a
// note and transfers the conversation to carol, whose open queue shows
// the offer live; carol accepts and finishes it. Screenshots of each,
// and the thread at phone width.
func TestBrowserAgentWorkspace(t *testing.T) {
	ctx := tab(t)
	e, ft := wsChannelEnv(t, stores[0].open(t), &clock{t: wsOpen})
	e.deployChannel()
	e.contactTexts("hi")
	e.contactTexts("billing", "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages/MM1/Media/ME1")
	id := e.queuedID()
	e.clock.Add(2*time.Minute + 5*time.Second)

	signIn(t, ctx, e.ts.URL, "/ui/workspace", e.userToken("bob"), "")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#row-`+id)))
	if loc := eval[string](t, ctx, "location.pathname"); loc != "/ui/workspace" {
		t.Errorf("after sign-in: %s, want /ui/workspace", loc)
	}
	row := eval[string](t, ctx, `document.getElementById("row-`+id+`").textContent`)
	for _, want := range []string{wsContact, "support", "offered", "2m 05s"} {
		if !strings.Contains(row, want) {
			t.Errorf("bob's queue row %q lacks %q", row, want)
		}
	}
	shot(t, ctx, "workspace")

	// Accept from the queue by keyboard: the button is focused and Enter
	// pressed.
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`button[aria-label="Accept the conversation with `+wsContact+`"]`), "\r"))
	waitFor(t, ctx, `document.getElementById("flash") !== null && document.getElementById("flash").textContent.includes("Accepted")`)
	if got := eval[string](t, ctx, `document.getElementById("conv-status").textContent`); got != "open (bob)" {
		t.Errorf("after accepting: %q", got)
	}
	if href := eval[string](t, ctx, `document.querySelector("#ws-messages .media a").href`); !strings.HasSuffix(href, "/Media/ME1") {
		t.Errorf("the attachment links to %q", href)
	}

	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#reply-text"), "Hi, Bob here. Let me look at your invoice."), chromedp.Click(chromedp.CSS("#send-reply")))
	waitFor(t, ctx, `document.getElementById("flash") !== null && document.getElementById("flash").textContent.includes("Reply sent")`)
	if _, err := e.srv.SendOutbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sent []string
	for _, f := range ft.sent() {
		if f.Get("To") == wsContact {
			sent = append(sent, f.Get("Body"))
		}
	}
	if len(sent) == 0 || sent[len(sent)-1] != "Hi, Bob here. Let me look at your invoice." {
		t.Errorf("the fake Twilio got %q", sent)
	}

	if got := eval[string](t, ctx, `document.querySelector("#ws-messages .msg.out").textContent`); !strings.Contains(got, "from bob") || !strings.Contains(got, "Let me look at your invoice.") {
		t.Errorf("the reply in the thread: %q", got)
	}
	// The contact texts in while the thread is open: it appears without
	// a reload, and the note being typed stays.
	waitFor(t, ctx, `document.getElementById("workspace").dataset.connected === "true"`)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#note-text"), "Invoice 1234"))
	eval[bool](t, ctx, `window.notReloaded = true`)
	e.clock.Add(40 * time.Second)
	e.contactTexts("my invoice is wrong, it says $80")
	waitFor(t, ctx, `document.getElementById("ws-messages").textContent.includes("my invoice is wrong, it says $80")`)
	if !eval[bool](t, ctx, `window.notReloaded === true`) {
		t.Error("the page reloaded")
	}
	if v := eval[string](t, ctx, `document.getElementById("note-text").value`); v != "Invoice 1234" {
		t.Errorf("the live update lost the typed note: %q", v)
	}
	shot(t, ctx, "workspace-thread")

	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#note-text"), ", charged twice"), chromedp.Click(chromedp.CSS("#add-note")))
	waitFor(t, ctx, `document.getElementById("ws-notes").textContent.includes("Invoice 1234, charged twice")`)

	// Carol's queue is open in her own browser while bob transfers to her.
	carol := tab(t)
	signIn(t, carol, e.ts.URL, "/ui/workspace", e.userToken("carol"), "")
	do(t, carol, chromedp.WaitVisible(chromedp.CSS("#ws-empty")))
	waitFor(t, carol, `document.getElementById("workspace").dataset.connected === "true"`)

	do(t, ctx, chromedp.SetValue(chromedp.CSS("#transfer-to"), "user:carol"), chromedp.Click(chromedp.CSS("#transfer")))
	waitFor(t, ctx, `document.getElementById("flash") !== null && document.getElementById("flash").textContent.includes("Transferred")`)
	if got := eval[string](t, ctx, `document.getElementById("conv-status").textContent`); got != "transferring (from bob)" {
		t.Errorf("after the transfer bob sees %q", got)
	}

	waitFor(t, carol, `document.getElementById("row-`+id+`") !== null`)
	shot(t, carol, "workspace-transferred")
	do(t, carol, chromedp.Click(chromedp.CSS(`#row-`+id+` a`)), chromedp.WaitVisible(chromedp.CSS("#accept")))
	if notes := eval[string](t, carol, `document.getElementById("ws-notes").textContent`); !strings.Contains(notes, "bob") || !strings.Contains(notes, "charged twice") {
		t.Errorf("carol does not see bob's note: %q", notes)
	}
	do(t, carol, chromedp.Click(chromedp.CSS("#accept")))
	waitFor(t, carol, `document.getElementById("conv-status") !== null && document.getElementById("conv-status").textContent === "open (carol)"`)

	// Bob's open thread says it is no longer his, without a reload.
	waitFor(t, ctx, `document.getElementById("ws-live").textContent.includes("not yours")`)

	// Phone width, before carol finishes.
	do(t, carol, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#finish")))
	if w := eval[int](t, carol, "document.documentElement.scrollWidth"); w > 390 {
		t.Errorf("at 390px the thread is %dpx wide", w)
	}
	shot(t, carol, "workspace-phone")
	do(t, carol, chromedp.EmulateViewport(1280, 900), chromedp.Click(chromedp.CSS("#finish")))
	waitFor(t, carol, `location.pathname === "/ui/workspace" && document.getElementById("flash") !== null && document.getElementById("flash").textContent.includes("Finished")`)
	if n := eval[int](t, carol, `document.querySelectorAll("#row-`+id+`").length`); n != 0 {
		t.Error("the finished conversation is still in carol's queue")
	}
	do(t, carol, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#toggle-availability")))
	if w := eval[int](t, carol, "document.documentElement.scrollWidth"); w > 390 {
		t.Errorf("at 390px the queue is %dpx wide", w)
	}
	// The availability toggle by keyboard.
	do(t, carol, chromedp.SendKeys(chromedp.CSS("#toggle-availability"), "\r"))
	waitFor(t, carol, `document.getElementById("availability") !== null && document.getElementById("availability").textContent.includes("unavailable")`)
}

// TestBrowserQueuesPageLive: the admin's queues page follows the queues
// without a reload: a contact whose conversation enters the support
// queue shows as waiting there within the poll.
func TestBrowserQueuesPageLive(t *testing.T) {
	ctx := tab(t)
	e, _ := wsChannelEnv(t, stores[0].open(t), &clock{t: wsOpen})
	e.deployChannel()
	signIn(t, ctx, e.ts.URL, "/ui/queues", adminToken, "")
	waitFor(t, ctx, `document.getElementById("queues-live").dataset.connected === "true"`)
	if got := eval[string](t, ctx, `document.querySelector("#q-support td").textContent.trim()`); got != "0" {
		t.Fatalf("support waiting before any text: %q", got)
	}
	eval[bool](t, ctx, `window.notReloaded = true`)
	e.contactTexts("hi")
	e.contactTexts("billing")
	waitFor(t, ctx, `document.querySelector("#q-support td").textContent.trim() === "1"`)
	if !eval[bool](t, ctx, `window.notReloaded === true`) {
		t.Error("the page was reloaded, not updated in place")
	}
	if got := eval[string](t, ctx, `document.getElementById("ws-live").textContent`); !strings.Contains(got, "Updated at") {
		t.Errorf("the status line says %q", got)
	}
	shot(t, ctx, "queues-live")
	// Leave the page, closing its stream: the server's Close waits for
	// the request in flight.
	do(t, ctx, chromedp.Navigate("about:blank"))
}
