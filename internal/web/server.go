// Package web is what the console's two HTTP faces share: the middleware
// chain, the request's actor and origin, the error table, the audited export
// path, and Handler, which mounts the browser UI (package ui) and the JSON
// API (package api) behind that chain. Neither face imports the other.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zegocloud-console/console/internal/sink"
	"github.com/zegocloud-console/console/internal/store"
)

// Config holds the web settings that come from the environment.
type Config struct {
	SessionIdle  time.Duration    // sign out after this long without a request
	SessionMax   time.Duration    // sign out this long after sign-in, whatever happens
	TrustProxy   bool             // take the client address and scheme from X-Forwarded-* headers
	APIRate      float64          // API requests per second per key (token bucket rate)
	APIBurst     int              // API token bucket size
	UnauthRate   float64          // refused unauthenticated requests per second per client address (token bucket rate)
	UnauthBurst  int              // their token bucket size
	Now          func() time.Time // the clock of the per-address limiter and its tallies; nil: time.Now (tests move their own)
	SealInterval time.Duration    // how often the audit sealer runs, shown on the audit page
	MetricsToken string           // bearer token for /metrics on the main listener; empty: not served there
	SinkDir      string           // where file sinks write (for test events)
	Version      string

	// Audit exports: how long one batch of events may take to read, how long
	// a whole export may take, and how many may run at once in this instance.
	ExportBatchTimeout time.Duration
	ExportMaxDuration  time.Duration
	ExportConcurrency  int
	OIDC               OIDCConfig    // single sign-on; off without an issuer
	LocalLogin         string        // who may sign in with a password: store.LocalLoginAll (""), LocalLoginAdmins, LocalLoginNone
	MFA                string        // who must have a second factor: MFAOptional (""), MFAAdmins, MFAAll
	StepUpAge          time.Duration // dangerous actions want the person verified this recently (5m by default)
	PublicURL          string        // the console's public origin, the passkeys' relying party; "": no passkeys
}

// OIDCConfig is the single sign-on setting (CONSOLE_OIDC_*): OpenID Connect's
// authorization code flow with PKCE against Issuer. An empty Issuer turns
// single sign-on off.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string   // "": the console's own /auth/oidc/callback, as the browser reaches it
	Scopes       []string // openid is always asked for
	GroupsClaim  string   // the claim that lists a person's groups, for the groups overage check
	Name         string   // the provider's name on the sign-in button
}

// Enabled tells whether single sign-on is configured.
func (c OIDCConfig) Enabled() bool { return c.Issuer != "" }

// Server holds what the UI and the API share: the store, the logger, the
// settings and the metrics.
type Server struct {
	Store   *store.Store
	Log     *slog.Logger
	Cfg     Config
	metrics *metrics
	unauth  *unauthGate
	sinks   *sink.Deliverer // sends test events
	ui, api Face
	// exportSlots holds one token per audit export running in this instance.
	exportSlots chan struct{}
	// draining closes when the server begins to shut down, so that long
	// polls answer at once instead of holding the shutdown up.
	draining  chan struct{}
	drainOnce sync.Once
}

// Drain tells long-running requests that the server is shutting down;
// pass it to http.Server.RegisterOnShutdown.
func (s *Server) Drain() { s.drainOnce.Do(func() { close(s.draining) }) }

// Draining is closed once Drain was called.
func (s *Server) Draining() <-chan struct{} { return s.draining }

// NewFace builds one face of the console on the shared server: ui.New or
// api.New.
type NewFace func(ctx context.Context, base *Server) (Face, error)

// New builds the console's HTTP server: the shared part, then the UI and the
// API on it (cmd/console passes ui.New and api.New); reg receives the
// Prometheus metrics.
func New(ctx context.Context, st *store.Store, logger *slog.Logger, cfg Config, reg prometheus.Registerer, newUI, newAPI NewFace) (*Server, error) {
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	if cfg.APIRate == 0 {
		cfg.APIRate, cfg.APIBurst = 50, 100
	}
	if cfg.UnauthRate == 0 {
		cfg.UnauthRate = 0.2
	}
	if cfg.UnauthBurst == 0 {
		cfg.UnauthBurst = 20
	}
	if cfg.SealInterval == 0 {
		cfg.SealInterval = 250 * time.Millisecond
	}
	if cfg.ExportBatchTimeout == 0 {
		cfg.ExportBatchTimeout = DefaultExportBatchTimeout
	}
	if cfg.ExportMaxDuration == 0 {
		cfg.ExportMaxDuration = DefaultExportMaxDuration
	}
	if cfg.ExportConcurrency == 0 {
		cfg.ExportConcurrency = DefaultExportConcurrency
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	// Counted where the action commits, so that no route can forget them.
	st.Observe(store.Observer{
		AuditWrite:    func(d time.Duration) { m.auditWrite.Observe(d.Seconds()) },
		TokensIssued:  m.tokensIssued,
		TokensRevoked: m.tokensRevoked,
	})
	if cfg.OIDC.Enabled() {
		cfg.OIDC = cfg.OIDC.withDefaults()
	}
	if cfg.StepUpAge == 0 {
		cfg.StepUpAge = DefaultStepUpAge
	}
	st.SetPasswordSignIn(store.PasswordSignIn{Policy: cfg.LocalLogin, SSOConfigured: cfg.OIDC.Enabled()})
	if err := reg.Register(newSinkCollector(st)); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{Store: st, Log: logger, Cfg: cfg, metrics: m, unauth: newUnauthGate(cfg.UnauthRate, cfg.UnauthBurst, cfg.Now),
		exportSlots: make(chan struct{}, cfg.ExportConcurrency), sinks: sink.NewDeliverer(sink.Options{Dir: cfg.SinkDir}),
		draining: make(chan struct{})}
	if s.ui, err = newUI(ctx, s); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.api, err = newAPI(ctx, s); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return s, nil
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
	if err := s.Store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database unreachable")
		return
	}
	if pending, err := s.Store.MigrationsPending(ctx); err != nil || pending {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database schema not migrated")
		return
	}
	fmt.Fprintln(w, "ready")
}
