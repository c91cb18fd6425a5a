package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

// Several `flowc serve` replicas on one PostgreSQL database (issue #7).
// These tests need FLOWC_TEST_DATABASE_URL and skip without it.

// replicaFlows are the flows the replicas serve: a counter, whose every
// message is one inbox item and whose reply is the number of messages
// the conversation has had so far (so order shows in the replies), and a
// menu that times out after a second.
var replicaFlows = map[string]string{
	"count.flow": `flow count
numbers "+15550920"
timezone "UTC"

set n = 0
goto count

section count <
  set n = n + 1
  inbox team:front-desk
  ask "{{n}}" as x < timeout 1h -> end >
  goto count
>
`,
	"menu.flow": `flow menu
numbers "+15550910"
timezone "UTC"

menu "Reply 1" <
  1          -> reply "one" then end
  timeout 1s -> reply "No answer." then end
  else       -> end
>
`,
}

const (
	countNumber = "+15550920"
	menuNumber  = "+15550910"
)

func replicaDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range replicaFlows {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dirJSON, err := os.ReadFile("../../examples/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "directory.json"), dirJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeTwilio records the messages it accepts by idempotency token.
type fakeTwilio struct {
	delay    time.Duration
	mu       sync.Mutex
	accepted map[string][2]string // token → {To, Body}
	repeats  int
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(f.delay)
	r.ParseForm()
	tok := r.Header.Get("I-Twilio-Idempotency-Token")
	f.mu.Lock()
	if _, seen := f.accepted[tok]; seen {
		f.repeats++
	}
	f.accepted[tok] = [2]string{r.PostForm.Get("To"), r.PostForm.Get("Body")}
	f.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	fmt.Fprint(w, `{"sid":"SMx"}`)
}

// perContact returns, for each recipient, the bodies accepted for it.
func (f *fakeTwilio) perContact() (map[string][]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string][]string{}
	for _, a := range f.accepted {
		m[a[0]] = append(m[a[0]], a[1])
	}
	return m, len(f.accepted)
}

// waitFor polls until n messages were accepted or the deadline passes.
func (f *fakeTwilio) waitFor(n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		f.mu.Lock()
		got := len(f.accepted)
		f.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// replica is one running `flowc serve`.
type replica struct {
	addr string
	cmd  *exec.Cmd
	logs string // a file: a pipe would keep Wait waiting for the applet workers a killed replica leaves behind
}

// startReplicas starts one `flowc serve` per provider URL, all on the
// database at dbURL, together, and waits until all are ready. They are
// stopped when the test ends (before its schema is dropped).
func startReplicas(t *testing.T, dir, dbURL string, providers ...string) []*replica {
	t.Helper()
	bin, err := buildFlowc()
	if err != nil {
		t.Fatal(err)
	}
	var rs []*replica
	addrs := freeAddrs(t, len(providers))
	for i, prov := range providers {
		r := &replica{addr: addrs[i], logs: filepath.Join(t.TempDir(), "serve.log")}
		logs, err := os.Create(r.logs)
		if err != nil {
			t.Fatal(err)
		}
		r.cmd = exec.Command(bin, "serve", dir, "--addr", r.addr, "--tick", "100ms")
		// No pacing: these tests send dozens of replies from one number
		// to count them after a kill, and the replicas now share one
		// pace per number (a minute for 60 replies at the default);
		// server's TestOutboundPacedAcrossReplicas tests the pacing.
		r.cmd.Env = append(os.Environ(), "FLOWC_TWILIO_AUTH_TOKEN=", "DATABASE_URL="+dbURL,
			"FLOWC_TWILIO_API_URL="+prov, "FLOWC_TWILIO_ACCOUNT_SID=AC123", "FLOWC_SMS_PACE=0")
		r.cmd.Stdout, r.cmd.Stderr = logs, logs
		err = r.cmd.Start()
		logs.Close()
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	t.Cleanup(func() {
		for i, r := range rs {
			if r.cmd.ProcessState == nil {
				r.cmd.Process.Signal(syscall.SIGTERM)
				r.cmd.Wait()
			}
			if t.Failed() {
				b, _ := os.ReadFile(r.logs)
				t.Logf("replica %d (%s) logs:\n%s", i, r.addr, tail(string(b), 3000))
			}
		}
	})
	for _, r := range rs {
		waitReady(t, r.addr)
	}
	return rs
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func replies(t *testing.T, s sent) []string {
	var a struct{ Replies []string }
	if err := json.Unmarshal([]byte(s.body), &a); err != nil {
		t.Errorf("answer %q: %v", s.body, err)
	}
	return a.Replies
}

// retried sends the same message to two replicas at once, as a provider
// retrying a webhook that reached another replica would.
func retried(a, b, sid, from, to, body string) (sent, sent, error, error) {
	var s1, s2 sent
	var e1, e2 error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s1, e1 = postJSONTo(a, sid, from, to, body) }()
	go func() { defer wg.Done(); s2, e2 = postJSONTo(b, sid, from, to, body) }()
	wg.Wait()
	return s1, s2, e1, e2
}

// TestReplicasShareOnePostgres: three replicas on one database, driven
// concurrently: conversations spread round-robin across them, menus
// timing out, and the same MessageSid sent to two replicas at once.
// Nothing is lost, nothing is done twice, a retry gets the identical
// answer and each conversation keeps its order.
func TestReplicasShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flowc binary")
	}
	dbURL, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	prov := &fakeTwilio{accepted: map[string][2]string{}}
	hs := httptest.NewServer(prov)
	defer hs.Close()
	rs := startReplicas(t, replicaDir(t), dbURL, hs.URL, hs.URL, hs.URL)
	addr := func(i int) string { return rs[i%3].addr }

	const (
		counters = 24 // conversations with the counter
		perConv  = 6  // messages in each
		menus    = 30 // conversations whose menu times out
	)
	var wg sync.WaitGroup
	var retries atomic.Int64
	for c := 0; c < counters; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := fmt.Sprintf("+1555100%04d", c)
			for k := 1; k <= perConv; k++ {
				sid := fmt.Sprintf("SMc%04d_%d", c, k)
				want := strconv.Itoa(k)
				var s sent
				if k%2 == 0 {
					s1, s2, e1, e2 := retried(addr(c+k), addr(c+k+1), sid, from, countNumber, "m")
					if e1 != nil || e2 != nil || s1.status != 200 || s2.status != 200 {
						t.Errorf("%s sent to two replicas: %v %v %+v %+v", sid, e1, e2, s1, s2)
						return
					}
					if s1.body != s2.body {
						t.Errorf("%s answered differently by two replicas: %q and %q", sid, s1.body, s2.body)
					}
					retries.Add(1)
					s = s1
				} else {
					var err error
					s, err = postJSONTo(addr(c+k), sid, from, countNumber, "m")
					if err != nil || s.status != 200 {
						t.Errorf("%s: %v %+v", sid, err, s)
						return
					}
				}
				if r := replies(t, s); len(r) != 1 || r[0] != want {
					t.Errorf("conversation %d, message %d (replica %d): replies %q, want [%q]", c, k, (c+k)%3, r, want)
				}
			}
		}()
	}
	for c := 0; c < menus; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := fmt.Sprintf("+1555200%04d", c)
			sid := fmt.Sprintf("SMm%04d", c)
			s1, s2, e1, e2 := retried(addr(c), addr(c+1), sid, from, menuNumber, "hi")
			if e1 != nil || e2 != nil || s1.status != 200 || s2.status != 200 {
				t.Errorf("%s sent to two replicas: %v %v %+v %+v", sid, e1, e2, s1, s2)
				return
			}
			if s1.body != s2.body {
				t.Errorf("%s answered differently by two replicas: %q and %q", sid, s1.body, s2.body)
			}
			if r := replies(t, s1); len(r) != 1 || r[0] != "Reply 1" {
				t.Errorf("%s: replies %q", sid, r)
			}
			retries.Add(1)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Every menu times out once, on whichever replica's ticker gets it.
	got := prov.waitFor(menus, 30*time.Second)
	time.Sleep(time.Second) // ten ticks on each replica: a duplicate would show now
	per, total := prov.perContact()
	for c := 0; c < menus; c++ {
		from := fmt.Sprintf("+1555200%04d", c)
		if b := per[from]; len(b) != 1 || b[0] != "No answer." {
			t.Errorf("contact %s: timeout replies accepted %q, want exactly [\"No answer.\"]", from, b)
		}
	}
	if total != menus {
		t.Errorf("the provider accepted %d messages (%d after waiting), want %d", total, got, menus)
	}

	// Every message is stored once; every counter message made one inbox item.
	st, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var items []store.InboxItem
	err = st.InTx(ctx, func(tx store.Tx) error {
		for c := 0; c < counters; c++ {
			for k := 1; k <= perConv; k++ {
				if _, err := tx.MessageBySID(ctx, fmt.Sprintf("SMc%04d_%d", c, k)); err != nil {
					return fmt.Errorf("SMc%04d_%d: %w", c, k, err)
				}
			}
		}
		for c := 0; c < menus; c++ {
			if _, err := tx.MessageBySID(ctx, fmt.Sprintf("SMm%04d", c)); err != nil {
				return fmt.Errorf("SMm%04d: %w", c, err)
			}
		}
		var err error
		items, err = tx.InboxItems(ctx, "team", "front-desk", true)
		return err
	})
	if err != nil {
		t.Fatalf("stored messages: %v", err)
	}
	perSID := map[string]int{}
	for _, it := range items {
		perSID[it.MessageSID]++
	}
	for c := 0; c < counters; c++ {
		for k := 1; k <= perConv; k++ {
			if n := perSID[fmt.Sprintf("SMc%04d_%d", c, k)]; n != 1 {
				t.Errorf("SMc%04d_%d has %d inbox items, want 1", c, k, n)
			}
		}
	}
	if len(items) != counters*perConv {
		t.Errorf("%d inbox items, want %d", len(items), counters*perConv)
	}
	t.Logf("3 replicas: %d conversations × %d messages in order, %d SIDs sent to two replicas at once, %d menu timeouts delivered once each (%d repeated sends absorbed)",
		counters, perConv, retries.Load(), menus, prov.repeats)
}

// TestReplicaKilledOthersDeliver: SIGKILL one of three replicas under
// load while menu timers are due and it holds outbox items it claimed
// (its provider never answers, so they are claimed and unsent when it
// dies): the other two fire its timers and, once the claims' lease runs
// out, deliver its outbox items: every contact gets exactly one timeout
// reply.
func TestReplicaKilledOthersDeliver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flowc binary")
	}
	dbURL, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	prov := &fakeTwilio{delay: 20 * time.Millisecond, accepted: map[string][2]string{}}
	hs := httptest.NewServer(prov)
	defer hs.Close()
	// The doomed replica's provider takes its requests and never answers.
	var held atomic.Int64
	release := make(chan struct{})
	hold := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hold.Close()
	defer close(release)
	rs := startReplicas(t, replicaDir(t), dbURL, hold.URL, hs.URL, hs.URL)
	doomed := rs[0]

	// Load: new counter conversations on every replica until the end;
	// only the doomed replica may fail them (after its death).
	stopLoad := make(chan struct{})
	var loadWG sync.WaitGroup
	var loadSent, loadFailed atomic.Int64
	for w := 0; w < 3; w++ {
		loadWG.Add(1)
		go func() {
			defer loadWG.Done()
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				r := rs[(w+i)%3]
				s, err := postJSONTo(r.addr, fmt.Sprintf("SMl%d_%06d", w, i), fmt.Sprintf("+1555300%d%03d", w, i%1000), countNumber, "m")
				loadSent.Add(1)
				if (err != nil || s.status != 200) && r != doomed {
					loadFailed.Add(1)
				}
			}
		}()
	}

	const n = 60
	for i := 0; i < n; i++ {
		s, err := postJSONTo(rs[i%3].addr, fmt.Sprintf("SMk%04d", i), fmt.Sprintf("+1555400%04d", i), menuNumber, "hi")
		if err != nil || s.status != 200 {
			t.Fatalf("message %d: %v %+v", i, err, s)
		}
	}
	// Kill once the doomed replica holds claimed items and some replies
	// went out through the others.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && (held.Load() == 0 || prov.waitFor(0, 0) < 3) {
		time.Sleep(10 * time.Millisecond)
	}
	if held.Load() == 0 {
		t.Fatal("the doomed replica never tried to deliver anything; the test proves nothing")
	}
	doomed.cmd.Process.Signal(syscall.SIGKILL)
	doomed.cmd.Wait()
	before := prov.waitFor(0, 0)
	if before >= n {
		t.Fatalf("everything was delivered before the kill (%d); the test proves nothing", before)
	}
	heldAtKill := held.Load()

	got := prov.waitFor(n, 45*time.Second) // the lease is 30 s
	time.Sleep(500 * time.Millisecond)     // anything extra would show up now
	close(stopLoad)
	loadWG.Wait()
	per, total := prov.perContact()
	for i := 0; i < n; i++ {
		from := fmt.Sprintf("+1555400%04d", i)
		if b := per[from]; len(b) != 1 || b[0] != "No answer." {
			t.Errorf("contact %s: timeout replies accepted %q, want exactly [\"No answer.\"]", from, b)
		}
	}
	if total != n {
		t.Errorf("the provider accepted %d messages (%d after waiting), want %d", total, got, n)
	}
	if f := loadFailed.Load(); f > 0 {
		t.Errorf("%d load messages to the surviving replicas failed", f)
	}
	t.Logf("killed 1 of 3 replicas while it was stuck delivering (%d request(s) to its provider, the rest of its claimed batch unsent), %d of %d replies out before; all %d delivered exactly once by the other two (%d load messages alongside, %d repeated sends absorbed)",
		heldAtKill, before, n, n, loadSent.Load(), prov.repeats)
}
