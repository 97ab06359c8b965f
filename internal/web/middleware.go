package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// contentSecurityPolicy allows only the console's own scripts, styles and
// images: no inline script, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush for streamed exports.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// withRequestID gives every request an id, echoed in X-Request-Id and kept
// in logs and audit events: the client's own X-Request-Id when it is a
// fitting one (see clientRequestID), so that a service can trace a call end
// to end, else a fresh random one.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := clientRequestID(r.Header.Values("X-Request-Id"))
		if !ok {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
	})
}

// maxClientRequestID is the longest request id taken from a client.
const maxClientRequestID = 64

// clientRequestID returns the request id a client sent when there is exactly
// one of 1 to 64 characters of [A-Za-z0-9._-]: safe in logs, headers and the
// audit trail as it is.
func clientRequestID(values []string) (string, bool) {
	if len(values) != 1 || values[0] == "" || len(values[0]) > maxClientRequestID {
		return "", false
	}
	for _, c := range []byte(values[0]) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", false
		}
	}
	return values[0], true
}

// hstsPolicy asks browsers that reached the console over TLS to use TLS only
// for two years. No includeSubDomains: the console may share its parent
// domain with sites it knows nothing of.
const hstsPolicy = "max-age=63072000"

// withSecurityHeaders sets the headers every response carries. Responses are
// no-store by default: most pages show tokens, secrets or the audit trail.
// Strict-Transport-Security is sent only over TLS (RFC 6797 §7.2), where the
// session cookie is also marked Secure.
func (s *Server) withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.IsHTTPS(r) {
			h.Set("Strict-Transport-Security", hstsPolicy)
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// withLogAndMetrics logs one line per request and feeds the metrics. It logs
// the route pattern, never the query string or body (they may hold tokens).
func (s *Server) withLogAndMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.metrics.observe(r.Pattern, r.Method, rec.status, d)
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		s.Log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", RequestID(r)), slog.String("method", r.Method),
			slog.String("route", r.Pattern), slog.Int("status", rec.status),
			slog.Duration("duration", d), slog.String("client_ip", s.ClientIP(r)))
	})
}

// withRecovery turns a panic into a 500 (answered by fail) and a log line
// instead of a dropped connection.
func (s *Server) withRecovery(next http.Handler, fail http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic", "request_id", RequestID(r), "route", r.Pattern, "panic", v)
				fail(w, r)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// ClientIP is the peer's address or, behind a trusted proxy, the address
// that proxy saw: the last X-Forwarded-For entry. Entries to its left come
// from the client and could name anyone (and so dodge per-address throttling).
func (s *Server) ClientIP(r *http.Request) string {
	if s.Cfg.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// IsHTTPS tells whether the browser reached us over TLS, directly or through
// a trusted proxy that says so.
func (s *Server) IsHTTPS(r *http.Request) bool {
	return r.TLS != nil || (s.Cfg.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// Origin describes where a request came from, for the audit trail. The
// store cleans and bounds these texts; the client chose the user agent.
func (s *Server) Origin(r *http.Request) store.Origin {
	return store.Origin{RequestID: RequestID(r), ClientIP: s.ClientIP(r), UserAgent: r.UserAgent()}
}
