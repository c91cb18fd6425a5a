package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// BenchmarkInbound is the loopback load test: messages/s and latency of
// the server on the embedded store, against a bare chi handler issuing
// the same database transaction per message (the limit the store sets).
// Each message is a new contact texting the after-hours number, which
// replies and delivers to a team inbox.
//
//	go test ./server -run '^$' -bench Inbound -benchtime 4000x
func BenchmarkInbound(b *testing.B) {
	b.Run("flowc", func(b *testing.B) {
		st := openStore(b)
		res, err := lang.Load([]string{"../examples"})
		if err != nil {
			b.Fatal(err)
		}
		progs, _ := compiler.All(res)
		dir, _ := server.LoadDirectory("../examples/directory.json")
		srv := server.New(server.Config{TwilioAuthToken: authToken, Directory: dir, Logger: quiet,
			Now: func() time.Time { return time.Date(2026, 11, 23, 20, 0, 0, 0, ny) }}, st)
		if err := srv.Deploy(context.Background(), progs); err != nil {
			b.Fatal(err)
		}
		load(b, true, srv.Handler())
	})
	b.Run("bare", func(b *testing.B) {
		load(b, false, bareHandler(b, openStore(b)))
	})
}

// bareHandler is the limit: a bare chi handler issuing, on st, the same
// database transaction per message as the after-hours flow.
func bareHandler(b *testing.B, st store.Store) http.Handler {
	// The same writes as one after-hours message: lock the conversation
	// (a no-op on SQLite, an advisory lock on PostgreSQL), look up the SID,
	// route, opt-out, conversation and tags; add an inbox item; clear
	// the conversation; store the message.
	st.InTx(context.Background(), func(tx store.Tx) error {
		tx.SaveProgram(context.Background(), &store.Program{Flow: "after-hours", Version: "v1", Encoded: []byte("x"), Numbers: []string{"+15550200"}, Created: time.Now()})
		return tx.Activate(context.Background(), "after-hours", "v1", []string{"+15550200"}, time.Now())
	})
	r := chi.NewRouter()
	r.Post("/webhooks/twilio/sms", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		sid, from, to, body := r.PostForm.Get("MessageSid"), r.PostForm.Get("From"), r.PostForm.Get("To"), r.PostForm.Get("Body")
		ctx := r.Context()
		err := st.InTx(ctx, func(tx store.Tx) error {
			if err := tx.LockConversation(ctx, from, to); err != nil {
				return err
			}
			if _, err := tx.MessageBySID(ctx, sid); !errors.Is(err, store.ErrNotFound) {
				return err
			}
			flow, version, err := tx.Route(ctx, to)
			if err != nil {
				return err
			}
			if _, err := tx.OptedOut(ctx, from, to); err != nil {
				return err
			}
			if _, err := tx.Conversation(ctx, from, to); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if _, err := tx.ContactTags(ctx, from); err != nil {
				return err
			}
			now := time.Now()
			if err := tx.AddInboxItem(ctx, &store.InboxItem{TargetKind: "team", TargetName: "front-desk", MessageSID: sid, Contact: from, Number: to, Body: body, Flow: flow, Created: now}); err != nil {
				return err
			}
			if err := tx.DeleteConversation(ctx, from, to); err != nil {
				return err
			}
			return tx.InsertMessage(ctx, &store.Message{SID: sid, From: from, To: to, Body: body, Flow: flow, Version: version, Outcome: "routed",
				Response: `{"outcome":"routed","replies":["closed"]}`, Trace: []byte(`{"steps":[]}`), Received: now})
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(server.TwiML([]string{"closed"})))
	})
	return r
}

func openStore(b *testing.B) *sqlite.Store {
	st, err := sqlite.Open(context.Background(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

var benchRun atomic.Int64

// load sends b.N signed messages from 32 concurrent clients over
// loopback HTTP, round-robin across the handlers (one server each), and
// reports messages/s, p50 and p99.
func load(b *testing.B, sign bool, hs ...http.Handler) {
	var fulls []string
	for _, h := range hs {
		srv := httptest.NewServer(h)
		defer srv.Close()
		fulls = append(fulls, srv.URL+"/webhooks/twilio/sms")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := benchRun.Add(1)
	const clients = 32
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				full := fulls[i%len(fulls)]
				f := url.Values{"MessageSid": {fmt.Sprintf("SMb%d_%d", run, i)}, "From": {fmt.Sprintf("+1555%07d", i)}, "To": {"+15550200"}, "Body": {"hello"}}
				req, _ := http.NewRequest(http.MethodPost, full, strings.NewReader(f.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if sign {
					req.Header.Set("X-Twilio-Signature", server.TwilioSignature(authToken, full, f))
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
