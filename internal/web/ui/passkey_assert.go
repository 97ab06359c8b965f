package ui

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// assertionOptions begins a passkey check of op (purpose: second factor or
// step-up) in the session rawID and answers the browser's options.
func (s *Server) assertionOptions(w http.ResponseWriter, r *http.Request, op store.Operator, purpose, rawID string) {
	if !s.passkeysOn() {
		s.passkeyOptionsFailed(w, r, nil)
		return
	}
	u, err := s.passkeyUserOf(r.Context(), op)
	if err != nil {
		s.passkeyOptionsFailed(w, r, err)
		return
	}
	if len(u.creds) == 0 {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "You have no passkey here: use a code."})
		return
	}
	assertion, sd, err := s.webauthn.BeginLogin(u)
	s.answerOptions(w, r, assertion, sd, err, store.Ceremony{Purpose: purpose, OperatorID: op.ID, SessionID: rawID})
}

// verifyAssertion checks the browser's answer (the form's credential) to a
// passkey check of c's person: a ceremony of purpose begun in c's session.
// Whatever fails, a bad answer included, is throttled, counted and audited
// as a failed check (store.VerifyPasskey).
func (s *Server) verifyAssertion(r *http.Request, c store.FactorCheck, purpose string) error {
	return s.Store.VerifyPasskey(r.Context(), c, func(stored []store.PasskeyCredential) (store.PasskeyCredential, error) {
		parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostFormValue("credential")))
		if err != nil {
			return store.PasskeyCredential{}, err
		}
		cer, sd, err := s.finishCeremony(r.Context(), parsed.Response.CollectedClientData.Challenge, purpose, c.SessionID)
		if err != nil {
			return store.PasskeyCredential{}, err
		}
		if cer.OperatorID != c.Operator.ID {
			return store.PasskeyCredential{}, store.ErrCeremonyNotFound
		}
		return s.validateAssertion(r.Context(), c.Operator, sd, parsed, stored)
	})
}

// validateAssertion checks an assertion against op's credentials and
// returns the credential used, updated. A clone warning is kept in it for
// the store to act on; the ceremony's own user verification is reported as
// UserVerified.
func (s *Server) validateAssertion(ctx context.Context, op store.Operator, sd webauthn.SessionData,
	parsed *protocol.ParsedCredentialAssertionData, stored []store.PasskeyCredential) (store.PasskeyCredential, error) {
	creds, err := credentialsOf(stored)
	if err != nil {
		return store.PasskeyCredential{}, err
	}
	id, err := s.Store.WebAuthnUserID(ctx, op.ID)
	if err != nil {
		return store.PasskeyCredential{}, err
	}
	u := passkeyUser{id: id, op: op, creds: creds}
	var cred *webauthn.Credential
	if len(sd.UserID) == 0 { // a passkey sign-in: the passkey named its person
		cred, err = s.webauthn.ValidateDiscoverableLogin(func(_, _ []byte) (webauthn.User, error) { return u, nil }, sd, parsed)
	} else {
		cred, err = s.webauthn.ValidateLogin(u, sd, parsed)
	}
	if err != nil {
		return store.PasskeyCredential{}, errors.New(passkeyErrorText(err))
	}
	used, err := storedCredential(cred)
	used.UserVerified = parsed.Response.AuthenticatorData.Flags.HasUserVerified()
	return used, err
}

// secondFactorPasskeyOptions begins the passkey check of a sign-in's second
// step (POST /login/second-factor/passkey/options, JSON).
func (s *Server) secondFactorPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	sess, err := s.sessions.Get(r, sessionCookie)
	if err != nil {
		s.passkeyOptionsFailed(w, r, err)
		return
	}
	ws, ok := sess.Values[sessionInfoKey].(store.WebSession)
	if !ok || ws.Stage != store.StageSecondFactor {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Your sign-in has expired: sign in again."})
		return
	}
	s.assertionOptions(w, r, ws.Operator, store.CeremonySecondFactor, sess.ID)
}

// secondFactorPasskey finishes a sign-in's second step with a passkey.
func (s *Server) secondFactorPasskey(w http.ResponseWriter, r *http.Request) {
	if s.passkeysAvailable(w, r) {
		s.secondFactorWith(w, r, func(c store.FactorCheck) error { return s.verifyAssertion(r, c, store.CeremonySecondFactor) })
	}
}

// stepUpPasskeyOptions begins the passkey check of a step-up (POST
// /stepup/passkey/options, JSON).
func (s *Server) stepUpPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	ws, rawID := sessionOf(r)
	s.assertionOptions(w, r, ws.Operator, store.CeremonyStepUp, rawID)
}

// stepUpPasskey finishes a step-up with a passkey.
func (s *Server) stepUpPasskey(w http.ResponseWriter, r *http.Request) {
	if s.passkeysAvailable(w, r) {
		s.stepUpWith(w, r, func(_ StepUpModel, c store.FactorCheck) error { return s.verifyAssertion(r, c, store.CeremonyStepUp) })
	}
}

// signInPasskeyOptions begins a sign-in with a passkey alone (POST
// /login/passkey/options, JSON): any passkey of this console, which must
// check its holder's PIN or biometric.
func (s *Server) signInPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	if !s.passkeysOn() {
		s.passkeyOptionsFailed(w, r, nil)
		return
	}
	assertion, sd, err := s.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	s.answerOptions(w, r, assertion, sd, err, store.Ceremony{Purpose: store.CeremonySignIn})
}

// signInPasskey finishes a sign-in with a passkey alone: the passkey names
// its person (its user handle); the check is throttled, counted and audited
// like a password's, and a success starts a session.
func (s *Server) signInPasskey(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	m := LoginModel{Next: nextField(localPath(r.PostFormValue("next")))}
	if !s.passkeysAvailable(w, r) {
		return
	}
	var op store.Operator
	refused := func(status int, msg string) {
		m.Error = msg
		s.renderLogin(w, r, status, m)
	}
	if !s.checked(w, r, "auth.login_failed", refused, func() error {
		parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostFormValue("credential")))
		if err != nil {
			return s.Store.PasskeySignInFailed(r.Context(), s.Origin(r), passkeyErrorText(err))
		}
		_, sd, err := s.finishCeremony(r.Context(), parsed.Response.CollectedClientData.Challenge, store.CeremonySignIn, "")
		if err != nil {
			return s.Store.PasskeySignInFailed(r.Context(), s.Origin(r), err.Error())
		}
		if op, err = s.Store.OperatorByWebAuthnID(r.Context(), parsed.Response.UserHandle); err != nil {
			return s.Store.PasskeySignInFailed(r.Context(), s.Origin(r), err.Error())
		}
		c := store.FactorCheck{Operator: op, Purpose: store.CheckPasskeySignIn, Origin: s.Origin(r)}
		return s.Store.VerifyPasskey(r.Context(), c, func(stored []store.PasskeyCredential) (store.PasskeyCredential, error) {
			return s.validateAssertion(r.Context(), op, sd, parsed, stored)
		})
	}) {
		return
	}
	s.startSession(w, r, op, store.SignInPasskey, m.Next)
}

// checked runs check within the address's budget of refusals (web.Admit,
// counted as action): past the budget it is not run. A refused check (see
// factorRefusal) spends the budget and is answered by refused; anything else
// gives it back, and an error of the console's is answered by the error
// page. It tells whether check passed.
func (s *Server) checked(w http.ResponseWriter, r *http.Request, action string, refused func(status int, msg string), check func() error) bool {
	admission, wait, err := s.Admit(r, action)
	if err != nil {
		s.Fail(w, r, err)
		return false
	}
	if wait > 0 {
		refused(http.StatusTooManyRequests, "Too many failed attempts from your address; try again in "+waitText(web.SetRetryAfter(w, wait))+".")
		return false
	}
	err = check()
	if status, msg, ok := factorRefusal(w, err); ok {
		admission.Refused() // only refusals spend the address's budget
		refused(status, msg)
		return false
	}
	if err != nil {
		s.Fail(w, r, err)
		return false
	}
	return true
}
