package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/zegocloud-console/console/internal/kicker"
	"github.com/zegocloud-console/console/internal/sink"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/api"
	"github.com/zegocloud-console/console/internal/web/ui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// runServe starts the console: check its database role and schema, make
// sure an admin exists, seal the audit trail in the background, serve HTTP
// until SIGTERM, then drain.
func runServe(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: console serve\n\nServes the web console and the API as the runtime role in DATABASE_URL, on a schema\n"+
			"that 'console migrate' brought up to date; configured by environment variables (see README).")
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	c, err := loadConfig(e.getenv)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	logger := newLogger(e, c.LogLevel)
	st, err := c.open(ctx, e.stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := prepareSchema(ctx, st, c, logger); err != nil {
		return err
	}
	if err := ensureAdmin(ctx, st, c, e); err != nil {
		return err
	}
	if err := seedOIDCRules(ctx, st, c, logger); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := web.New(ctx, st, logger, web.Config{SessionIdle: c.SessionIdle, SessionMax: c.SessionMax, TrustProxy: c.TrustProxy,
		APIRate: c.APIRate, APIBurst: c.APIBurst, UnauthRate: c.UnauthRate, UnauthBurst: c.UnauthBurst, SealInterval: c.SealInterval,
		MetricsToken: c.MetricsToken, Version: version,
		ExportBatchTimeout: c.ExportBatchTimeout, ExportMaxDuration: c.ExportMaxDuration, ExportConcurrency: c.ExportConcurrency,
		OIDC: c.OIDC, LocalLogin: c.LocalLogin, SinkDir: c.SinkDir, MFA: c.MFA, StepUpAge: c.StepUpAge, PublicURL: c.PublicURL},
		reg, ui.New, api.New)
	if err != nil {
		return err
	}

	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	kicksDone := make(chan struct{})
	// A kick under way completes (and is recorded) before the store closes.
	defer func() {
		stopBackground()
		<-kicksDone
	}()
	go func() {
		defer close(kicksDone)
		kicker.New(st, c.zegoClient(), logger, kicker.Options{}).Run(bg)
	}()
	// The audit trail's months are ready before events reach them.
	if _, err := st.EnsureAuditPartitions(ctx, store.AuditMonthsAhead); err != nil {
		logger.Warn("audit partitions ahead failed: events go to the default partition until it succeeds", "err", err)
	}
	go runPeriodically(bg, 24*time.Hour, logger, "audit partitions ahead", func(ctx context.Context) error {
		_, err := st.EnsureAuditPartitions(ctx, store.AuditMonthsAhead)
		return err
	})
	go st.RunSealer(bg, c.SealInterval, logger)
	go runPeriodically(bg, c.SealInterval, logger, "index audit text", func(ctx context.Context) error {
		_, err := st.IndexAuditText(ctx)
		return err
	})
	if c.APIKeyCacheTTL > 0 {
		go st.RunAPIKeyCache(bg, c.APIKeyCacheTTL, logger)
	}
	if c.IssueGroupMax > 1 {
		go st.RunIssueGroupCommit(bg, store.GroupCommit{MaxBatch: c.IssueGroupMax, MaxFlushes: c.IssueGroupFlushes})
	}
	go (&sink.Runner{Store: st, Deliverer: sink.NewDeliverer(sink.Options{Dir: c.SinkDir}), Interval: c.SealInterval,
		Retry: c.SinkRetry, Log: logger}).Run(bg)
	go runPeriodically(bg, c.VerifyInterval, logger, "verify audit chain", func(ctx context.Context) error {
		_, err := st.VerifyAuditChainShared(ctx) // one at a time with the audit page's
		return err
	})
	go runPeriodically(bg, 10*time.Second, logger, "audit tallies of refused requests", func(ctx context.Context) error {
		return srv.FlushRefusals(ctx, false)
	})
	go runPeriodically(bg, 10*time.Minute, logger, "purge expired sessions", func(ctx context.Context) error {
		_, err := st.PurgeExpiredSessions(ctx)
		return err
	})
	go runPeriodically(bg, 10*time.Minute, logger, "purge expired idempotency keys", func(ctx context.Context) error {
		_, err := st.PurgeIdempotencyKeys(ctx)
		return err
	})
	go runPeriodically(bg, 10*time.Minute, logger, "prune revocation feed", func(ctx context.Context) error {
		_, err := st.PruneRevocations(ctx, time.Now().Add(-revocationFeedGrace))
		return err
	})

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	hs.RegisterOnShutdown(srv.Drain) // long polls of the revocation feed answer at once
	errc := make(chan error, 2)
	if c.MetricsAddr != "" {
		mln, err := net.Listen("tcp", c.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on CONSOLE_METRICS_ADDR %s: %w", c.MetricsAddr, err)
		}
		ms := &http.Server{Handler: metricsHandler(srv.MetricsHandler(), c.Pprof), ReadHeaderTimeout: 10 * time.Second}
		defer ms.Close()
		logger.Info("metrics listening", "addr", mln.Addr().String())
		go func() { errc <- ms.Serve(mln) }()
	}
	logger.Info("console listening", "addr", ln.Addr().String(), "url", listenURL(ln.Addr()), "version", version)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := srv.FlushRefusals(shutdownCtx, true); err != nil {
		logger.Warn("audit tallies of refused requests at shutdown failed", "err", err)
	}
	stopBackground()
	<-kicksDone
	logger.Info("stopped")
	return nil
}

// revocationFeedGrace is how long after its token expired a revocation
// stays in the feed: a service whose cursor is older reloads the snapshot.
const revocationFeedGrace = time.Hour

// prepareSchema makes sure the console serves as a role that cannot change
// the rules of its own audit trail, on a current schema. A superuser or the
// schema owner is refused unless CONSOLE_ALLOW_OWNER_ROLE is set; then, as in
// a one-role development setup, it migrates first. A runtime role never
// migrates: it is told how to.
func prepareSchema(ctx context.Context, st *store.Store, c config, logger *slog.Logger) error {
	role, err := st.CurrentRole(ctx)
	if err != nil {
		return err
	}
	if role.Privileged() {
		if !c.AllowOwnerRole {
			return &exitError{code: 2, err: fmt.Errorf("configuration: %s", ownerRoleRefusal(role))}
		}
		logger.Warn("serving as a role that may change the schema and the audit trail's rules (CONSOLE_ALLOW_OWNER_ROLE=true): for development only",
			"role", role.Name, "superuser", role.Superuser)
		n, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			logger.Info("applied migrations", "count", n)
		}
		return nil
	}
	pending, err := st.MigrationsPending(ctx)
	switch {
	case errors.Is(err, store.ErrPermissionDenied):
		return &exitError{code: 2, err: fmt.Errorf("configuration: role %q may not use the console's tables: as the schema owner run "+
			"'console db grant %s' (with CONSOLE_MIGRATE_DATABASE_URL set to the owner's connection string): %w", role.Name, role.Name, err)}
	case err != nil:
		return err
	case pending:
		return &exitError{code: 1, err: fmt.Errorf("the database schema is not current (never migrated, or older than this console), "+
			"and %q, a runtime role, does not migrate it: run 'console migrate' with CONSOLE_MIGRATE_DATABASE_URL set to the "+
			"schema owner's connection string (then, on a new database, 'console db grant %s'), and start again", role.Name, role.Name)}
	}
	return nil
}

// ownerRoleRefusal says why serve refuses role and how to set up a runtime role.
func ownerRoleRefusal(role store.DatabaseRole) string {
	why := "the owner of the console's schema"
	switch {
	case role.Superuser:
		why = "a superuser"
	case !role.OwnsSchema:
		why = "a role that may create objects in the database (PostgreSQL before 15 lets every role create in schema public: " +
			"REVOKE CREATE ON SCHEMA public FROM PUBLIC)"
	}
	return fmt.Sprintf("DATABASE_URL connects as %q, %s, which could rewrite the audit trail's rules: serve as a runtime role instead. "+
		"As the owner (CONSOLE_MIGRATE_DATABASE_URL) run 'console migrate' and 'console db grant console_runtime', give that role a "+
		"password (ALTER ROLE console_runtime PASSWORD '…', as a superuser) and point DATABASE_URL at it; see 'Database roles' in the README. "+
		"For development only, CONSOLE_ALLOW_OWNER_ROLE=true serves as this role anyway (and migrates first)", role.Name, why)
}

// newLogger writes structured JSON logs to stderr.
func newLogger(e env, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: l}))
}

// ensureAdmin creates the first admin on an empty database, with
// CONSOLE_ADMIN_PASSWORD or a generated one-time password printed once.
func ensureAdmin(ctx context.Context, st *store.Store, c config, e env) error {
	password := c.AdminPassword
	generated := password == ""
	if generated {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	created, err := st.EnsureAdmin(ctx, "admin", password, generated)
	if err != nil {
		return fmt.Errorf("create first admin: %w", err)
	}
	if created && generated {
		fmt.Fprintf(e.stderr, "\n  First admin created. Sign in as  admin  with the one-time password:\n\n      %s\n\n  It is not shown again, and must be changed at the first sign-in.\n\n", password)
	} else if created {
		fmt.Fprintln(e.stderr, "First admin 'admin' created with CONSOLE_ADMIN_PASSWORD.")
	}
	return nil
}

// runPeriodically calls fn every interval until ctx ends, logging failures.
func runPeriodically(ctx context.Context, interval time.Duration, logger *slog.Logger, what string, fn func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				logger.Warn(what+" failed", "err", err)
			}
		}
	}
}

func listenURL(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// runMigrate applies pending migrations and exits.
func runMigrate(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(e.stdout, "Usage: console migrate\n\nApplies pending database migrations as the schema owner: CONSOLE_MIGRATE_DATABASE_URL,\n"+
				"or DATABASE_URL when that is unset. Run it before starting consoles of a new version.")
			return nil
		}
		return usageError("migrate takes no arguments")
	}
	st, _, err := openOwnerStore(ctx, e, "console migrate", false)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "applied %d migration(s)\n", n)
	return nil
}

// flagError turns a flag parse error into exit code 0 for -h and 2 otherwise.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return &exitError{code: 2, err: errors.New(strings.TrimSpace(err.Error()))}
}

// metricsHandler is the metrics listener's handler: /metrics, and with
// pprof Go's profiles under /debug/pprof/ (for finding where a console's
// time goes; the listener is meant for monitoring only).
func metricsHandler(metrics http.Handler, pprof bool) http.Handler {
	if !pprof {
		return metrics
	}
	mux := http.NewServeMux()
	mux.Handle("/", metrics)
	mux.HandleFunc("GET /debug/pprof/", httppprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", httppprof.Trace)
	return mux
}
