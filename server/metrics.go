package server

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/flowc-dev/flowc/internal/buildinfo"
	"github.com/flowc-dev/flowc/server/store"
)

// metrics are registered on a registry of the server's own, so tests can
// start several servers in one process.
type metrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	outbox   *prometheus.CounterVec
	// requests counts every HTTP request by chi route pattern (bounded:
	// "unmatched" for 404s) and status code.
	requests *prometheus.CounterVec
	// timerLag: how late timers fire; statusCallbacks: delivery reports
	// by status (status.go).
	timerLag        prometheus.Histogram
	statusCallbacks *prometheus.CounterVec
	// conflicts counts step commits that found their conversation changed
	// since its read, and ran the step again (see commit.go).
	conflicts prometheus.Counter
}

// webhookBuckets reach Twilio's 15-second window: a webhook slower than
// that was given up on by the provider, and the histogram shows how close
// the slow ones come.
var webhookBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15}

// dbStatser is a store that reports its connection pool as database/sql
// does (the SQLite store is a database/sql pool; the PostgreSQL store maps
// pgxpool's counters onto the same fields).
type dbStatser interface{ DBStats() sql.DBStats }

func newMetrics(st any) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowc_messages_total",
			Help: "Inbound messages by flow and outcome (routed, retry, opted-out, opt-out, opt-in, help, no-flow, error).",
		}, []string{"flow", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flowc_webhook_seconds",
			Help:    "Time to answer an inbound-message webhook, from request to response.",
			Buckets: webhookBuckets,
		}, []string{"endpoint"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowc_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
	}
	m.outbox = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowc_outbox_deliveries_total",
		Help: "Outbox delivery attempts by kind (sms, email, webhook) and result (sent, retry, rate-limited, rejected, opted-out, failed).",
	}, []string{"kind", "result"})
	m.timerLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "flowc_timer_lag_seconds",
		Help:    "How long after its deadline a conversation's timer fired.",
		Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	})
	m.statusCallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowc_delivery_reports_total",
		Help: "Delivery reports (Twilio status callbacks) received, by status.",
	}, []string{"status"})
	m.conflicts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "flowc_step_conflicts_total",
		Help: "Messages and timers run again because their conversation changed between read and commit (other replicas).",
	})
	mod, rev, gov := buildinfo.Read()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "flowc_build_info",
		Help:        "Always 1; the labels name the build of this binary (as `flowc version` prints it).",
		ConstLabels: prometheus.Labels{"version": mod, "commit": rev, "goversion": gov},
	})
	build.Set(1)
	m.reg.MustRegister(m.messages, m.latency, m.requests, m.outbox, m.conflicts, m.timerLag, m.statusCallbacks, build)
	if ds, ok := st.(dbStatser); ok {
		m.reg.MustRegister(dbStatsCollector(ds))
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// dbStats is the store's connection pool, read at each scrape.
type dbStats struct {
	st                                      dbStatser
	maxOpen, open, inUse, idle, waits, wait *prometheus.Desc
}

func dbStatsCollector(st dbStatser) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &dbStats{st: st,
		maxOpen: d("flowc_db_max_open_connections", "The store's connection pool size limit (PostgreSQL: pool_max_conns)."),
		open:    d("flowc_db_open_connections", "Connections the pool holds, in use or idle."),
		inUse:   d("flowc_db_in_use_connections", "Connections in use by a transaction."),
		idle:    d("flowc_db_idle_connections", "Idle connections."),
		waits:   d("flowc_db_wait_total", "Transactions that waited for a free connection."),
		wait:    d("flowc_db_wait_seconds_total", "Total time transactions waited for a free connection."),
	}
}

func (c *dbStats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waits, c.wait} {
		ch <- d
	}
}

func (c *dbStats) Collect(ch chan<- prometheus.Metric) {
	s := c.st.DBStats()
	ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.OpenConnections))
	ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, s.WaitDuration.Seconds())
}

// outboxCollector reports the queue at scrape time, from the store (so
// every replica shows the same, whole queue): pending items and the age
// of the oldest, per kind. A store that does not answer within
// outboxScrapeTimeout leaves the gauges out of that scrape.
type outboxCollector struct{ s *Server }

const outboxScrapeTimeout = 2 * time.Second

var (
	outboxBacklogDesc = prometheus.NewDesc("flowc_outbox_backlog", "Outbox items waiting to be delivered, by kind.", []string{"kind"}, nil)
	outboxAgeDesc     = prometheus.NewDesc("flowc_outbox_oldest_age_seconds", "Age of the oldest outbox item waiting, by kind.", []string{"kind"}, nil)
)

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxBacklogDesc
	ch <- outboxAgeDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), outboxScrapeTimeout)
	defer cancel()
	var backlog []store.OutboxBacklog
	err := c.s.store.InTx(ctx, func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return nil
		}
		var err error
		backlog, err = otx.OutboxBacklog(ctx)
		return err
	})
	if err != nil {
		c.s.log.Warn("metrics: outbox backlog", "error", clipErr(err))
		return
	}
	now := c.s.cfg.Now()
	for _, kind := range []string{"sms", "email", "webhook"} { // always present, 0 when empty
		n, age := 0, 0.0
		for _, b := range backlog {
			if b.Kind == kind {
				n, age = b.Pending, max(0, now.Sub(b.Oldest).Seconds())
			}
		}
		ch <- prometheus.MustNewConstMetric(outboxBacklogDesc, prometheus.GaugeValue, float64(n), kind)
		ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age, kind)
	}
}
