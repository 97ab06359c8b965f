package web

import (
	"errors"
	"net/http"
	"strings"
)

// A Face is one of the console's two faces, the browser UI or the JSON API:
// it registers its own routes and answers its own failures (an HTML page or
// a problem+json body).
type Face interface {
	// Routes registers the face's routes on mux.
	Routes(mux *http.ServeMux)
	// Fail answers a request of this face that failed with err.
	Fail(w http.ResponseWriter, r *http.Request, err error)
}

// ErrCrossOrigin is the failure of a state-changing request sent by another
// site's page.
var ErrCrossOrigin = errors.New("cross-origin request refused")

// errPanic is the failure of a handler that panicked.
var errPanic = errors.New("handler panicked")

// apiPrefix is where the JSON API lives; everything else is the UI's.
const apiPrefix = "/api/"

// Handler returns the operations routes, the UI and the API wrapped in the
// middleware chain: recovery, request id, security headers, logging and
// metrics, cross-origin protection for every state-changing request.
func (s *Server) Handler() http.Handler {
	ui, api := s.ui, s.api
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.Cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", s.metricsGuard(s.metrics.handler))
	}
	ui.Routes(mux)
	api.Routes(mux)

	faceOf := func(r *http.Request) Face {
		if strings.HasPrefix(r.URL.Path, apiPrefix) {
			return api
		}
		return ui
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.Deny(r, "cross-origin request refused")
		faceOf(r).Fail(w, r, errors.Join(ErrCrossOrigin, err))
	}))
	var h http.Handler = mux
	h = cop.Handler(h)
	h = s.withLogAndMetrics(h)
	h = s.withSecurityHeaders(h)
	h = withRequestID(h)
	h = s.withRecovery(h, func(w http.ResponseWriter, r *http.Request) { faceOf(r).Fail(w, r, errPanic) })
	return h
}
