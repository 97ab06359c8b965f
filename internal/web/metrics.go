package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series the console exports at /metrics.
type metrics struct {
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	issued     *prometheus.CounterVec
	revoked    *prometheus.CounterVec
	auditWrite prometheus.Histogram
	handler    http.Handler
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "console_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "console_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "console_tokens_issued_total", Help: "Tokens issued, by AppID and channel.",
		}, []string{"app_id", "channel"}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "console_tokens_revoked_total", Help: "Tokens revoked, by AppID.",
		}, []string{"app_id"}),
		auditWrite: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "console_audit_write_duration_seconds", Help: "Latency of audited writes (the change and its audit event).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25},
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.issued, m.revoked, m.auditWrite} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.handler = promhttp.HandlerFor(g, promhttp.HandlerOpts{})
	} else {
		m.handler = promhttp.Handler()
	}
	return m, nil
}

// tokensIssued counts issued tokens; the store calls it after they commit.
func (m *metrics) tokensIssued(appID int64, channel string, n int) {
	m.issued.WithLabelValues(strconv.FormatInt(appID, 10), channel).Add(float64(n))
}

// tokensRevoked counts revoked tokens; the store calls it after they commit.
func (m *metrics) tokensRevoked(appID int64, n int64) {
	m.revoked.WithLabelValues(strconv.FormatInt(appID, 10)).Add(float64(n))
}

// MetricsHandler serves the Prometheus metrics without authentication, for
// a listener of their own (CONSOLE_METRICS_ADDR) that only the monitoring
// network reaches.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler)
	return mux
}

// metricsGuard lets through only requests that carry MetricsToken as a
// bearer token: the metrics name every AppID and its volumes.
func (s *Server) metricsGuard(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.Cfg.MetricsToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the bearer token set in CONSOLE_METRICS_TOKEN", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// observe records one finished request.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	switch method { // a fixed set of labels: any other method would add a series per request
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}
