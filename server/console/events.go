package console

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The workspace's live updates: GET /ui/workspace/events is a stream of
// server-sent events for the signed-in user. Each connection reads the
// store every PollInterval (the user's conversations and, with ?c=ID,
// instead that thread) and hashes what the page shows into a version; when the
// version changes it sends one small "change" event and the page's
// script (static/workspace.js) fetches the page again and swaps its
// live parts. Reading the store, not a replica's memory, is what makes a
// text taken by another replica show up here. The page gives the version
// it was drawn at (?v=), so a change between drawing and connecting is
// not missed. A session keeps at most MaxStreams open at once (per
// replica) and each lasts at most StreamLifetime, after which the
// browser's EventSource reconnects; a stream checks every SessionRecheck
// that its session is still in force, and ends when it is not. The
// events carry no data of the conversations: the page fetches them
// through the ordinary, session-checked GET.

// Live-update bounds.
var (
	PollInterval   = time.Second
	StreamLifetime = 10 * time.Minute
	MaxStreams     = 4
	SessionRecheck = 15 * time.Second // how often a stream checks its session is still in force
	KeepAlive      = 25 * time.Second // a comment on an idle stream, for proxies
)

// streams counts each session's open event streams, by its CSRF token
// (random per session).
var streams = struct {
	sync.Mutex
	open map[string]int
}{open: map[string]int{}}

func takeStream(key string) bool {
	streams.Lock()
	defer streams.Unlock()
	if streams.open[key] >= MaxStreams {
		return false
	}
	streams.open[key]++
	return true
}

func dropStream(key string) {
	streams.Lock()
	defer streams.Unlock()
	if streams.open[key]--; streams.open[key] <= 0 {
		delete(streams.open, key)
	}
}

// sessionInForce reports whether the request's session is still stored
// and its token still in force (false on a failure to read: the browser
// reconnects).
func (c *Console) sessionInForce(r *http.Request) bool {
	s, _, err := c.loadSession(r.Context(), r)
	if err != nil || s == nil || s.CSRF != session(r).CSRF {
		return false
	}
	refusal, err := c.b.StillValid(r.Context(), s.Principal)
	return err == nil && refusal == ""
}

// queueVersion hashes what the queue list shows (not the waiting times,
// which the clock moves).
func queueVersion(cs []AgentConversation) string {
	h := sha256.New()
	for _, c := range cs {
		fmt.Fprintf(h, "%s|%s|%s|%d|%s|%d\n", c.ID, c.Status, c.Assignee, c.Position, strings.Join(c.Offered, ","), c.Updated.UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// threadVersion hashes what the thread page shows; err, when reading it
// was refused (over, no longer theirs), is its version.
func threadVersion(th *AgentThread, err error) string {
	h := sha256.New()
	if err != nil {
		fmt.Fprintf(h, "refused %v", err)
	} else {
		fmt.Fprintf(h, "%s|%s|%s|%d|%s|%d|%d\n", th.ID, th.Status, th.Assignee, th.Position, strings.Join(th.Offered, ","), th.Omitted, len(th.Notes))
		for _, m := range th.Messages {
			fmt.Fprintf(h, "m %s %d\n", m.SID, len(m.Media))
		}
		for _, rp := range th.Replies {
			fmt.Fprintf(h, "r %d %s\n", rp.At.UnixNano(), rp.Status)
		}
		for _, n := range th.Notes {
			fmt.Fprintf(h, "n %d\n", n.ID)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// events streams "change" events to the workspace's pages.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	s := session(r)
	if s.Principal.Role != RoleAgent {
		c.fail(w, r, http.StatusForbidden, "Live updates are for an agent's workspace.")
		return
	}
	user, id := s.Principal.User, r.URL.Query().Get("c")
	ctx := r.Context()
	// A thread's page shows the thread, the list page the list.
	c.stream(w, r, user, func() (string, error) {
		if id != "" {
			th, err := c.b.Thread(ctx, user, id)
			var refused *Refused
			if err != nil && !errors.As(err, &refused) {
				return "", err
			}
			return threadVersion(th, err), nil
		}
		cs, err := c.b.Conversations(ctx, user)
		if err != nil {
			return "", err
		}
		return queueVersion(cs), nil
	})
}

// queuesEvents streams "change" events to the queues page (admins).
func (c *Console) queuesEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c.stream(w, r, session(r).Principal.User, func() (string, error) {
		qs, err := c.admin().Queues(ctx)
		if err != nil {
			return "", err
		}
		return queuesVersion(qs), nil
	})
}

// queuesVersion hashes what the queues page shows but the waits, which
// the clock moves (the page redraws them when anything else changes).
func queuesVersion(qs []QueueStats) string {
	h := sha256.New()
	for _, q := range qs {
		fmt.Fprintf(h, "%s|%d|%d|%d|%d|%d|%d|%d|%d|%d|%d|%d|%d\n", q.Team, q.Waiting, q.Entered, q.Offered, q.Accepted, q.WithinSL,
			q.Abandoned, q.AbandonedAfterSL, q.Transferred, q.Returned, q.Finished, q.Closed, q.Full)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// stream sends a "change" event each time version, polled every
// PollInterval, differs from the one the page was drawn at (its v
// parameter), for at most StreamLifetime; the session is checked again
// every SessionRecheck, and a session has at most MaxStreams open.
func (c *Console) stream(w http.ResponseWriter, r *http.Request, user string, version func() (string, error)) {
	s := session(r)
	// The listener's write timeout (30 s) is for pages; a stream lives
	// up to StreamLifetime.
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Now().Add(StreamLifetime + time.Minute)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		c.log.Warn("console: events: write deadline", "error", err.Error())
	}
	if !takeStream(s.CSRF) {
		c.fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("This session has %d live pages open already: close one.", MaxStreams))
		return
	}
	defer dropStream(s.CSRF)
	ctx := r.Context()
	last := r.URL.Query().Get("v") // the version the page was drawn at
	if len(last) > 64 {
		last = ""
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	rc.Flush()
	checked, recheck := time.Now(), SessionRecheck
	wrote, failing := time.Now(), false
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	end := time.NewTimer(StreamLifetime)
	defer end.Stop()
	for {
		v, err := version()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing { // once, not every second
				c.log.Warn("console: events", "user", user, "error", err.Error())
			}
			failing = true
		case last == "":
			last, failing = v, false
		case v != last:
			last, failing = v, false
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", v)
			rc.Flush()
			wrote = time.Now()
		default:
			failing = false
		}
		if time.Since(wrote) >= KeepAlive {
			// A comment, so that proxies keep an idle stream open.
			fmt.Fprint(w, ": keep-alive\n\n")
			rc.Flush()
			wrote = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			// The browser reconnects, which checks the session again.
			fmt.Fprint(w, "event: bye\ndata: reconnect\n\n")
			rc.Flush()
			return
		case <-tick.C:
		}
		if time.Since(checked) >= recheck {
			// Signed out, or the token revoked: the stream ends (the
			// browser's reconnect is sent to sign in).
			checked = time.Now()
			if !c.sessionInForce(r) {
				fmt.Fprint(w, "event: bye\ndata: signed out\n\n")
				rc.Flush()
				return
			}
		}
	}
}
