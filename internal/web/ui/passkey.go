package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// passkeyTTL is how long a passkey ceremony may take, from its options to
// the browser's answer.
const passkeyTTL = 5 * time.Minute

// newRelyingParty is the console as a WebAuthn relying party, named by
// CONSOLE_PUBLIC_URL; nil without one, or when it is a bare IP address
// (WebAuthn wants a domain: such a console offers TOTP only).
func newRelyingParty(cfg web.Config) (*webauthn.WebAuthn, error) {
	if cfg.PublicURL == "" {
		return nil, nil
	}
	po, err := web.ParsePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("CONSOLE_PUBLIC_URL: %w", err)
	}
	if po.IsIP {
		return nil, nil
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: passkeyTTL, TimeoutUVD: passkeyTTL}
	return webauthn.New(&webauthn.Config{RPID: po.RPID, RPDisplayName: store.TOTPIssuer, RPOrigins: []string{po.Origin},
		AuthenticatorSelection: protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout}})
}

// passkeysOn tells whether passkeys are available: CONSOLE_PUBLIC_URL names
// the relying party by a domain.
func (s *Server) passkeysOn() bool { return s.webauthn != nil }

// passkeysAvailable tells whether passkeys are available, answering 404
// when they are not.
func (s *Server) passkeysAvailable(w http.ResponseWriter, r *http.Request) bool {
	if !s.passkeysOn() {
		s.renderError(w, r, http.StatusNotFound, "Not found", "Passkeys are not available on this console.")
	}
	return s.passkeysOn()
}

// passkeyUser is a person as the WebAuthn library sees them.
type passkeyUser struct {
	id    []byte
	op    store.Operator
	creds []webauthn.Credential
}

func (u passkeyUser) WebAuthnID() []byte                         { return u.id }
func (u passkeyUser) WebAuthnName() string                       { return u.op.Username }
func (u passkeyUser) WebAuthnDisplayName() string                { return cmp.Or(u.op.DisplayName, u.op.Username) }
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// passkeyUserOf loads op's WebAuthn handle and credentials.
func (s *Server) passkeyUserOf(ctx context.Context, op store.Operator) (passkeyUser, error) {
	id, err := s.Store.WebAuthnUserID(ctx, op.ID)
	if err != nil {
		return passkeyUser{}, err
	}
	stored, err := s.Store.PasskeyCredentials(ctx, op.ID)
	if err != nil {
		return passkeyUser{}, err
	}
	creds, err := credentialsOf(stored)
	return passkeyUser{id: id, op: op, creds: creds}, err
}

// credentialsOf reads the credential records the store keeps.
func credentialsOf(stored []store.PasskeyCredential) ([]webauthn.Credential, error) {
	out := make([]webauthn.Credential, 0, len(stored))
	for _, sc := range stored {
		var c webauthn.Credential
		if err := json.Unmarshal(sc.Record, &c); err != nil {
			return nil, fmt.Errorf("passkey record: %w", err)
		}
		var flags protocol.AuthenticatorFlags
		for _, f := range []struct {
			on   bool
			flag protocol.AuthenticatorFlags
		}{{sc.UserPresent, protocol.FlagUserPresent}, {c.Flags.UserVerified, protocol.FlagUserVerified},
			{sc.BackupEligible, protocol.FlagBackupEligible}, {sc.BackupState, protocol.FlagBackupState}} {
			if f.on {
				flags |= f.flag
			}
		}
		c.Flags = webauthn.NewCredentialFlags(flags)
		c.Authenticator.SignCount = sc.SignCount
		out = append(out, c)
	}
	return out, nil
}

// storedCredential is c as the store keeps it.
func storedCredential(c *webauthn.Credential) (store.PasskeyCredential, error) {
	record, err := json.Marshal(c)
	if err != nil {
		return store.PasskeyCredential{}, fmt.Errorf("passkey record: %w", err)
	}
	return store.PasskeyCredential{ID: c.ID, Record: record, AAGUID: c.Authenticator.AAGUID, SignCount: c.Authenticator.SignCount,
		UserPresent: c.Flags.UserPresent, UserVerified: c.Flags.UserVerified, BackupEligible: c.Flags.BackupEligible,
		BackupState: c.Flags.BackupState, CloneWarning: c.Authenticator.CloneWarning}, nil
}

// writeJSON answers a passkey ceremony's options (or why there are none).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// passkeyOptionsFailed answers an options request that cannot be served.
func (s *Server) passkeyOptionsFailed(w http.ResponseWriter, r *http.Request, err error) {
	if !s.passkeysOn() {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Passkeys are not available on this console."})
		return
	}
	f := s.LogFailure(r, err)
	writeJSON(w, f.Status, map[string]string{"error": f.Message})
}

// beginCeremony keeps the session data of a ceremony for its finish.
func (s *Server) beginCeremony(ctx context.Context, sd *webauthn.SessionData, c store.Ceremony) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("passkey ceremony: %w", err)
	}
	c.Data = data
	return s.Store.BeginCeremony(ctx, []byte(sd.Challenge), c, passkeyTTL)
}

// finishCeremony takes the session data of the ceremony the browser's
// answer belongs to: of purpose, begun in the session sessionID.
func (s *Server) finishCeremony(ctx context.Context, challenge, purpose, sessionID string) (store.Ceremony, webauthn.SessionData, error) {
	var sd webauthn.SessionData
	c, err := s.Store.FinishCeremony(ctx, []byte(challenge), purpose, sessionID)
	if err != nil {
		return c, sd, err
	}
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return c, sd, fmt.Errorf("passkey ceremony: %w", err)
	}
	return c, sd, nil
}

// passkeyRegisterOptions begins the registration of a passkey for the
// signed-in person (POST /account/passkeys/options, JSON).
func (s *Server) passkeyRegisterOptions(w http.ResponseWriter, r *http.Request) {
	ws, rawID := sessionOf(r)
	if !s.passkeysOn() {
		s.passkeyOptionsFailed(w, r, nil)
		return
	}
	u, err := s.passkeyUserOf(r.Context(), ws.Operator)
	if err != nil {
		s.passkeyOptionsFailed(w, r, err)
		return
	}
	creation, sd, err := s.webauthn.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred))
	s.answerOptions(w, r, creation, sd, err, store.Ceremony{Purpose: store.CeremonyRegister, OperatorID: ws.ID, SessionID: rawID})
}

// answerOptions keeps the session data of a ceremony just begun (unless
// beginning failed: err) and answers its options to the browser.
func (s *Server) answerOptions(w http.ResponseWriter, r *http.Request, options any, sd *webauthn.SessionData, err error, c store.Ceremony) {
	if err == nil {
		err = s.beginCeremony(r.Context(), sd, c)
	}
	if err != nil {
		s.passkeyOptionsFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, options)
}

// passkeyRegister finishes a registration (POST /account/passkeys, a form
// with the browser's answer as JSON and the passkey's name). A person's first
// second factor comes with recovery codes, shown once.
func (s *Server) passkeyRegister(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	ws, rawID := sessionOf(r)
	if !s.passkeysAvailable(w, r) {
		return
	}
	cred, err := s.createCredential(r, ws, rawID)
	if err != nil {
		if aerr := s.Store.Audit(r.Context(), store.Event{Actor: web.Actor(r), Origin: s.Origin(r), Action: "mfa.passkey_register",
			Outcome: store.OutcomeDenied, TargetType: "operator", TargetID: strconv.FormatInt(ws.ID, 10),
			Details: map[string]any{"username": ws.Username, "reason": passkeyErrorText(err)}}); aerr != nil {
			s.Fail(w, r, aerr)
			return
		}
		s.renderError(w, r, http.StatusBadRequest, "Passkey not added",
			"The passkey's answer could not be verified, or the set-up took too long. Nothing was added: try again.")
		return
	}
	name := r.PostFormValue("name")
	if name == "" {
		name = "Passkey " + strconv.Itoa(ws.Passkeys+1)
	}
	codes, err := s.Store.AddPasskey(r.Context(), ws.Operator, name, cred, web.Actor(r), s.Origin(r))
	if errors.Is(err, store.ErrPasskeyRegistered) {
		s.renderError(w, r, http.StatusConflict, "Passkey registered already", "This passkey is registered already; nothing was added.")
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if len(codes) > 0 {
		s.renderRecoveryCodes(w, r, codes, "passkey-added")
		return
	}
	seeOther(w, r, "/account", "passkey-added")
}

// createCredential checks the browser's answer to a registration begun in
// this session and returns the new credential.
func (s *Server) createCredential(r *http.Request, ws store.WebSession, rawID string) (store.PasskeyCredential, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		return store.PasskeyCredential{}, err
	}
	c, sd, err := s.finishCeremony(r.Context(), parsed.Response.CollectedClientData.Challenge, store.CeremonyRegister, rawID)
	if err != nil {
		return store.PasskeyCredential{}, err
	}
	if c.OperatorID != ws.ID {
		return store.PasskeyCredential{}, store.ErrCeremonyNotFound
	}
	u, err := s.passkeyUserOf(r.Context(), ws.Operator)
	if err != nil {
		return store.PasskeyCredential{}, err
	}
	cred, err := s.webauthn.CreateCredential(u, sd, parsed)
	if err != nil {
		return store.PasskeyCredential{}, err
	}
	return storedCredential(cred)
}

// passkeyErrorText is what the audit trail says of a failed ceremony: the
// library's details when it gives them.
func passkeyErrorText(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details
	}
	return err.Error()
}

// passkeyRename renames one of one's passkeys.
func (s *Server) passkeyRename(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idFromPath(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	ws, _ := sessionOf(r)
	if err := s.Store.RenamePasskey(r.Context(), ws.Operator, id, r.PostFormValue("name"), web.Actor(r), s.Origin(r)); err != nil {
		s.failPasskey(w, r, err)
		return
	}
	seeOther(w, r, "/account", "passkey-renamed")
}

// passkeyRemove removes one of one's passkeys (a step-up action).
func (s *Server) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idFromPath(w, r)
	if !ok {
		return
	}
	ws, _ := sessionOf(r)
	if err := s.Store.RemovePasskey(r.Context(), ws.Operator, id, web.Actor(r), s.Origin(r)); err != nil {
		s.failPasskey(w, r, err)
		return
	}
	seeOther(w, r, "/account", "passkey-removed")
}

func (s *Server) failPasskey(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrPasskeyUnknown) {
		s.renderError(w, r, http.StatusNotFound, "Not found", "You have no such passkey. It may have been removed.")
		return
	}
	s.Fail(w, r, err)
}
