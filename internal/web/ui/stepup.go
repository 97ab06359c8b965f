package ui

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// A stepUp is a dangerous action: the person must have proved who they are
// within CONSOLE_STEPUP_AGE (at sign-in, or again on the step-up page).
type stepUp struct {
	action string                       // as its audit event names it
	what   string                       // what the person is about to do, in words
	back   func(r *http.Request) string // the page to go back to, to do it again
}

// stepUps are the routes of the dangerous actions.
var stepUps = map[string]stepUp{
	"POST /projects/{appID}/secret":      {"project.secret_rotate", "rotate a project's ServerSecret", projectPage("")},
	"POST /projects/{appID}/delete":      {"project.delete", "delete a project", projectPage("/delete")},
	"POST /apikeys":                      {"apikey.create", "create an API key", fixedPage("/apikeys")},
	"POST /operators/{id}/role":          {"operator.role_change", "change a person's role", fixedPage("/operators")},
	"POST /operators/{id}/grant":         {"operator.grant_change", "change a person's projects", fixedPage("/operators")},
	"POST /tokens/revoke-user":           {"token.revoke_user", "revoke every token of a user", fixedPage("/tokens")},
	"POST /account/totp/remove":          {"mfa.totp_remove", "remove your authenticator app", fixedPage("/account")},
	"POST /account/recovery-codes":       {"mfa.recovery_codes_generate", "make new recovery codes", fixedPage("/account")},
	"POST /account/passkeys/{id}/remove": {"mfa.passkey_remove", "remove a passkey", fixedPage("/account")},
}

func fixedPage(path string) func(*http.Request) string {
	return func(*http.Request) string { return path }
}

// projectPage is the project's page (with suffix) of the request's {appID}.
func projectPage(suffix string) func(*http.Request) string {
	return func(r *http.Request) string {
		return localPath("/projects/" + strings.Trim(r.PathValue("appID"), "/?#\\") + suffix)
	}
}

// stepUpFor is the step-up of the dangerous action named action ("": none).
func stepUpFor(action string) (stepUp, bool) {
	for _, su := range stepUps {
		if su.action == action {
			return su, true
		}
	}
	return stepUp{}, false
}

// stepUpDone tells whether the request may go on: it is no dangerous action,
// or the person proved who they are recently enough. When not, it audits
// the refusal (authz.denied, with the action) and shows the step-up page,
// which comes back to the action's page once they have.
func (s *Server) stepUpDone(w http.ResponseWriter, r *http.Request) bool {
	su, ok := stepUps[r.Pattern]
	if !ok {
		return true
	}
	ws, _ := sessionOf(r)
	if ws.VerifiedAgo <= s.Cfg.StepUpAge {
		return true
	}
	reason := "step-up required: last verified " + ws.VerifiedAgo.Round(time.Second).String() + " ago"
	if err := s.Deny(r, reason, func(e *store.Event) { e.Details["for"] = su.action }); err != nil {
		s.Fail(w, r, err)
		return false
	}
	s.renderStepUp(w, r, http.StatusForbidden, s.stepUpModel(r, su, su.back(r)))
	return false
}

// stepUpModel is the step-up page for su, going back to next: it asks for
// what the person has (a code, a passkey, else their password, else a new
// single sign-on).
func (s *Server) stepUpModel(r *http.Request, su stepUp, next string) StepUpModel {
	ws, _ := sessionOf(r)
	m := StepUpModel{For: su.action, What: su.what, Next: nextField(localPath(next)), Age: waitText(int(s.Cfg.StepUpAge.Seconds()))}
	switch {
	case hasSecondFactor(ws.Operator):
		m.Code, m.Passkey = true, ws.Passkeys > 0 && s.passkeysOn()
	case ws.HasPassword:
		m.Password = true
	case s.oidc != nil:
		m.SSOName, m.SSOURL = s.Cfg.OIDC.Name, withReauth(ssoStartURL(m.Next))
	}
	return m
}

// stepUpPage shows the step-up page on request (GET /stepup?for=…&next=…).
func (s *Server) stepUpPage(w http.ResponseWriter, r *http.Request) {
	su, _ := stepUpFor(r.URL.Query().Get("for"))
	s.renderStepUp(w, r, http.StatusOK, s.stepUpModel(r, su, r.URL.Query().Get("next")))
}

// stepUpSubmit checks the code (or password) of a step-up.
func (s *Server) stepUpSubmit(w http.ResponseWriter, r *http.Request) {
	s.stepUpWith(w, r, func(m StepUpModel, c store.FactorCheck) error {
		switch {
		case m.Code:
			_, err := s.Store.VerifyCode(r.Context(), c, r.PostFormValue("code"))
			return err
		case m.Password:
			return s.Store.VerifyPassword(r.Context(), c, r.PostFormValue("password"))
		}
		return store.ErrNoSecondFactor
	})
}

// stepUpWith finishes a step-up whose proof check verifies. A refusal
// spends the address's budget and counts towards the account's sign-in
// throttling, like a wrong password; a success makes the session verified
// now (audited as auth.stepup with the action) and goes back to the
// action's page.
func (s *Server) stepUpWith(w http.ResponseWriter, r *http.Request, check func(StepUpModel, store.FactorCheck) error) {
	if !s.readForm(w, r) {
		return
	}
	su, _ := stepUpFor(r.PostFormValue("for"))
	m := s.stepUpModel(r, su, r.PostFormValue("next"))
	ws, rawID := sessionOf(r)
	c := store.FactorCheck{Operator: ws.Operator, Purpose: store.CheckStepUp, For: su.action, SessionID: rawID, Origin: s.Origin(r)}
	refused := func(status int, msg string) {
		m.Error = msg
		s.renderStepUp(w, r, status, m)
	}
	if !s.checked(w, r, "auth.stepup_failed", refused, func() error { return check(m, c) }) {
		return
	}
	http.Redirect(w, r, withNotice(localPath(m.Next), "stepped-up"), http.StatusSeeOther)
}

// factorRefusal says how to answer a refused factor check (a wrong code or
// password, or throttling); refused is false for a success or an error of
// the console's.
func factorRefusal(w http.ResponseWriter, err error) (status int, msg string, refused bool) {
	var te *store.LoginThrottledError
	switch {
	case errors.As(err, &te):
		return http.StatusTooManyRequests, "Too many failed attempts; try again in " + waitText(web.SetRetryAfter(w, te.RetryAfter)) + ".", true
	case errors.Is(err, store.ErrLoginThrottled):
		return http.StatusTooManyRequests, "Too many failed attempts; try again later.", true
	case errors.Is(err, store.ErrBadCode):
		return http.StatusUnauthorized, "That code is not right, or it was used already. Type the code your app shows now, or one of your recovery codes.", true
	case errors.Is(err, store.ErrBadPasskey):
		return http.StatusUnauthorized, "That passkey could not be verified. Try again, or use a code.", true
	case errors.Is(err, store.ErrPasskeyCloned):
		return http.StatusUnauthorized, "This passkey's signature counter went backwards, so it may have been copied: the console refused it and marked it. Use another factor, and remove that passkey on My account.", true
	case errors.Is(err, store.ErrBadCredentials):
		return http.StatusUnauthorized, "That password is not right.", true
	case errors.Is(err, store.ErrNoSecondFactor):
		return http.StatusConflict, "There is nothing to check here: sign in again.", true
	}
	return 0, "", false
}

// withReauth asks single sign-on to have the provider sign the person in
// again (prompt=login), as a step-up.
func withReauth(startURL string) string {
	if strings.Contains(startURL, "?") {
		return startURL + "&reauth=1"
	}
	return startURL + "?reauth=1"
}
