package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// loginPage shows the sign-in form; a visitor already signed in goes on.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if sess, err := s.sessions.Get(r, sessionCookie); err == nil {
		if ws, ok := sess.Values[sessionInfoKey].(store.WebSession); ok {
			if ws.Stage == store.StageSecondFactor {
				next = secondFactorPath(next)
			}
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	s.renderLogin(w, r, http.StatusOK, LoginModel{Next: nextField(next)})
}

// loginSubmit checks the credentials and starts a fresh session: the
// session id always changes at sign-in. A refused sign-in spends its
// address's budget of refusals (web.Admit); past it, sign-ins from there are
// answered 429 before any password is checked.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	m := LoginModel{Username: strings.TrimSpace(r.PostFormValue("username")), Next: nextField(localPath(r.PostFormValue("next")))}
	password := r.PostFormValue("password")
	if m.Username == "" || password == "" {
		m.Error = "Enter your username and your password."
		s.renderLogin(w, r, http.StatusUnprocessableEntity, m)
		return
	}
	admission, wait, err := s.Admit(r, "auth.login_failed")
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if wait > 0 {
		m.Error = "Too many failed attempts from your address; try again in " + waitText(web.SetRetryAfter(w, wait)) + "."
		s.renderLogin(w, r, http.StatusTooManyRequests, m)
		return
	}
	op, err := s.Store.Authenticate(r.Context(), m.Username, password, s.Origin(r))
	if errors.Is(err, store.ErrBadCredentials) || errors.Is(err, store.ErrLoginThrottled) {
		admission.Refused() // not when signed in, or when the console failed
	}
	switch {
	case errors.Is(err, store.ErrLoginThrottled):
		wait := 15 * time.Minute
		if te := (*store.LoginThrottledError)(nil); errors.As(err, &te) {
			wait = te.RetryAfter
		}
		m.Error = "Too many failed attempts; try again in " + waitText(web.SetRetryAfter(w, wait)) + "."
		s.renderLogin(w, r, http.StatusTooManyRequests, m)
		return
	case errors.Is(err, store.ErrPasswordSignInOff):
		m.Error = passwordSignInOffText
		s.renderLogin(w, r, http.StatusForbidden, m)
		return
	case errors.Is(err, store.ErrBadCredentials):
		m.Error = "Wrong username or password."
		s.renderLogin(w, r, http.StatusUnauthorized, m)
		return
	case err != nil:
		s.Fail(w, r, err)
		return
	}
	s.startSession(w, r, op, store.SignInPassword, m.Next)
}

// logout ends the session on the server (every instance at once), clears
// the cookie and audits auth.logout.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess, err := s.sessions.Get(r, sessionCookie)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	op, signedIn := sess.Values[sessionOperatorKey].(store.Operator)
	sess.Options.MaxAge = -1
	if err := sess.Save(r, w); err != nil {
		s.Fail(w, r, err)
		return
	}
	if signedIn {
		e := store.Event{Actor: store.Actor{Type: store.ActorOperator, ID: strconv.FormatInt(op.ID, 10), Name: op.Username},
			Origin: s.Origin(r), Action: "auth.logout", Outcome: store.OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10)}
		if err := s.Store.Audit(context.WithoutCancel(r.Context()), e); err != nil {
			s.Log.Error("audit sign-out", "request_id", web.RequestID(r), "err", err)
		}
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, m LoginModel) {
	s.ssoLoginModel(&m)
	m.Passkey = m.Local && s.passkeysOn()
	s.render(w, r, status, s.page(r, "Sign in", ""), LoginView(m))
}

// waitText says a wait of seconds as a person would: "1 second",
// "40 seconds", "3 minutes" (rounded up).
func waitText(seconds int) string {
	n, unit := seconds, "second"
	if seconds > 90 {
		n, unit = (seconds+59)/60, "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.Itoa(n) + " " + unit
}

// localPath keeps a post-sign-in destination on this console: a path that
// starts with one "/", never "//" or "/\" (which browsers read as another
// host), without control characters. Anything else means the dashboard.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// nextField is the value of the form's hidden next field: empty for the dashboard.
func nextField(next string) string {
	if next == "/" {
		return ""
	}
	return next
}
