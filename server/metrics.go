package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are registered on a registry of the server's own, so tests can
// start several servers in one process.
type metrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	outbox   *prometheus.CounterVec
	// conflicts counts step commits that found their conversation changed
	// since its read, and ran the step again (see commit.go).
	conflicts prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowc_messages_total",
			Help: "Inbound messages by flow and outcome (routed, retry, opted-out, opt-out, opt-in, help, no-flow, error).",
		}, []string{"flow", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flowc_webhook_seconds",
			Help:    "Time to answer an inbound-message webhook, from request to response.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"endpoint"}),
	}
	m.outbox = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowc_outbox_deliveries_total",
		Help: "Outbox delivery attempts by kind (sms, email, webhook) and result (sent, failed).",
	}, []string{"kind", "result"})
	m.conflicts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "flowc_step_conflicts_total",
		Help: "Messages and timers run again because their conversation changed between read and commit (other replicas).",
	})
	m.reg.MustRegister(m.messages, m.latency, m.outbox, m.conflicts)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
