// Package ui is the console's server-rendered operator UI: templ pages beside
// their handlers, sessions and sign-in, and the static files. It works
// without JavaScript; app.js only adds comfort.
package ui

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/zegocloud-console/console/internal/web"
)

// Server serves the operator UI.
type Server struct {
	*web.Server
	sessions *sessionStore
	oidc     *oidcClient        // nil without single sign-on
	webauthn *webauthn.WebAuthn // the passkeys' relying party; nil without CONSOLE_PUBLIC_URL
}

// New builds the UI on the shared server. The session cookie keys come from
// the database so that every instance shares them.
func New(ctx context.Context, base *web.Server) (web.Face, error) {
	sessions, err := newSessionStore(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	rp, err := newRelyingParty(base.Cfg)
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	if rp == nil && base.Cfg.PublicURL != "" {
		base.Log.Warn("CONSOLE_PUBLIC_URL names a bare IP address: passkeys need a domain name, so this console offers authenticator apps (TOTP) only",
			"public_url", base.Cfg.PublicURL)
	}
	s := &Server{Server: base, sessions: sessions, webauthn: rp}
	if base.Cfg.OIDC.Enabled() {
		s.oidc = &oidcClient{cfg: base.Cfg.OIDC}
	}
	return s, nil
}

// Fail renders the error page the error table gives for err.
func (s *Server) Fail(w http.ResponseWriter, r *http.Request, err error) {
	s.failAs(w, r, err, "Nothing was changed.")
}

// failAs renders the error page for err; when the console is at fault (5xx)
// the page also says what did not happen, in the words of the action
// ("No token was issued.", "The token was not revoked.").
func (s *Server) failAs(w http.ResponseWriter, r *http.Request, err error, notDone string) {
	f := s.LogFailure(r, err)
	if f.Status == web.StatusClientClosed {
		return
	}
	msg := f.Message
	if f.Status >= 500 {
		msg = notDone + " " + msg
	}
	s.renderError(w, r, f.Status, f.Title, msg)
}
