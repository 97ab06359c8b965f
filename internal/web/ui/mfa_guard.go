package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// secondFactorTTL bounds a session that awaits its second factor.
const secondFactorTTL = 10 * time.Minute

// Where a sign-in that owes something goes: the second factor, a new
// password for a one-time one, a second factor the policy asks for.
const (
	secondFactorPagePath = "/login/second-factor"
	passwordPagePath     = "/account/password"
	totpPagePath         = "/account/totp"
)

type sessionCtxKey struct{}

// sessionCtx is the request's session: as the store knows it, and its raw
// id (from the cookie), which step-up and the account page need.
type sessionCtx struct {
	ws    store.WebSession
	rawID string
}

// sessionOf returns the signed-in request's session and its raw id.
func sessionOf(r *http.Request) (store.WebSession, string) {
	c, _ := r.Context().Value(sessionCtxKey{}).(sessionCtx)
	return c.ws, c.rawID
}

// signedIn loads the visitor's session. Someone not signed in is sent to
// the sign-in page; someone whose sign-in awaits its second factor, to the
// second-factor page; someone who owes a duty (see duty), to the page that
// discharges it, unless this is one of its routes. Otherwise it returns r
// carrying the operator and the session.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	sess, err := s.sessions.Get(r, sessionCookie)
	if err != nil {
		s.Fail(w, r, err)
		return r, false
	}
	ws, ok := sess.Values[sessionInfoKey].(store.WebSession)
	if !ok {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return r, false
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return r, false
	}
	if ws.Stage == store.StageSecondFactor {
		next := ""
		if r.Method == http.MethodGet {
			next = r.URL.RequestURI()
		}
		http.Redirect(w, r, secondFactorPath(next), http.StatusSeeOther)
		return r, false
	}
	r = web.WithOperator(r, ws.Operator)
	r = r.WithContext(context.WithValue(r.Context(), sessionCtxKey{}, sessionCtx{ws: ws, rawID: sess.ID}))
	if d := s.duty(ws); d != nil && !slices.Contains(d.routes, r.Pattern) {
		if r.Method != http.MethodGet {
			if err := s.Deny(r, d.reason); err != nil {
				s.Fail(w, r, err)
				return r, false
			}
		}
		http.Redirect(w, r, d.path, http.StatusSeeOther)
		return r, false
	}
	return r, true
}

// A duty is what a person must do before anything else, and the routes
// that do it (sign-out is outside the guard, always reachable).
type duty struct {
	path   string
	routes []string
	reason string // of the authz.denied event of a change refused meanwhile
}

var (
	dutyNewPassword = &duty{path: passwordPagePath, routes: []string{"GET /account/password", "POST /account/password"},
		reason: "the one-time password must be changed first"}
	dutyEnrol = &duty{path: totpPagePath, routes: []string{"GET /account/totp", "POST /account/totp",
		"POST /account/passkeys/options", "POST /account/passkeys"},
		reason: "a second factor must be set up first"}
)

// duty is what the signed-in person owes: a new password for the first
// admin's one-time one, or the second factor that CONSOLE_MFA (or single
// sign-on, for a password) asks of them; nil when nothing.
func (s *Server) duty(ws store.WebSession) *duty {
	switch {
	case ws.MustChangePassword:
		return dutyNewPassword
	case s.Cfg.MustHaveSecondFactor(ws.Operator, ws.Method) && !hasSecondFactor(ws.Operator):
		return dutyEnrol
	}
	return nil
}

// hasSecondFactor tells whether op has an authenticator app or a passkey.
func hasSecondFactor(op store.Operator) bool { return op.TOTP || op.Passkeys > 0 }

// secondFactorPath is the second-factor page, going on to next afterwards.
func secondFactorPath(next string) string {
	if next = nextField(localPath(next)); next == "" {
		return secondFactorPagePath
	}
	return secondFactorPagePath + "?next=" + url.QueryEscape(next)
}

// withNotice adds one of the notices of render.go to a local path.
func withNotice(path, notice string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "notice=" + url.QueryEscape(notice)
}
