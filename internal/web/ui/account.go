package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// accountPage is "My account": the person's password, second factors and
// recovery codes, and live sessions.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	ws, rawID := sessionOf(r)
	factors, err := s.Store.SecondFactors(r.Context(), ws.ID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	sessions, err := s.Store.ListSessions(r.Context(), ws.ID, rawID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, s.page(r, "My account", "account"), AccountView(AccountModel{
		Operator: ws.Operator, Factors: factors, Sessions: sessions, Passkeys: s.passkeysOn(),
		Required: s.Cfg.MustHaveSecondFactor(ws.Operator, ws.Method), StepUpAge: waitText(int(s.Cfg.StepUpAge.Seconds())),
	}))
}

// accountPasswordPage shows the form to change one's own password (the
// first admin's one-time password must be changed first of all).
func (s *Server) accountPasswordPage(w http.ResponseWriter, r *http.Request) {
	ws, _ := sessionOf(r)
	s.renderPassword(w, r, http.StatusOK, PasswordModel{Forced: ws.MustChangePassword, HasPassword: ws.HasPassword})
}

// accountPasswordSubmit changes one's own password: the current one is
// required (a wrong one counts like a failed sign-in), every other session
// ends.
func (s *Server) accountPasswordSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	ws, rawID := sessionOf(r)
	m := PasswordModel{Forced: ws.MustChangePassword, HasPassword: ws.HasPassword}
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("confirm_password") {
		m.Errors = map[string]string{"confirm_password": "does not match the new password"}
		s.renderPassword(w, r, http.StatusUnprocessableEntity, m)
		return
	}
	var invalid map[string]string
	refused := func(status int, msg string) {
		m.Errors = map[string]string{"current_password": msg}
		s.renderPassword(w, r, status, m)
	}
	if !s.checked(w, r, "account.password_change", refused, func() error {
		err := s.Store.ChangeOwnPassword(r.Context(), ws.Operator, r.PostFormValue("current_password"), next, rawID, s.Origin(r))
		if invalid = store.FieldErrors(err); invalid != nil {
			return nil // nothing was checked: no refusal
		}
		return err
	}) {
		return
	}
	if invalid != nil {
		m.Errors = invalid
		s.renderPassword(w, r, http.StatusUnprocessableEntity, m)
		return
	}
	seeOther(w, r, "/account", "password-changed")
}

func (s *Server) renderPassword(w http.ResponseWriter, r *http.Request, status int, m PasswordModel) {
	s.render(w, r, status, s.page(r, "Change password", "account"), PasswordView(m))
}

// totpPage shows the set-up of an authenticator app: a QR code made here
// (no outside service) and the secret as text, and asks for one code.
func (s *Server) totpPage(w http.ResponseWriter, r *http.Request) {
	s.showTOTP(w, r, http.StatusOK, nil)
}

func (s *Server) showTOTP(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	ws, _ := sessionOf(r)
	en, err := s.Store.BeginTOTP(r.Context(), ws.Operator)
	if errors.Is(err, store.ErrTOTPEnrolled) {
		seeOther(w, r, "/account", "totp-enabled")
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	qr, err := qrDataURL(en.URL)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.render(w, r, status, s.page(r, "Set up an authenticator app", "account"), TOTPView(TOTPModel{
		Secret: en.Secret, QR: qr, Errors: errs, Forced: s.duty(ws) == dutyEnrol, Passkeys: s.passkeysOn(),
	}))
}

// totpConfirm finishes the set-up with one valid code; a person's first
// second factor comes with ten recovery codes, shown once.
func (s *Server) totpConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	ws, _ := sessionOf(r)
	codes, err := s.Store.ConfirmTOTP(r.Context(), ws.Operator, r.PostFormValue("code"), web.Actor(r), s.Origin(r))
	if fe := store.FieldErrors(err); fe != nil {
		s.showTOTP(w, r, http.StatusUnprocessableEntity, fe)
		return
	}
	if errors.Is(err, store.ErrTOTPEnrolled) || err == nil && len(codes) == 0 { // on already, or codes kept from before
		seeOther(w, r, "/account", "totp-enabled")
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.renderRecoveryCodes(w, r, codes, "totp-enabled")
}

// totpRemove removes one's authenticator app (a step-up action).
func (s *Server) totpRemove(w http.ResponseWriter, r *http.Request) {
	ws, _ := sessionOf(r)
	if err := s.Store.RemoveTOTP(r.Context(), ws.Operator, web.Actor(r), s.Origin(r)); err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, "/account", "totp-removed")
}

// recoveryCodesGenerate replaces one's recovery codes and shows the new ones
// once (a step-up action).
func (s *Server) recoveryCodesGenerate(w http.ResponseWriter, r *http.Request) {
	ws, _ := sessionOf(r)
	codes, err := s.Store.GenerateRecoveryCodes(r.Context(), ws.Operator, web.Actor(r), s.Origin(r))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.renderRecoveryCodes(w, r, codes, "")
}

func (s *Server) renderRecoveryCodes(w http.ResponseWriter, r *http.Request, codes []string, notice string) {
	p := s.page(r, "Recovery codes", "account")
	p.Notice = noticeText(notice)
	s.render(w, r, http.StatusOK, p, RecoveryCodesView(codes))
}

// accountSessionEnd ends one of one's own sessions.
func (s *Server) accountSessionEnd(w http.ResponseWriter, r *http.Request) {
	ws, _ := sessionOf(r)
	if err := s.Store.EndSession(r.Context(), ws.ID, r.PathValue("key"), web.Actor(r), s.Origin(r)); errors.Is(err, store.ErrSessionNotFound) {
		s.renderError(w, r, http.StatusNotFound, "Not found", "That session has ended already.")
		return
	} else if err != nil {
		s.Fail(w, r, err)
		return
	}
	if r.PathValue("key") == ws.Key {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	seeOther(w, r, "/account", "session-ended")
}

// accountSessionsEndOthers ends every session of one's own but this one.
func (s *Server) accountSessionsEndOthers(w http.ResponseWriter, r *http.Request) {
	ws, rawID := sessionOf(r)
	if _, err := s.Store.EndOtherSessions(r.Context(), ws.ID, rawID, web.Actor(r), s.Origin(r)); err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, "/account", "sessions-ended")
}

// deviceName names a browser and system from a User-Agent, roughly, as an
// account page lists sessions ("Chrome on Linux"); "" reads as unknown.
func deviceName(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := "A browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			return browser + " on " + o.name
		}
	}
	return browser
}
