package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"golang.org/x/oauth2"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// The sign-in in progress lives in a short-lived cookie, encrypted and signed
// with the session keys (shared by every instance); its state is also
// recorded in the database, so that a callback is accepted once.
const (
	oidcFlowCookie = "console_oidc"
	oidcFlowTTL    = 10 * time.Minute
	oidcCallback   = "/auth/oidc/callback"
	oidcTimeout    = 10 * time.Second
)

// oidcFlow is what the console remembers of a sign-in between sending the
// browser to the provider and its return.
type oidcFlow struct {
	State    string
	Nonce    string
	Verifier string // PKCE code verifier; the provider got its S256 challenge
	Next     string // where to go once signed in
	Expires  time.Time
}

// oidcClient talks to the identity provider. Discovery happens at the first
// sign-in (and again after a failure), so that the console starts while the
// provider is down; go-oidc then follows the provider's key rotation.
type oidcClient struct {
	cfg      web.OIDCConfig
	mu       sync.Mutex
	provider *oidc.Provider
}

// discover returns the provider, fetching its discovery document once.
func (c *oidcClient) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, oidcTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	c.provider = p
	return p, nil
}

// oauth2Config is the client of the authorization code flow, returning to
// the configured redirect URL or the console's own callback as r reached it.
func (s *Server) oauth2Config(r *http.Request, p *oidc.Provider) *oauth2.Config {
	cfg := s.Cfg.OIDC
	redirect := cfg.RedirectURL
	if redirect == "" {
		scheme := "http"
		if s.IsHTTPS(r) {
			scheme = "https"
		}
		redirect = scheme + "://" + r.Host + oidcCallback
	}
	return &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirect, Scopes: cfg.Scopes}
}

// oidcStart sends the browser to the identity provider with a fresh state,
// nonce and PKCE (S256) challenge.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.renderError(w, r, http.StatusNotFound, "Not found", "Single sign-on is not configured on this console.")
		return
	}
	p, err := s.oidc.discover(r.Context())
	if err != nil {
		s.Log.Error("sso: discovery", "request_id", web.RequestID(r), "issuer", s.Cfg.OIDC.Issuer, "err", err)
		s.renderError(w, r, http.StatusBadGateway, "Identity provider unreachable",
			"The console could not reach "+s.Cfg.OIDC.Name+". Try again in a moment, or ask an admin to check CONSOLE_OIDC_ISSUER.")
		return
	}
	flow := oidcFlow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(r.URL.Query().Get("next")), Expires: time.Now().Add(oidcFlowTTL)}
	if err := s.Store.BeginOIDCState(r.Context(), flow.State, oidcFlowTTL); err != nil {
		s.Fail(w, r, err)
		return
	}
	encoded, err := securecookie.EncodeMulti(oidcFlowCookie, flow, s.sessions.codecs...)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	http.SetCookie(w, s.flowCookie(r, encoded, int(oidcFlowTTL.Seconds())))
	opts := []oauth2.AuthCodeOption{oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier)}
	if r.URL.Query().Get("reauth") == "1" { // a step-up: the provider must ask again
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"))
	}
	http.Redirect(w, r, s.oauth2Config(r, p).AuthCodeURL(flow.State, opts...), http.StatusSeeOther)
}

// flowCookie is the sign-in cookie: sent back only to the callback, and on
// the provider's top-level redirect (SameSite=Lax).
func (s *Server) flowCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: oidcFlowCookie, Value: value, Path: oidcCallback, MaxAge: maxAge, HttpOnly: true,
		Secure: s.IsHTTPS(r), SameSite: http.SameSiteLaxMode}
}

// oidcCallback finishes a sign-in: the state must be this browser's and
// unused, the code is exchanged with the PKCE verifier, the ID token is
// verified (signature, issuer, audience, expiry) and must carry the nonce;
// then the store maps the person's claims and a fresh session starts. Every
// refusal is audited as auth.login_failed with its reason.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.renderError(w, r, http.StatusNotFound, "Not found", "Single sign-on is not configured on this console.")
		return
	}
	http.SetCookie(w, s.flowCookie(r, "", -1)) // one callback per flow, whatever happens
	q := r.URL.Query()
	var flow oidcFlow
	c, err := r.Cookie(oidcFlowCookie)
	if err != nil || securecookie.DecodeMulti(oidcFlowCookie, c.Value, &flow, s.sessions.codecs...) != nil || time.Now().After(flow.Expires) {
		s.ssoRefused(w, r, store.OIDCIdentity{}, store.SSOStateMissing, nil)
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1 {
		s.ssoRefused(w, r, store.OIDCIdentity{}, store.SSOStateMismatch, nil)
		return
	}
	if err := s.Store.ConsumeOIDCState(r.Context(), flow.State); errors.Is(err, store.ErrOIDCStateUsed) {
		s.ssoRefused(w, r, store.OIDCIdentity{}, store.SSOStateReplayed, nil)
		return
	} else if err != nil {
		s.Fail(w, r, err)
		return
	}
	if e := q.Get("error"); e != "" {
		s.ssoRefused(w, r, store.OIDCIdentity{}, store.SSOProviderError, map[string]any{"error": e, "description": q.Get("error_description")})
		return
	}
	if flow.Verifier == "" {
		s.ssoRefused(w, r, store.OIDCIdentity{}, store.SSOVerifierMissing, nil)
		return
	}
	id, claims, reason, detail := s.redeem(r, q.Get("code"), flow)
	if reason != "" {
		s.ssoRefused(w, r, id, reason, detail)
		return
	}
	op, err := s.Store.SignInOIDC(r.Context(), id, claims, s.Cfg.OIDC.GroupsClaim, s.Origin(r))
	if reason := store.SSORefusal(err); reason != "" {
		s.renderSSORefusal(w, r, reason)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.startSession(w, r, op, store.SignInOIDC, flow.Next)
}

// redeem exchanges the code for tokens and verifies the ID token; on
// failure reason (and what the provider or the check said) is set.
func (s *Server) redeem(r *http.Request, code string, flow oidcFlow) (store.OIDCIdentity, map[string]any, string, map[string]any) {
	ctx, cancel := context.WithTimeout(r.Context(), oidcTimeout)
	defer cancel()
	p, err := s.oidc.discover(ctx)
	if err != nil {
		return store.OIDCIdentity{}, nil, store.SSOProviderError, map[string]any{"error": err.Error()}
	}
	tok, err := s.oauth2Config(r, p).Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return store.OIDCIdentity{}, nil, store.SSOCodeExchange, map[string]any{"error": err.Error()}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return store.OIDCIdentity{}, nil, store.SSOIDTokenInvalid, map[string]any{"error": "no id_token in the token response"}
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.Cfg.OIDC.ClientID}).Verify(ctx, raw)
	if err != nil {
		return store.OIDCIdentity{}, nil, store.SSOIDTokenInvalid, map[string]any{"error": err.Error()}
	}
	id := store.OIDCIdentity{Issuer: idt.Issuer, Subject: idt.Subject}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return id, nil, store.SSONonceMismatch, nil
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return id, nil, store.SSOIDTokenInvalid, map[string]any{"error": err.Error()}
	}
	id.Email, _ = claims["email"].(string)
	id.EmailVerified = claims["email_verified"] == true || claims["email_verified"] == "true"
	id.Username, _ = claims["preferred_username"].(string)
	id.Name, _ = claims["name"].(string)
	return id, claims, "", nil
}

// ssoRefused audits a refused sign-in and shows why.
func (s *Server) ssoRefused(w http.ResponseWriter, r *http.Request, id store.OIDCIdentity, reason string, detail map[string]any) {
	if err := s.Store.SSOFailed(r.Context(), id, reason, s.Origin(r), detail); store.SSORefusal(err) == "" {
		s.Fail(w, r, err)
		return
	}
	s.renderSSORefusal(w, r, reason)
}

// ssoRefusals say, for each reason, what went wrong and what to do.
var ssoRefusals = map[string]struct {
	status int
	text   string
}{
	store.SSOUnmapped:        {http.StatusForbidden, "You signed in at the identity provider, but none of your groups gives access to this console. Ask an admin to add you to a group that the console maps to a role."},
	store.SSOGroupsOverage:   {http.StatusForbidden, "Your identity provider sent a reference to your groups instead of the groups themselves (you belong to too many groups). The console does not guess: ask an admin to have the provider send only the groups assigned to this application."},
	store.SSODisabled:        {http.StatusForbidden, "Your account is disabled on this console. Ask an admin."},
	store.SSOEmailUnverified: {http.StatusForbidden, "An admin allowed your e-mail address to take over an existing account, but your identity provider does not say the address is verified. Verify it at the provider, or ask an admin."},
	store.SSOLastAdmin:       {http.StatusForbidden, "Your groups no longer make you an admin, and you are the last admin of this console, so the change was not made. Ask the provider's admin, or make someone else an admin first."},
	store.SSOStateMissing:    {http.StatusBadRequest, "This sign-in was not started in this browser, or it took longer than 10 minutes. Start again."},
	store.SSOStateMismatch:   {http.StatusBadRequest, "This sign-in answer does not belong to the sign-in started in this browser. Start again."},
	store.SSOStateReplayed:   {http.StatusBadRequest, "This sign-in answer was used already. Start again."},
	store.SSOVerifierMissing: {http.StatusBadRequest, "This sign-in is incomplete (no proof key). Start again."},
	store.SSOProviderError:   {http.StatusBadGateway, "The identity provider did not sign you in. Try again, or ask an admin."},
	store.SSOCodeExchange:    {http.StatusBadGateway, "The identity provider refused to complete the sign-in. Start again."},
	store.SSOIDTokenInvalid:  {http.StatusBadGateway, "The identity provider's answer could not be verified (signature, issuer, audience or expiry). Start again, or ask an admin."},
	store.SSONonceMismatch:   {http.StatusBadRequest, "The identity provider's answer belongs to another sign-in. Start again."},
}

// renderSSORefusal shows the sign-in page with why single sign-on failed.
func (s *Server) renderSSORefusal(w http.ResponseWriter, r *http.Request, reason string) {
	ref, ok := ssoRefusals[reason]
	if !ok {
		ref.status, ref.text = http.StatusForbidden, "Single sign-on was refused."
	}
	s.renderLogin(w, r, ref.status, LoginModel{Error: ref.text, SSOReason: reason})
}

// randomToken is 32 random bytes, base64url: a state or a nonce.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// passwordSignInOffText answers a right password that may not be used (CONSOLE_LOCAL_LOGIN).
const passwordSignInOffText = "Password sign-in is turned off for this account: use single sign-on."

// ssoLoginModel adds the single sign-on button and the local sign-in policy
// to the sign-in page.
func (s *Server) ssoLoginModel(m *LoginModel) {
	if s.oidc != nil {
		m.SSOName = s.Cfg.OIDC.Name
	}
	m.Local = s.Cfg.LocalLogin != store.LocalLoginNone
}

// ssoStartURL starts single sign-on, keeping where to go afterwards.
func ssoStartURL(next string) string {
	if next == "" {
		return "/auth/oidc/start"
	}
	return "/auth/oidc/start?next=" + urlQueryEscape(next)
}
