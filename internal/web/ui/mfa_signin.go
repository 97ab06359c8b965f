package ui

import (
	"net/http"

	"github.com/gorilla/sessions"

	"github.com/zegocloud-console/console/internal/store"
)

// pendingSignIn returns the session of a sign-in that awaits its second
// factor. Anyone else is sent on: to the sign-in page, or, when signed in
// already, to next.
func (s *Server) pendingSignIn(w http.ResponseWriter, r *http.Request, next string) (*sessions.Session, store.WebSession, bool) {
	sess, err := s.sessions.Get(r, sessionCookie)
	if err != nil {
		s.Fail(w, r, err)
		return nil, store.WebSession{}, false
	}
	ws, ok := sess.Values[sessionInfoKey].(store.WebSession)
	switch {
	case !ok:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil, ws, false
	case ws.Stage != store.StageSecondFactor:
		http.Redirect(w, r, localPath(next), http.StatusSeeOther)
		return nil, ws, false
	}
	return sess, ws, true
}

// secondFactorPage asks a person whose password was right for their second
// factor.
func (s *Server) secondFactorPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if _, ws, ok := s.pendingSignIn(w, r, next); ok {
		s.renderSecondFactor(w, r, http.StatusOK, s.secondFactorModel(ws, next))
	}
}

func (s *Server) secondFactorModel(ws store.WebSession, next string) SecondFactorModel {
	return SecondFactorModel{Next: nextField(next), Username: ws.Username, TOTP: ws.TOTP,
		Passkey: ws.Passkeys > 0 && s.passkeysOn()}
}

// secondFactorSubmit checks the code of a sign-in's second step (a TOTP or
// a recovery code).
func (s *Server) secondFactorSubmit(w http.ResponseWriter, r *http.Request) {
	s.secondFactorWith(w, r, func(c store.FactorCheck) error {
		_, err := s.Store.VerifyCode(r.Context(), c, r.PostFormValue("code"))
		return err
	})
}

// secondFactorWith finishes a sign-in's second step whose proof check
// verifies. A refusal spends the address's budget and counts towards the
// account's throttling like a wrong password; a success signs the person in
// with a fresh session id.
func (s *Server) secondFactorWith(w http.ResponseWriter, r *http.Request, check func(store.FactorCheck) error) {
	if !s.readForm(w, r) {
		return
	}
	next := localPath(r.PostFormValue("next"))
	sess, ws, ok := s.pendingSignIn(w, r, next)
	if !ok {
		return
	}
	m := s.secondFactorModel(ws, next)
	c := store.FactorCheck{Operator: ws.Operator, Purpose: store.CheckSignIn, SessionID: sess.ID, Origin: s.Origin(r)}
	refused := func(status int, msg string) {
		m.Error = msg
		s.renderSecondFactor(w, r, status, m)
	}
	if !s.checked(w, r, "auth.login_failed", refused, func() error { return check(c) }) {
		return
	}
	s.completeSignIn(w, r, sess, ws.Operator, next)
}

// completeSignIn replaces a sign-in's pending session with a complete one
// (a fresh id) and goes on to next.
func (s *Server) completeSignIn(w http.ResponseWriter, r *http.Request, sess *sessions.Session, op store.Operator, next string) {
	sess.Values[sessionOperatorKey] = op
	sess.Values[sessionStageKey] = ""
	sess.Values[sessionMethodKey] = store.SignInPassword
	if err := sess.Save(r, w); err != nil {
		s.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
}

func (s *Server) renderSecondFactor(w http.ResponseWriter, r *http.Request, status int, m SecondFactorModel) {
	s.render(w, r, status, s.page(r, "Second factor", ""), SecondFactorView(m))
}

func (s *Server) renderStepUp(w http.ResponseWriter, r *http.Request, status int, m StepUpModel) {
	s.render(w, r, status, s.page(r, "Confirm it is you", ""), StepUpView(m))
}
