package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser tests: headless Chromium (Debian's chromium package) driven
// with chromedp. One browser serves the whole test binary; each test
// gets a tab in a browser context of its own (its own cookies). Without
// chromium the tests skip, saying so, unless FLOWC_TEST_REQUIRE_CHROMIUM=1
// (CI), where they fail. Screenshots go to $FLOWC_SCREENSHOTS, default
// testdata-out/screenshots at the repository's root (docs/console.md).

const requireChromium = "FLOWC_TEST_REQUIRE_CHROMIUM"

var chrome struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	skip   string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chrome.cancel != nil {
		chrome.cancel() // ends chromium
	}
	os.Exit(code)
}

// chromium is the browser's path: $FLOWC_CHROMIUM, else chromium on PATH.
func chromium() string {
	if p := os.Getenv("FLOWC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser() {
	path := chromium()
	if path == "" {
		chrome.skip = "chromium is not installed (apt-get install chromium; or set FLOWC_CHROMIUM)"
		return
	}
	dir, err := os.MkdirTemp("", "flowc-chromium-")
	if err != nil {
		chrome.skip = err.Error()
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.UserDataDir(dir), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("headless", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	// The first action starts the browser, which lives as long as the
	// context it ran with: ctx itself, not one with a deadline.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		os.RemoveAll(dir)
		chrome.skip = fmt.Sprintf("chromium %s does not start: %v", path, err)
		return
	}
	chrome.ctx = ctx
	chrome.cancel = func() { cancelCtx(); cancelAlloc(); os.RemoveAll(dir) }
}

// tab is a new tab with its own cookies, bounded to a minute.
func tab(t *testing.T) context.Context {
	t.Helper()
	chrome.once.Do(startBrowser)
	if chrome.skip != "" {
		if os.Getenv(requireChromium) == "1" {
			t.Fatalf("%s=1 but %s", requireChromium, chrome.skip)
		}
		t.Skip(chrome.skip)
	}
	ctx, cancel := chromedp.NewContext(chrome.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

// shot saves a screenshot of the whole page as NAME.png.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FLOWC_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "testdata-out", "screenshots")
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// signIn opens path, is sent to the sign-in form, types the token and
// presses Enter (the keyboard, no mouse), and lands back on path.
func signIn(t *testing.T, ctx context.Context, base, path, token, screenshot string) {
	t.Helper()
	do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("#token")))
	if got := eval[string](t, ctx, "document.activeElement.id"); got != "token" {
		t.Errorf("the sign-in form does not focus the token field (focus: %q)", got)
	}
	if screenshot != "" {
		shot(t, ctx, screenshot)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#token"), token+"\r"))
	// The sign-in page's own h1 is visible until the browser has the next
	// page: wait for the form to be gone (a refused sign-in shows it again).
	waitFor(t, ctx, `!document.querySelector("form.login") && !!document.querySelector("main h1")`)
}

// TestBrowserAdminFlow: an admin signs in, opens the flows, a flow's
// older version with its graph, where the dead end is marked and links
// to its source line, and rolls back to it; the diff and the page at
// phone width too. Screenshots of each.
func TestBrowserAdminFlow(t *testing.T) {
	ctx := tab(t)
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	v1 := e.deploy(flowV1)
	e.clock.Add(time.Hour)
	v2 := e.deploy(flowV2)
	if code, body := e.api("POST", "/v1/messages", map[string]string{"sid": "SM1", "from": "+15557654321", "to": "+15550900", "body": "hi"}); code != http.StatusOK {
		t.Fatalf("message: %d %s", code, body)
	}

	signIn(t, ctx, e.ts.URL, "/ui/flows", adminToken, "login")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/flows/gaps"]`)))
	if loc := eval[string](t, ctx, "location.pathname"); loc != "/ui/flows" {
		t.Errorf("after sign-in: %s, want /ui/flows", loc)
	}
	shot(t, ctx, "flows")

	do(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/ui/flows/gaps"]`)), chromedp.WaitVisible(chromedp.CSS("#graph svg")))
	if n := eval[int](t, ctx, `document.querySelectorAll("#graph svg g.node.dead-end").length`); n != 0 {
		t.Errorf("the active version (v2) has %d dead ends drawn, want 0", n)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`a[aria-label="View version `+v1[:12]+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#graph svg g.node.dead-end")))
	if got := eval[string](t, ctx, `document.getElementById("shown-version").textContent`); got != v1[:12] {
		t.Errorf("shown version %q, want %s", got, v1[:12])
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#graph svg g.node.missing").length`); n != 1 {
		t.Errorf("%d missing branches drawn, want 1 (the menu's else)", n)
	}
	// Red, as the legend says.
	if fill := eval[string](t, ctx, `getComputedStyle(document.querySelector("#graph svg g.node.dead-end polygon")).stroke`); !strings.Contains(fill, "255, 0, 0") {
		t.Errorf("the dead end is drawn in %s, not red", fill)
	}
	shot(t, ctx, "flow")
	// The dead end links to the line it follows; following the link
	// moves the focus there.
	href := eval[string](t, ctx, `document.querySelector("#graph svg g.node.dead-end a").getAttribute("xlink:href")`)
	if href != "#L10" {
		t.Errorf("the dead end links to %q, want #L10 (the tag on line 10)", href)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`#graph svg g.node.dead-end a`)))
	waitFor(t, ctx, `document.activeElement.id === "L10"`)

	do(t, ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Roll back to version `+v1[:12]+`"]`)), chromedp.WaitVisible(chromedp.CSS("#flash")))
	if got := eval[string](t, ctx, `document.getElementById("flash").textContent`); !strings.Contains(got, "Rolled back: version "+v1[:12]+" is active") {
		t.Errorf("flash %q", got)
	}
	if got := e.activeVersion(); got != v1 {
		t.Errorf("after the rollback the active version is %s, want %s", got, v1)
	}
	shot(t, ctx, "rollback")

	// The diff from the (now active) v1 to v2, and the replay of the
	// recent message through both, started from its form by keyboard.
	do(t, ctx, chromedp.Navigate(e.ts.URL+"/ui/flows/gaps/diff?a="+v1+"&b="+v2), chromedp.WaitVisible(chromedp.CSS("#diff-summary")),
		chromedp.SendKeys(chromedp.CSS("#replay-days"), "\r"), chromedp.WaitVisible(chromedp.CSS("#replay-summary")))
	if got := eval[string](t, ctx, `document.getElementById("replay-summary").textContent`); !strings.Contains(got, "1 routed differently") {
		t.Errorf("replay: %q", got)
	}
	shot(t, ctx, "diff")

	// Phone width: nothing wider than the screen but the graph and the
	// source, which scroll inside their boxes.
	do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.ts.URL+"/ui/flows/gaps"), chromedp.WaitVisible(chromedp.CSS("#graph svg")))
	if w := eval[int](t, ctx, "document.documentElement.scrollWidth"); w > 390 {
		t.Errorf("at 390px the page is %dpx wide", w)
	}
	shot(t, ctx, "flow-phone")
}

// waitFor polls a JavaScript condition until it holds (or the tab's
// deadline).
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never held: %v", cond, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestBrowserAgentGets403OnAdminPages: an agent signed in with their own
// token gets 403 from the flows pages, and their navigation has no link
// to them.
func TestBrowserAgentGets403OnAdminPages(t *testing.T) {
	ctx := tab(t)
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	e.deploy(flowV1)
	signIn(t, ctx, e.ts.URL, "/ui/home", e.userToken("bob"), "")
	if h := eval[string](t, ctx, `document.querySelector("main h1").textContent`); h != "Signed in as bob" {
		t.Errorf("agent home: %q", h)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('nav a[href="/ui/flows"]').length`); n != 0 {
		t.Errorf("the agent's navigation links the flows page")
	}
	shot(t, ctx, "agent-home")
	for _, p := range []string{"/ui/flows", "/ui/flows/gaps"} {
		res, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.ts.URL+p))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusForbidden {
			t.Errorf("agent %s: %d, want 403", p, res.Status)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("svg, #source").length`); n != 0 {
		t.Errorf("the 403 page shows the flow")
	}
	shot(t, ctx, "agent-403")
}

// TestBrowserFormWithoutCSRFIsRefused: a rollback form whose CSRF field
// was taken out is refused with 403, and nothing is rolled back.
func TestBrowserFormWithoutCSRFIsRefused(t *testing.T) {
	ctx := tab(t)
	e := newEnv(t, stores[0].open(t), &clock{t: start}, nil)
	v1 := e.deploy(flowV1)
	v2 := e.deploy(flowV2)
	signIn(t, ctx, e.ts.URL, "/ui/flows/gaps", adminToken, "")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#versions")))
	if n := eval[int](t, ctx, `document.querySelectorAll("form input[name=csrf]").forEach(i => i.remove()), document.querySelectorAll("form input[name=csrf]").length`); n != 0 {
		t.Fatal("csrf fields left")
	}
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Roll back to version `+v1[:12]+`"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusForbidden {
		t.Errorf("rollback without csrf: %d, want 403", res.Status)
	}
	if got := e.activeVersion(); got != v2 {
		t.Errorf("the refused rollback changed the active version to %s", got)
	}
	shot(t, ctx, "csrf-403")
}
