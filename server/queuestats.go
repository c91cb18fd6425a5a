package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// Queue statistics (the Queues issue): per team, real time, the same
// numbers in three places: GET /v1/admin/queues[/{team}] (`flowc
// queues`) and the flowc_queue_* metrics. They are made of two reads:
//
//   - the counters (store.QueueReader.QueueStats), which each step's
//     commit moves by inbound.QueueCounts: exact, because a step is
//     committed once;
//   - the waiting conversations (store.QueueStatsReader.QueueWaiting):
//     how many wait or are offered, and since when the oldest has.
//
// queueStatsOf turns them into QueueStats with the clock, so the three
// outputs cannot disagree about what a number means. The reads are
// the store's, not a replica's memory: every replica shows the same.
// They are two reads, not one snapshot: a conversation taken between
// them may show as taken and as still waiting in one answer (never in
// the next).

// QueueStats is one team's queue statistics. The counters count since
// the store was created; Waiting and LongestWaitSeconds are now.
type QueueStats struct {
	Team string `json:"team"`
	// Waiting: conversations in the queue not yet taken (waiting, or
	// offered to someone who has not accepted); LongestWaitSeconds: how
	// long the oldest of them has been in the queue (0: none waits).
	Waiting            int     `json:"waiting"`
	LongestWaitSeconds float64 `json:"longest_wait_seconds"`
	// The counters, vm/inbound's Count* (docs/server.md, "Queue statistics").
	Entered          int64 `json:"entered"`
	Offered          int64 `json:"offered"`
	Accepted         int64 `json:"accepted"`
	WithinSL         int64 `json:"within_sl"`
	Abandoned        int64 `json:"abandoned"`
	AbandonedAfterSL int64 `json:"abandoned_after_sl"`
	Transferred      int64 `json:"transferred"`
	Returned         int64 `json:"returned"`
	Finished         int64 `json:"finished"`
	Closed           int64 `json:"closed"`
	Full             int64 `json:"full"`
	// ServiceLevelPercent is WithinSL over Accepted plus
	// AbandonedAfterSL, in percent; null while both are 0.
	ServiceLevelPercent *float64 `json:"service_level_percent"`
}

// serviceLevel is the service level as a ratio (0 to 1); ok is false
// when nothing was taken or abandoned after the service level yet.
func (q QueueStats) serviceLevel() (ratio float64, ok bool) {
	d := q.Accepted + q.AbandonedAfterSL
	if d == 0 {
		return 0, false
	}
	return float64(q.WithinSL) / float64(d), true
}

// queueStatsOf is team's statistics from its counters (by vm/inbound's
// Count* names), its waiting conversations and the clock.
func queueStatsOf(team string, counts map[string]int64, w store.QueueWaiting, now time.Time) QueueStats {
	q := QueueStats{Team: team, Waiting: w.Waiting,
		Entered: counts[inbound.CountEntered], Offered: counts[inbound.CountOffered],
		Accepted: counts[inbound.CountAccepted], WithinSL: counts[inbound.CountWithin],
		Abandoned: counts[inbound.CountAbandoned], AbandonedAfterSL: counts[inbound.CountAbandonedAfter],
		Transferred: counts[inbound.CountTransferred], Returned: counts[inbound.CountReturned],
		Finished: counts[inbound.CountFinished], Closed: counts[inbound.CountClosed], Full: counts[inbound.CountFull]}
	if w.Waiting > 0 && !w.Oldest.IsZero() {
		q.LongestWaitSeconds = max(0, now.Sub(w.Oldest).Seconds())
	}
	if r, ok := q.serviceLevel(); ok {
		pct := r * 100
		q.ServiceLevelPercent = &pct
	}
	return q
}

// queueStats reads every queue's statistics, by team name: the teams
// with counters or conversations waiting, and the directory's teams
// (zeros until their first conversation).
func (s *Server) queueStats(ctx context.Context) ([]QueueStats, error) {
	qr, ok := s.store.(store.QueueReader)
	qs, ok2 := s.store.(store.QueueStatsReader)
	if !ok || !ok2 {
		return nil, fmt.Errorf("store %T keeps no queue statistics", s.store)
	}
	counts, err := qr.QueueStats(ctx)
	if err != nil {
		return nil, err
	}
	waiting, err := qs.QueueWaiting(ctx)
	if err != nil {
		return nil, err
	}
	teams := map[string]bool{}
	for t := range counts {
		teams[t] = true
	}
	for t := range waiting {
		teams[t] = true
	}
	if d := s.directory(); d != nil {
		for _, t := range d.Teams {
			teams[t.Name] = true
		}
	}
	now := s.cfg.Now()
	out := make([]QueueStats, 0, len(teams))
	for _, t := range slices.Sorted(mapsKeys(teams)) {
		out = append(out, queueStatsOf(t, counts[t], waiting[t], now))
	}
	return out, nil
}

// QueuesResponse is GET /v1/admin/queues: every queue's statistics.
type QueuesResponse struct {
	Queues []QueueStats `json:"queues"`
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := s.queueStats(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, QueuesResponse{Queues: qs})
}

// QueueWaitingTicket is a conversation waiting in a queue.
type QueueWaitingTicket struct {
	Position     int       `json:"position"` // 1: the next to be taken
	Conversation string    `json:"conversation"`
	Contact      string    `json:"contact"`
	Number       string    `json:"number"`
	Status       string    `json:"status"`  // waiting or offered
	Offered      []string  `json:"offered"` // whom it is offered to now
	Since        time.Time `json:"since"`
	WaitSeconds  float64   `json:"wait_seconds"`
	Flow         string    `json:"flow"`
}

// QueueResponse is GET /v1/admin/queues/{team}: the team's statistics
// and its waiting conversations, oldest first, at most ?limit= of them
// (More: there are more).
type QueueResponse struct {
	Stats   QueueStats           `json:"stats"`
	Waiting []QueueWaitingTicket `json:"waiting"`
	More    bool                 `json:"more"`
}

const (
	defaultQueuePage = 100
	maxQueuePage     = 1000
)

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request) {
	team := chi.URLParam(r, "team")
	limit := defaultQueuePage
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxQueuePage {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("limit %q: want a number from 1 to %d", v, maxQueuePage)})
			return
		}
		limit = n
	}
	all, err := s.queueStats(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	i := slices.IndexFunc(all, func(q QueueStats) bool { return q.Team == team })
	if i < 0 {
		writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("no queue %q: not a team of the directory, and no conversation was ever queued to it", team)})
		return
	}
	out := QueueResponse{Stats: all[i], Waiting: []QueueWaitingTicket{}}
	tickets, err := s.store.(store.QueueReader).TeamTickets(r.Context(), team, true, limit+1)
	if err != nil {
		s.storeError(w, err)
		return
	}
	if len(tickets) > limit {
		tickets, out.More = tickets[:limit], true
	}
	now := s.cfg.Now()
	for n, t := range tickets {
		offered := t.Offered
		if offered == nil {
			offered = []string{}
		}
		out.Waiting = append(out.Waiting, QueueWaitingTicket{Position: n + 1, Conversation: ConversationID(t.Contact, t.Number, t.Started),
			Contact: t.Contact, Number: t.Number, Status: t.Status, Offered: offered, Since: t.Since,
			WaitSeconds: max(0, now.Sub(t.Since).Seconds()), Flow: t.Flow})
	}
	writeJSON(w, http.StatusOK, out)
}

// queueCollector reports the queue statistics at scrape time, from the
// store (every replica shows the same): flowc_queue_*. A store that
// does not answer within outboxScrapeTimeout leaves them out of that
// scrape.
type queueCollector struct{ s *Server }

var (
	queueWaitingDesc     = prometheus.NewDesc("flowc_queue_waiting", "Conversations waiting in the team's queue (waiting or offered, not yet taken).", []string{"team"}, nil)
	queueLongestWaitDesc = prometheus.NewDesc("flowc_queue_longest_wait_seconds", "How long the oldest conversation waiting in the team's queue has waited (0: none waits).", []string{"team"}, nil)
	queueEventsDesc      = prometheus.NewDesc("flowc_queue_conversations_total", "Queue events by team: entered, offered (each offer), accepted, abandoned, transferred, returned, finished, full; within_sl and abandoned_after_sl, the service level's terms.", []string{"team", "event"}, nil)
	queueSLDesc          = prometheus.NewDesc("flowc_queue_service_level_ratio", "Taken within the service level over taken plus abandoned after it (absent until one of them happened).", []string{"team"}, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueWaitingDesc, queueLongestWaitDesc, queueEventsDesc, queueSLDesc} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	if _, ok := c.s.store.(store.QueueStatsReader); !ok {
		return // a store that keeps no queues has no queue series
	}
	ctx, cancel := context.WithTimeout(context.Background(), outboxScrapeTimeout)
	defer cancel()
	all, err := c.s.queueStats(ctx)
	if err != nil {
		c.s.log.Warn("metrics: queue statistics", "error", clipErr(err))
		return
	}
	for _, q := range all {
		ch <- prometheus.MustNewConstMetric(queueWaitingDesc, prometheus.GaugeValue, float64(q.Waiting), q.Team)
		ch <- prometheus.MustNewConstMetric(queueLongestWaitDesc, prometheus.GaugeValue, q.LongestWaitSeconds, q.Team)
		for _, e := range []struct {
			event string
			n     int64
		}{{"entered", q.Entered}, {"offered", q.Offered}, {"accepted", q.Accepted}, {"abandoned", q.Abandoned},
			{"transferred", q.Transferred}, {"returned", q.Returned}, {"finished", q.Finished}, {"full", q.Full},
			{"within_sl", q.WithinSL}, {"abandoned_after_sl", q.AbandonedAfterSL}} {
			ch <- prometheus.MustNewConstMetric(queueEventsDesc, prometheus.CounterValue, float64(e.n), q.Team, e.event)
		}
		if r, ok := q.serviceLevel(); ok {
			ch <- prometheus.MustNewConstMetric(queueSLDesc, prometheus.GaugeValue, r, q.Team)
		}
	}
}
