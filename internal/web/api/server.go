// Package api is the console's JSON API under /api/v1 for backend services:
// bearer API keys with scopes and projects, per-key rate limits, strict
// request decoding, RFC 9457 problem+json errors and the OpenAPI document.
package api

import (
	"context"
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// Server serves the JSON API.
type Server struct {
	*web.Server
	limiter *keyLimiter
	done    <-chan struct{} // closed when the server shuts down: streams end
}

// New builds the API on the shared server; when ctx ends, audit streams
// end too, so that a graceful shutdown does not wait for their clients.
func New(ctx context.Context, base *web.Server) (web.Face, error) {
	return &Server{Server: base, limiter: newKeyLimiter(base.Cfg.APIRate, base.Cfg.APIBurst), done: ctx.Done()}, nil
}

// Fail answers a failed API request as a problem from the error table; only
// validation errors carry their own text (it names fields and rules, never
// secrets). The fields the UI ties other errors to are a form's, not the API's.
func (s *Server) Fail(w http.ResponseWriter, r *http.Request, err error) {
	f := s.LogFailure(r, err)
	s.problem(w, r, f.Status, f.Type, f.Detail, store.FieldErrors(err))
}
