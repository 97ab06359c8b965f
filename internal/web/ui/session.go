package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// sessionCookie is the name of the console's session cookie.
const sessionCookie = "console_session"

// Values keys: the signed-in operator; the session as the store knows it
// (stage, method, when last verified); and, before saving, the stage and
// method of a session being started.
const (
	sessionOperatorKey = "operator"
	sessionInfoKey     = "session"
	sessionStageKey    = "stage"
	sessionMethodKey   = "method"
)

// sessionStore is a gorilla/sessions Store whose sessions live in
// PostgreSQL: the cookie carries only a signed, encrypted random id, so that
// signing out, disabling an operator or resetting a password ends the
// session on every instance at once. The cookie keys are shared through the
// database, never generated per process.
type sessionStore struct {
	*web.Server
	codecs []securecookie.Codec
}

func newSessionStore(ctx context.Context, base *web.Server) (*sessionStore, error) {
	st, cfg := base.Store, base.Cfg
	hashKey, err := st.SharedKey(ctx, "session_hash_key", 64)
	if err != nil {
		return nil, fmt.Errorf("session keys: %w", err)
	}
	blockKey, err := st.SharedKey(ctx, "session_block_key", 32)
	if err != nil {
		return nil, fmt.Errorf("session keys: %w", err)
	}
	codecs := securecookie.CodecsFromPairs(hashKey, blockKey)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(cfg.SessionMax.Seconds()))
		}
	}
	return &sessionStore{Server: base, codecs: codecs}, nil
}

// Get returns the request's session, cached for the request by gorilla's registry.
func (ss *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(ss, name)
}

// New loads the session named by the cookie, or starts an empty one. An
// unknown, idle or expired session id yields an empty session, not an error.
func (ss *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(ss, name)
	sess.Options = ss.options(r)
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var rawID string
	if err := securecookie.DecodeMulti(name, c.Value, &rawID, ss.codecs...); err != nil {
		return sess, nil
	}
	ws, err := ss.Store.LookupWebSession(r.Context(), rawID, ss.Cfg.SessionIdle)
	if errors.Is(err, store.ErrSessionNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	sess.ID, sess.IsNew = rawID, false
	sess.Values[sessionOperatorKey] = ws.Operator
	sess.Values[sessionInfoKey] = ws
	return sess, nil
}

// Save starts a fresh server-side session when an operator was put into an
// unsaved one (sign-in: the id always changes), and ends it when MaxAge < 0
// (sign-out).
func (ss *sessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := ss.Store.DeleteSession(r.Context(), sess.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	op, ok := sess.Values[sessionOperatorKey].(store.Operator)
	if !ok {
		return errors.New("web: session has no operator to save")
	}
	if sess.ID != "" {
		if err := ss.Store.DeleteSession(r.Context(), sess.ID); err != nil {
			return err
		}
	}
	start := store.SessionStart{OperatorID: op.ID, MaxAge: ss.Cfg.SessionMax, Origin: ss.Origin(r)}
	start.Stage, _ = sess.Values[sessionStageKey].(string)
	start.Method, _ = sess.Values[sessionMethodKey].(string)
	if start.Stage != "" {
		start.MaxAge = min(start.MaxAge, secondFactorTTL)
	}
	rawID, err := ss.Store.StartSession(r.Context(), start)
	if err != nil {
		return err
	}
	encoded, err := securecookie.EncodeMulti(sess.Name(), rawID, ss.codecs...)
	if err != nil {
		return err
	}
	sess.ID = rawID
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

func (ss *sessionStore) options(r *http.Request) *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   int(ss.Cfg.SessionMax.Seconds()),
		HttpOnly: true,
		Secure:   ss.IsHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	}
}

// startSession signs op in by method with a fresh session (the session id
// always changes at sign-in, by password, passkey or SSO) and goes on to
// next; a password sign-in of a person with a second factor goes on to the
// second-factor page first, in a session that reaches nothing else.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, op store.Operator, method, next string) {
	sess, err := s.sessions.Get(r, sessionCookie)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	stage := ""
	if method == store.SignInPassword && (op.TOTP || op.Passkeys > 0) {
		stage, next = store.StageSecondFactor, secondFactorPath(next)
	}
	sess.Values[sessionOperatorKey] = op
	sess.Values[sessionStageKey] = stage
	sess.Values[sessionMethodKey] = method
	if err := sess.Save(r, w); err != nil {
		s.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
}
