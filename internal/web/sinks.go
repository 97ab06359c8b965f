package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zegocloud-console/console/internal/store"
)

// TestSink sends a test event to sink id now and audits sink.test with its
// outcome. The error is the audit's or the store's; the receiver's is
// returned as sent, for the page or the problem to show.
func (s *Server) TestSink(r *http.Request, id int64) (k store.Sink, sent error, err error) {
	ctx := r.Context()
	if k, err = s.Store.GetSink(ctx, id); err != nil {
		return k, nil, err
	}
	sec, err := s.Store.OpenSinkSecrets(k)
	if err != nil {
		return k, nil, err
	}
	sent = s.sinks.Test(ctx, k, sec)
	return k, sent, s.Store.RecordSinkTest(context.WithoutCancel(ctx), k, sent, Actor(r), s.Origin(r))
}

// sinkCollector exports each sink's delivered and failed counts (kept in
// the database, so the same on every instance) and its lag, read at
// scrape time.
type sinkCollector struct {
	st                             *store.Store
	delivered, failed, lag, lagAge *prometheus.Desc
}

func newSinkCollector(st *store.Store) *sinkCollector {
	labels := []string{"sink", "kind"}
	return &sinkCollector{st: st,
		delivered: prometheus.NewDesc("console_audit_sink_delivered_total", "Audit events delivered to a sink.", labels, nil),
		failed:    prometheus.NewDesc("console_audit_sink_failed_total", "Failed deliveries to a sink (each retried).", labels, nil),
		lag:       prometheus.NewDesc("console_audit_sink_lag_events", "Sealed audit events a sink has not handled yet.", labels, nil),
		lagAge:    prometheus.NewDesc("console_audit_sink_lag_seconds", "Age of the oldest audit event a sink has not handled yet.", labels, nil),
	}
}

// Describe sends the descriptions of the sink metrics.
func (c *sinkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.delivered
	ch <- c.failed
	ch <- c.lag
	ch <- c.lagAge
}

// Collect reads every sink; without the database it reports none.
func (c *sinkCollector) Collect(ch chan<- prometheus.Metric) {
	sinks, err := c.st.ListSinks(context.Background())
	if err != nil {
		return
	}
	for _, k := range sinks {
		labels := []string{k.Name, k.Kind}
		ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.CounterValue, float64(k.Delivered), labels...)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(k.Failed), labels...)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(k.LagEvents), labels...)
		ch <- prometheus.MustNewConstMetric(c.lagAge, prometheus.GaugeValue, k.LagSeconds, labels...)
	}
}

// SinkID reads the {id} of a sink route's path; one that is not a sink id
// is store.ErrSinkNotFound, as a missing sink is.
func SinkID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, store.ErrSinkNotFound
	}
	return id, nil
}
