// Package ui is the console's server-rendered operator UI: templ pages beside
// their handlers, sessions and sign-in, and the static files. It works
// without JavaScript; app.js only adds comfort.
package ui

import (
	"context"
	"fmt"
	"net/http"

	"github.com/zegocloud-console/console/internal/web"
)

// Server serves the operator UI.
type Server struct {
	*web.Server
	sessions *sessionStore
}

// New builds the UI on the shared server. The session cookie keys come from
// the database so that every instance shares them.
func New(ctx context.Context, base *web.Server) (web.Face, error) {
	sessions, err := newSessionStore(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	return &Server{Server: base, sessions: sessions}, nil
}

// Fail renders the error page the error table gives for err.
func (s *Server) Fail(w http.ResponseWriter, r *http.Request, err error) {
	f := s.LogFailure(r, err)
	if f.Status == web.StatusClientClosed {
		return
	}
	s.renderError(w, r, f.Status, f.Title, f.Message)
}
