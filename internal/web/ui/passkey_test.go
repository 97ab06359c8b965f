package ui_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// softKey is a software authenticator (virtualwebauthn) holding one
// credential, talking to the console as a browser would.
type softKey struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newSoftKey(e *webtest.Env, opts virtualwebauthn.AuthenticatorOptions) *softKey {
	return &softKey{rp: virtualwebauthn.RelyingParty{Name: store.TOTPIssuer, ID: "localhost", Origin: e.PublicURL},
		auth: virtualwebauthn.NewAuthenticatorWithOptions(opts), cred: softCredential()}
}

// softCredential makes a P-256 credential whose public key the library
// writes correctly. It writes the key's X and Y with big.Int.Bytes, which
// drops leading zero bytes: about one key in 64 went out 31 bytes long, and
// the console (rightly) refused to register it, failing a test now and then.
func softCredential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			panic(err) // the library's own encoding
		}
		if p, ok := k.(*ecdsa.PrivateKey); ok && len(p.X.Bytes()) == 32 && len(p.Y.Bytes()) == 32 {
			return c
		}
	}
}

// options asks the console for a ceremony's options.
func options(t *testing.T, e *webtest.Env, c *http.Client, path string) string {
	t.Helper()
	res, body := e.Post(t, c, path, nil)
	expectStatus(t, "options "+path, res.StatusCode, http.StatusOK, body)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("options %s: Content-Type %q, want JSON", path, ct)
	}
	return body
}

// register registers the key's credential for the signed-in browser c,
// named name.
func (k *softKey) register(t *testing.T, e *webtest.Env, c *http.Client, name string) (*http.Response, string) {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(options(t, e, c, "/account/passkeys/options"))
	if err != nil {
		t.Fatal(err)
	}
	k.auth.Options.UserHandle = []byte(opts.UserID) // a passkey keeps its person's handle
	answer := virtualwebauthn.CreateAttestationResponse(k.rp, k.auth, k.cred, *opts)
	res, body := e.Post(t, c, "/account/passkeys", url.Values{"credential": {answer}, "name": {name}})
	if res.StatusCode < 400 {
		k.auth.AddCredential(k.cred)
	}
	return res, body
}

// mustRegister registers the key as a person's first second factor.
func (k *softKey) mustRegister(t *testing.T, e *webtest.Env, c *http.Client, name string) {
	t.Helper()
	if res, body := k.register(t, e, c, name); res.StatusCode != http.StatusOK {
		t.Fatalf("register %s: got %d, want 200 (the recovery codes)\n%.500s", name, res.StatusCode, body)
	}
}

// assert answers the options of optionsPath with the key (its counter
// moved to count) and posts the answer to finishPath with form.
func (k *softKey) assert(t *testing.T, e *webtest.Env, c *http.Client, optionsPath, finishPath string, count uint32, form url.Values) (*http.Response, string) {
	t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(options(t, e, c, optionsPath))
	if err != nil {
		t.Fatal(err)
	}
	k.cred.Counter = count
	if form == nil {
		form = url.Values{}
	}
	form.Set("credential", virtualwebauthn.CreateAssertionResponse(k.rp, k.auth, k.cred, *opts))
	return e.Post(t, c, finishPath, form)
}

func passkeyEnv(t *testing.T, mods ...func(*web.Config)) *webtest.Env {
	t.Helper()
	return webtest.NewEnv(t, append([]func(*web.Config){webtest.PasskeysOnLocalhost, func(c *web.Config) { c.TrustProxy = true }}, mods...)...)
}

func TestPasskey_RegisterSeveralNameThemAndSignInWithOneAsSecondFactor(t *testing.T) {
	t.Parallel()
	e := passkeyEnv(t)
	c := e.SignIn(t, "tina", store.RoleOperator)
	status, page := e.Get(t, c, "/account")
	expectStatus(t, "account page", status, http.StatusOK, page)
	expectIn(t, "account page", page, `data-testid="passkey-register"`, `src="/static/passkey.js"`)

	yubikey := newSoftKey(e, virtualwebauthn.AuthenticatorOptions{})
	res, body := yubikey.register(t, e, c, "YubiKey 5C")
	expectStatus(t, "the first passkey", res.StatusCode, http.StatusOK, body)
	if n := len(recoveryCodePattern.FindAllString(body, -1)); n != 10 {
		t.Errorf("recovery codes with the first passkey: got %d, want 10", n)
	}
	laptop := newSoftKey(e, virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	res, body = laptop.register(t, e, c, "work laptop")
	expectRedirect(t, "the second passkey", res, body, "/account?notice=passkey-added")
	if n := e.Events(t, "mfa.passkey_register", store.OutcomeSuccess); n != 2 {
		t.Errorf("mfa.passkey_register events: got %d, want 2", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM operator_passkeys WHERE name = 'work laptop' AND backup_eligible AND backup_state
		AND user_present AND user_verified AND octet_length(aaguid) = 16`); n != 1 {
		t.Errorf("the laptop's passkey was not stored with its flags and AAGUID")
	}
	res, body = yubikey.register(t, e, c, "the same key again")
	expectStatus(t, "the same credential again", res.StatusCode, http.StatusConflict, body)
	if n := e.Events(t, "mfa.passkey_register", store.OutcomeDenied); n != 1 {
		t.Errorf("denied mfa.passkey_register events: got %d, want 1", n)
	}

	id := e.Count(t, `SELECT id FROM operator_passkeys WHERE name = 'YubiKey 5C'`)
	path := "/account/passkeys/" + strconv.Itoa(id)
	res, body = e.Post(t, c, path+"/rename", url.Values{"name": {"Blue key"}})
	expectRedirect(t, "rename", res, body, "/account?notice=passkey-renamed")
	res, body = e.Post(t, c, path+"/rename", url.Values{"name": {"  "}})
	expectStatus(t, "an empty name", res.StatusCode, http.StatusUnprocessableEntity, body)
	status, page = e.Get(t, c, "/account")
	expectStatus(t, "account page", status, http.StatusOK, page)
	expectIn(t, "account page", page, `value="Blue key"`, `value="work laptop"`, "synced passkey", "on one device")

	// The password alone is not enough now; a passkey is the second factor.
	b := passwordStep(t, e, "tina", nil)
	status, page = e.Get(t, b, "/login/second-factor")
	expectStatus(t, "second-factor page", status, http.StatusOK, page)
	expectIn(t, "second-factor page", page, `data-testid="passkey-second_factor"`)
	res, body = yubikey.assert(t, e, b, "/login/second-factor/passkey/options", "/login/second-factor/passkey", 1, nil)
	expectRedirect(t, "the passkey as second factor", res, body, "/")
	if status, _ := e.Get(t, b, "/projects"); status != http.StatusOK {
		t.Fatalf("signed in with a passkey: GET /projects got %d, want 200", status)
	}
	if n := eventsWith(t, e, "auth.second_factor", store.OutcomeSuccess, "method", "passkey"); n != 1 {
		t.Errorf("auth.second_factor events by passkey: got %d, want 1", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM operator_passkeys WHERE id = $1 AND sign_count = 1 AND last_used_at IS NOT NULL`, id); n != 1 {
		t.Error("the passkey's counter and last use were not kept")
	}

	// A key she does not own, or an answer used once already, gets nobody in.
	stranger := newSoftKey(e, virtualwebauthn.AuthenticatorOptions{})
	stranger.auth.AddCredential(stranger.cred)
	b = passwordStep(t, e, "tina", nil)
	res, body = stranger.assert(t, e, b, "/login/second-factor/passkey/options", "/login/second-factor/passkey", 1, nil)
	expectStatus(t, "another key", res.StatusCode, http.StatusUnauthorized, body)
	if n := eventsWith(t, e, "auth.login_failed", store.OutcomeDenied, "reason", "bad_passkey"); n != 1 {
		t.Errorf("auth.login_failed (bad_passkey) events: got %d, want 1", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM login_failures WHERE username = 'tina'`); n != 1 {
		t.Errorf("failures recorded for tina: got %d, want 1", n)
	}

	// Removal (a step-up action; the sign-in was just now).
	res, body = e.Post(t, c, "/account/passkeys/"+strconv.Itoa(e.Count(t, `SELECT id FROM operator_passkeys WHERE name = 'work laptop'`))+"/remove", nil)
	expectRedirect(t, "remove the laptop's passkey", res, body, "/account?notice=passkey-removed")
	if n := e.Events(t, "mfa.passkey_remove", store.OutcomeSuccess); n != 1 {
		t.Errorf("mfa.passkey_remove events: got %d, want 1", n)
	}
	other := e.SignIn(t, "otto", store.RoleOperator)
	res, body = e.Post(t, other, path+"/remove", nil)
	expectStatus(t, "otto removes tina's passkey", res.StatusCode, http.StatusNotFound, body)
}

func TestPasskey_ACounterThatGoesBackIsRefusedMarkedAndAudited(t *testing.T) {
	t.Parallel()
	e := passkeyEnv(t)
	c := e.SignIn(t, "tina", store.RoleOperator)
	key := newSoftKey(e, virtualwebauthn.AuthenticatorOptions{})
	key.mustRegister(t, e, c, "YubiKey")
	b := passwordStep(t, e, "tina", nil)
	res, body := key.assert(t, e, b, "/login/second-factor/passkey/options", "/login/second-factor/passkey", 7, nil)
	expectRedirect(t, "counter 7", res, body, "/")

	copyOf := passwordStep(t, e, "tina", nil)
	res, body = key.assert(t, e, copyOf, "/login/second-factor/passkey/options", "/login/second-factor/passkey", 3, nil)
	expectStatus(t, "counter 3 after 7", res.StatusCode, http.StatusUnauthorized, body)
	expectIn(t, "counter 3 after 7", body, "may have been copied")
	if n := e.Count(t, `SELECT count(*) FROM operator_passkeys WHERE clone_warning AND sign_count = 7`); n != 1 {
		t.Error("the passkey was not marked (or its counter moved back)")
	}
	if n := e.Events(t, "mfa.passkey_clone_warning", store.OutcomeDenied); n != 1 {
		t.Errorf("mfa.passkey_clone_warning events: got %d, want 1", n)
	}
	status, page := e.Get(t, c, "/account")
	expectStatus(t, "account page", status, http.StatusOK, page)
	expectIn(t, "account page", page, `data-testid="passkey-clone-warning"`)
}

func TestPasskey_SignInWithAPasskeyAloneNeedsItsPINOrBiometric(t *testing.T) {
	t.Parallel()
	e := passkeyEnv(t)
	c := e.SignIn(t, "tina", store.RoleOperator)
	key := newSoftKey(e, virtualwebauthn.AuthenticatorOptions{})
	key.mustRegister(t, e, c, "phone")
	status, page := e.Get(t, e.Browser(t), "/login")
	expectStatus(t, "sign-in page", status, http.StatusOK, page)
	expectIn(t, "sign-in page", page, `data-testid="passkey-sign_in"`)

	b := e.Browser(t)
	res, body := key.assert(t, e, b, "/login/passkey/options", "/login/passkey", 1, url.Values{"next": {"/tokens"}})
	expectRedirect(t, "a passkey alone", res, body, "/tokens")
	if status, _ := e.Get(t, b, "/tokens"); status != http.StatusOK {
		t.Fatalf("signed in with a passkey alone: GET /tokens got %d, want 200", status)
	}
	if n := eventsWith(t, e, "auth.login", store.OutcomeSuccess, "method", "passkey"); n != 1 {
		t.Errorf("auth.login events by passkey: got %d, want 1", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM operators WHERE username = 'tina' AND last_login_method = 'passkey'`); n != 1 {
		t.Error("the passkey sign-in is not tina's last sign-in")
	}

	// The same key without its PIN or biometric: a second factor at most.
	key.auth.Options.UserNotVerified = true
	res, body = key.assert(t, e, e.Browser(t), "/login/passkey/options", "/login/passkey", 2, nil)
	expectStatus(t, "a passkey without user verification", res.StatusCode, http.StatusUnauthorized, body)
	key.auth.Options.UserNotVerified = false

	// A disabled person does not get in with a passkey either.
	if _, err := e.Store.SetOperatorDisabled(t.Context(), int64(e.Count(t, `SELECT id FROM operators WHERE username = 'tina'`)), true,
		webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	res, body = key.assert(t, e, e.Browser(t), "/login/passkey/options", "/login/passkey", 3, nil)
	expectStatus(t, "a disabled person's passkey", res.StatusCode, http.StatusUnauthorized, body)
	if n := eventsWith(t, e, "auth.login_failed", store.OutcomeDenied, "reason", "disabled"); n != 1 {
		t.Errorf("auth.login_failed (disabled) events: got %d, want 1", n)
	}

	// An answer that belongs to no ceremony is refused and audited.
	res, body = e.Post(t, e.Browser(t), "/login/passkey", url.Values{"credential": {`{"id":"x"}`}})
	expectStatus(t, "garbage", res.StatusCode, http.StatusUnauthorized, body)
}

func TestPasskey_StepUpWithAPasskey(t *testing.T) {
	t.Parallel()
	e := passkeyEnv(t)
	c := e.SignIn(t, "ada", store.RoleAdmin)
	key := newSoftKey(e, virtualwebauthn.AuthenticatorOptions{})
	key.mustRegister(t, e, c, "YubiKey")
	staleSessions(t, e)
	res, body := e.Post(t, c, "/apikeys", url.Values{"name": {"svc"}, "scopes": {"issue"}, "expiry": {"30d"}})
	expectStatus(t, "an API key with an old check", res.StatusCode, http.StatusForbidden, body)
	expectIn(t, "an API key with an old check", body, `data-testid="passkey-step_up"`, `data-for="apikey.create"`)
	res, body = key.assert(t, e, c, "/stepup/passkey/options", "/stepup/passkey", 1,
		url.Values{"for": {"apikey.create"}, "next": {"/apikeys"}})
	expectRedirect(t, "step-up with a passkey", res, body, "/apikeys?notice=stepped-up")
	if n := eventsWith(t, e, "auth.stepup", store.OutcomeSuccess, "method", "passkey"); n != 1 {
		t.Errorf("auth.stepup events by passkey: got %d, want 1", n)
	}
}

func TestPasskey_AConsoleReachedByABareIPOffersAuthenticatorAppsOnly(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) { c.PublicURL = "https://10.0.0.5" })
	c := e.SignIn(t, "tina", store.RoleOperator)
	res, body := e.Post(t, c, "/account/passkeys/options", nil)
	expectStatus(t, "passkey options", res.StatusCode, http.StatusNotFound, body)
	status, page := e.Get(t, c, "/account")
	expectStatus(t, "account page", status, http.StatusOK, page)
	expectIn(t, "account page", page, `data-testid="passkeys-off"`, `data-testid="totp-setup"`)
	expectNotIn(t, "account page", page, `data-testid="passkey-register"`)
	expectIn(t, "logs", e.Logs.String(), "passkeys need a domain name")
}
