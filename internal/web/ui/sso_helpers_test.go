package ui_test

import (
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// ssoName is the provider's name on the sign-in button in these tests.
const ssoName = "Acme SSO"

// testPerson is someone at the test identity provider: a subject, the
// claims of their ID token and, to make a faulty provider, a change to the
// registered claims (audience, expiry, nonce).
type testPerson struct {
	sub    string
	claims map[string]any
	tamper func(*mockoidc.IDTokenClaims)
}

func (p *testPerson) ID() string { return p.sub }

func (p *testPerson) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": p.sub})
}

// Claims is the ID token: the registered claims (after tamper) and the person's own.
func (p *testPerson) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if p.tamper != nil {
		p.tamper(base)
	}
	b, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	out := jwt.MapClaims{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	for k, v := range p.claims {
		out[k] = v
	}
	return out, nil
}

// person is a provider person with an e-mail the provider vouches for and groups.
func person(sub, email string, groups ...string) *testPerson {
	return &testPerson{sub: sub, claims: map[string]any{"email": email, "email_verified": true,
		"preferred_username": strings.Split(email, "@")[0], "name": "Person " + sub, "groups": groups}}
}

// testProvider is a real OpenID Provider (mockoidc) on 127.0.0.1, with a
// sign-in form of its own at the authorization endpoint for the browser
// test: the person types who they are and the provider signs them in.
type testProvider struct {
	*mockoidc.MockOIDC
	mu     sync.Mutex // the mock's stores are not safe for concurrent use
	people map[string]*testPerson
}

// newTestProvider starts the provider for t.
func newTestProvider(t *testing.T) *testProvider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.CodeChallengeMethodsSupported = []string{"S256"}
	p := &testProvider{MockOIDC: m, people: map[string]*testPerson{}}
	if err := m.AddMiddleware(p.serialise); err != nil {
		t.Fatal(err)
	}
	if err := m.AddMiddleware(p.signInForm); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

// serialise runs one provider request at a time.
func (p *testProvider) serialise(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// enrol lets the browser test's person sign in at the provider's form by name.
func (p *testProvider) enrol(name string, who *testPerson) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.people[name] = who
}

// signInForm shows a sign-in form at the authorization endpoint when the
// request names no enrolled person; the form posts the same parameters
// with the person, who is then signed in.
func (p *testProvider) signInForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != mockoidc.AuthorizationEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		_ = r.ParseForm()
		name := r.Form.Get("login_user")
		if len(p.people) == 0 {
			next.ServeHTTP(w, r) // HTTP tests queue their person instead
			return
		}
		if who, ok := p.people[name]; ok {
			p.QueueUser(who)
			r.Form.Del("login_user")
			next.ServeHTTP(w, r)
			return
		}
		var fields strings.Builder
		for k, vs := range r.Form {
			for _, v := range vs {
				fields.WriteString(`<input type="hidden" name="` + html.EscapeString(k) + `" value="` + html.EscapeString(v) + `">`)
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!DOCTYPE html><html><head><title>Acme SSO</title></head><body><h1>Acme SSO</h1>
<form method="post" action="`+mockoidc.AuthorizationEndpoint+`">`+fields.String()+`
<label>Username <input name="login_user" data-testid="idp-username"></label>
<button type="submit" data-testid="idp-submit">Sign in</button></form></body></html>`)
	})
}

// ssoEnv is a console with single sign-on against a test provider, two
// projects (A and C) and mapping rules.
type ssoEnv struct {
	*webtest.Env
	idp *testProvider
}

// SSO test projects and groups: "ops-a" operates project A only, "audit"
// audits everything, "admins" are admins.
const (
	ssoAppA = 3141592653
	ssoAppC = 2718281828
)

var ssoRules = []store.MappingRule{
	{Claim: "groups", Value: "admins", Role: store.RoleAdmin},
	{Claim: "groups", Value: "ops-a", Role: store.RoleOperator, Projects: []uint32{ssoAppA}},
	{Claim: "groups", Value: "audit", Role: store.RoleAuditor},
}

// newSSOEnv starts a provider and a console that trusts it, with mods
// applied to the console's settings.
func newSSOEnv(t *testing.T, mods ...func(*web.Config)) *ssoEnv {
	t.Helper()
	idp := newTestProvider(t)
	cfg := idp.Config()
	e := webtest.NewEnv(t, append([]func(*web.Config){func(c *web.Config) {
		c.OIDC = web.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Name: ssoName}
	}}, mods...)...)
	e.CreateProject(t, ssoAppA)
	e.CreateProject(t, ssoAppC)
	if err := e.Store.SetMappingRules(t.Context(), ssoRules, webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	return &ssoEnv{Env: e, idp: idp}
}

// ssoHop is one step of a sign-in as the browser saw it.
type ssoHop struct {
	res  *http.Response
	body string
}

// start asks the console to begin single sign-on and returns where it
// sends the browser (the provider's authorization URL).
func (e *ssoEnv) start(t *testing.T, c *http.Client) *url.URL {
	t.Helper()
	res, body := e.Fetch(t, c, "/auth/oidc/start", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: got %d, want 303\n%.400s", res.StatusCode, body)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// authorize signs who in at the provider and returns the callback URL the
// provider sends the browser to (with code and state).
func (e *ssoEnv) authorize(t *testing.T, c *http.Client, authURL *url.URL, who *testPerson) string {
	t.Helper()
	e.idp.QueueUser(who)
	res, err := c.Get(authURL.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("provider: got %d, want 302", res.StatusCode)
	}
	return res.Header.Get("Location")
}

// callback follows the provider's redirect back to the console.
func (e *ssoEnv) callback(t *testing.T, c *http.Client, callbackURL string) ssoHop {
	t.Helper()
	u, err := url.Parse(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	res, body := e.Fetch(t, c, u.RequestURI(), nil)
	return ssoHop{res, body}
}

// signIn runs the whole sign-in of who in browser c and returns the
// console's answer to the callback.
func (e *ssoEnv) signIn(t *testing.T, c *http.Client, who *testPerson) ssoHop {
	t.Helper()
	return e.callback(t, c, e.authorize(t, c, e.start(t, c), who))
}

// refusedFor requires the callback's answer to be the sign-in page with a
// refusal for reason, with status, and one auth.login_failed event naming it.
func (e *ssoEnv) refusedFor(t *testing.T, hop ssoHop, status int, reason string) {
	t.Helper()
	if hop.res.StatusCode != status {
		t.Errorf("%s: got status %d, want %d\n%.600s", reason, hop.res.StatusCode, status, hop.body)
	}
	if !strings.Contains(hop.body, `data-sso-reason="`+reason+`"`) || !strings.Contains(hop.body, `data-testid="login-error"`) {
		t.Errorf("%s: the sign-in page does not say why\n%.1500s", reason, hop.body)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'auth.login_failed' AND outcome = 'denied'
		AND details->>'reason' = $1 AND details->>'method' = 'oidc'`, reason); n != 1 {
		t.Errorf("%s: got %d auth.login_failed events with this reason, want 1", reason, n)
	}
	if c := sessionCookieIn(hop.res); c != nil && c.MaxAge >= 0 {
		t.Errorf("%s: a refused sign-in set a session cookie", reason)
	}
}

// signedInAs requires the callback's answer to start a session and lead to
// the dashboard, and returns the person as the store has them.
func (e *ssoEnv) signedInAs(t *testing.T, hop ssoHop, c *http.Client, sub string) store.Operator {
	t.Helper()
	if hop.res.StatusCode != http.StatusSeeOther || hop.res.Header.Get("Location") != "/" {
		t.Fatalf("sign-in of %s: got %d to %q, want 303 to /\n%.800s", sub, hop.res.StatusCode, hop.res.Header.Get("Location"), hop.body)
	}
	if status, body := e.Get(t, c, "/"); status != http.StatusOK {
		t.Fatalf("dashboard after sign-in of %s: got %d\n%.400s", sub, status, body)
	}
	id := e.Count(t, `SELECT operator_id FROM operator_identities WHERE subject = $1`, sub)
	op, err := e.Store.OperatorByID(t.Context(), int64(id))
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// expired moves an ID token's expiry an hour into the past.
func expired(c *mockoidc.IDTokenClaims) {
	c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
	c.IssuedAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
	c.NotBefore = c.IssuedAt
}
