// Package web is the console's HTTP face: the server-rendered operator UI
// (templ components beside their handlers) and the JSON API under /api/v1.
// Handlers parse, call the store, render; the store is the one path for
// every action, so the UI and the API are audited identically.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zegocloud-console/console/internal/store"
)

// Config holds the web settings that come from the environment.
type Config struct {
	SessionIdle  time.Duration // sign out after this long without a request
	SessionMax   time.Duration // sign out this long after sign-in, whatever happens
	TrustProxy   bool          // take the client address and scheme from X-Forwarded-* headers
	APIRate      float64       // API requests per second per key (token bucket rate)
	APIBurst     int           // API token bucket size
	SealInterval time.Duration // how often the audit sealer runs, shown on the audit page
	Version      string
}

// Server serves the UI and the API.
type Server struct {
	st       *store.Store
	log      *slog.Logger
	cfg      Config
	sessions *sessionStore
	metrics  *metrics
	limiter  *keyLimiter
}

// New builds a server. The session cookie keys come from the database so that
// every instance shares them; reg receives the Prometheus metrics.
func New(ctx context.Context, st *store.Store, logger *slog.Logger, cfg Config, reg prometheus.Registerer) (*Server, error) {
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	if cfg.APIRate == 0 {
		cfg.APIRate, cfg.APIBurst = 50, 100
	}
	if cfg.SealInterval == 0 {
		cfg.SealInterval = 250 * time.Millisecond
	}
	sessions, err := newSessionStore(ctx, st, cfg)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	st.Observe(store.Observer{AuditWrite: func(d time.Duration) { m.auditWrite.Observe(d.Seconds()) }})
	return &Server{st: st, log: logger, cfg: cfg, sessions: sessions, metrics: m,
		limiter: newKeyLimiter(cfg.APIRate, cfg.APIBurst)}, nil
}

// healthz says the process is up.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz says the database answers and its schema is current.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.st.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database unreachable")
		return
	}
	if pending, err := s.st.MigrationsPending(ctx); err != nil || pending {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database schema not migrated")
		return
	}
	fmt.Fprintln(w, "ready")
}
