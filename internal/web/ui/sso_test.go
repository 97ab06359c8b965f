package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestSSO_AuthorizationRequestCarriesS256ChallengeStateAndNonce(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := e.Browser(t)
	status, body := e.Get(t, c, "/login")
	if status != http.StatusOK || !strings.Contains(body, "Sign in with "+ssoName) ||
		strings.Index(body, `data-testid="login-sso"`) > strings.Index(body, `data-testid="login-username"`) {
		t.Fatalf("sign-in page: got %d, want the button %q above the password form\n%.1500s", status, "Sign in with "+ssoName, body)
	}
	res, _ := e.Fetch(t, c, "/auth/oidc/start?next=%2Ftokens", nil)
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: got %d to %q, want 303 to the provider", res.StatusCode, res.Header.Get("Location"))
	}
	q := u.Query()
	if !strings.HasPrefix(u.String(), e.idp.AuthorizationEndpoint()) || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 32 ||
		len(q.Get("nonce")) < 32 || q.Get("redirect_uri") != e.URL+"/auth/oidc/callback" || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorization request: got %s, want the code flow with an S256 challenge, state, nonce and the console's callback", u)
	}
	var flow *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "console_oidc" {
			flow = ck
		}
	}
	if flow == nil || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.MaxAge <= 0 || flow.MaxAge > 600 ||
		strings.Contains(flow.Value, q.Get("state")) {
		t.Errorf("flow cookie: got %+v, want an HttpOnly, SameSite=Lax cookie of at most 10 minutes that does not show the state", flow)
	}
}

func TestSSO_FirstSignInCreatesThePersonWithTheMappedRoleAndProjects(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := e.Browser(t)
	op := e.signedInAs(t, e.signIn(t, c, person("sub-olga", "olga@acme.example", "staff", "ops-a")), c, "sub-olga")
	if op.Role != store.RoleOperator || op.AllProjects || len(op.AppIDs) != 1 || op.AppIDs[0] != ssoAppA ||
		op.HasPassword || !op.SSO || op.Username != "olga" || op.LastLoginMethod != store.SignInOIDC {
		t.Errorf("got %+v, want operator olga limited to project %d, signing in by SSO only", op, ssoAppA)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'auth.login' AND actor_name = 'olga'
		AND details->>'method' = 'oidc' AND details->>'rule' = '2'`); n != 1 {
		t.Errorf("auth.login events by rule 2: got %d, want 1", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'operator.create' AND details->>'via' = 'sso'
		AND details->>'subject' = 'sub-olga'`); n != 1 {
		t.Errorf("operator.create events: got %d, want 1", n)
	}
	// The same person again: no second account.
	again := e.Browser(t)
	e.signedInAs(t, e.signIn(t, again, person("sub-olga", "olga@acme.example", "ops-a")), again, "sub-olga")
	if n := e.Count(t, `SELECT count(*) FROM operators WHERE username LIKE 'olga%'`); n != 1 {
		t.Errorf("accounts after a second sign-in: got %d, want 1", n)
	}
}

func TestSSO_PersonIsTheIssuerAndSubjectNeverTheEmailAlone(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.CreateOperator(t, "olga", store.RoleAdmin) // a local admin with the same name
	c1, c2 := e.Browser(t), e.Browser(t)
	first := e.signedInAs(t, e.signIn(t, c1, person("sub-1", "olga@acme.example", "ops-a")), c1, "sub-1")
	second := e.signedInAs(t, e.signIn(t, c2, person("sub-2", "olga@acme.example", "audit")), c2, "sub-2")
	if first.ID == second.ID || first.Username == "olga" || second.Username == "olga" || first.Role != store.RoleOperator {
		t.Errorf("got %+v and %+v, want two new accounts, neither the local admin olga", first, second)
	}
}

func TestSSO_WrongAudienceIsRefused(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	who := person("sub-a", "a@acme.example", "ops-a")
	who.tamper = func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings{"another-client"} }
	e.refusedFor(t, e.signIn(t, e.Browser(t), who), http.StatusBadGateway, store.SSOIDTokenInvalid)
	requireNobody(t, e, "sub-a")
}

func TestSSO_ExpiredIDTokenIsRefused(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	who := person("sub-x", "x@acme.example", "ops-a")
	who.tamper = expired
	e.refusedFor(t, e.signIn(t, e.Browser(t), who), http.StatusBadGateway, store.SSOIDTokenInvalid)
	requireNobody(t, e, "sub-x")
}

func TestSSO_NonceMismatchIsRefused(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	who := person("sub-n", "n@acme.example", "ops-a")
	who.tamper = func(c *mockoidc.IDTokenClaims) { c.Nonce = "a-nonce-of-another-sign-in" }
	e.refusedFor(t, e.signIn(t, e.Browser(t), who), http.StatusBadRequest, store.SSONonceMismatch)
	requireNobody(t, e, "sub-n")
}

func TestSSO_ReplayedStateIsRefused(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := e.Browser(t)
	authURL := e.start(t, c)
	flowCookies := c.Jar.Cookies(mustURL(t, e.URL+"/auth/oidc/callback"))
	callback := e.authorize(t, c, authURL, person("sub-r", "r@acme.example", "ops-a"))
	e.signedInAs(t, e.callback(t, c, callback), c, "sub-r")
	// Someone who copied the browser's flow cookie and the callback URL replays both.
	replayer := e.Browser(t)
	replayer.Jar.SetCookies(mustURL(t, e.URL+"/auth/oidc/callback"), flowCookies)
	e.refusedFor(t, e.callback(t, replayer, callback), http.StatusBadRequest, store.SSOStateReplayed)
}

func TestSSO_InterceptedCodeIsUselessWithoutTheBrowsersPKCEVerifier(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	victim, attacker := e.Browser(t), e.Browser(t)
	callback := e.authorize(t, victim, e.start(t, victim), person("sub-v", "v@acme.example", "admins"))
	// The attacker has the callback URL, not the victim's cookie with the verifier.
	e.refusedFor(t, e.callback(t, attacker, callback), http.StatusBadRequest, store.SSOStateMissing)
	// Nor can they redeem the code at the provider without the verifier.
	code := mustURL(t, callback).Query().Get("code")
	cfg := e.idp.Config()
	res, err := http.PostForm(e.idp.TokenEndpoint(), url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"client_id": {cfg.ClientID}, "client_secret": {cfg.ClientSecret}, "redirect_uri": {e.URL + "/auth/oidc/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Errorf("provider redeemed a PKCE code without its verifier")
	}
	// Pasted into a sign-in of their own, the code meets the attacker's verifier: refused.
	attackerAuth := e.start(t, attacker)
	injected := mustURL(t, callback)
	q := injected.Query()
	q.Set("state", attackerAuth.Query().Get("state"))
	injected.RawQuery = q.Encode()
	e.refusedFor(t, e.callback(t, attacker, injected.String()), http.StatusBadGateway, store.SSOCodeExchange)
	requireNobody(t, e, "sub-v")
}

func TestSSO_UnmappedGroupsAreRefusedWithAClearPage(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	hop := e.signIn(t, e.Browser(t), person("sub-u", "u@acme.example", "marketing"))
	e.refusedFor(t, hop, http.StatusForbidden, store.SSOUnmapped)
	if !strings.Contains(hop.body, "none of your groups gives access") {
		t.Errorf("refusal page does not explain\n%.1500s", hop.body)
	}
	requireNobody(t, e, "sub-u")
}

func TestSSO_GroupsOverageIsRefusedLoudly(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	who := person("sub-o", "o@acme.example")
	delete(who.claims, "groups")
	who.claims["_claim_names"] = map[string]any{"groups": "src1"}
	who.claims["_claim_sources"] = map[string]any{"src1": map[string]any{"endpoint": "https://graph.example/groups"}}
	hop := e.signIn(t, e.Browser(t), who)
	e.refusedFor(t, hop, http.StatusForbidden, store.SSOGroupsOverage)
	if !strings.Contains(hop.body, "instead of the groups themselves") {
		t.Errorf("refusal page does not explain the overage\n%.1500s", hop.body)
	}
	requireNobody(t, e, "sub-o")
}

func TestSSO_DisabledPersonIsRefusedAndTheirSessionsEnd(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := e.Browser(t)
	op := e.signedInAs(t, e.signIn(t, c, person("sub-d", "d@acme.example", "audit")), c, "sub-d")
	if _, err := e.Store.SetOperatorDisabled(t.Context(), op.ID, true, webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	res, _ := e.Fetch(t, c, "/audit", nil)
	expectRedirect(t, "disabled person's next request", res, "", "/login?next=%2Faudit")
	e.refusedFor(t, e.signIn(t, e.Browser(t), person("sub-d", "d@acme.example", "audit")), http.StatusForbidden, store.SSODisabled)
}

func TestSSO_RoleChangeAtTheProviderIsSeenAtTheNextSignIn(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := e.Browser(t)
	op := e.signedInAs(t, e.signIn(t, c, person("sub-m", "m@acme.example", "ops-a")), c, "sub-m")
	if op.Role != store.RoleOperator || op.AllProjects {
		t.Fatalf("first sign-in: got %s %v, want an operator of project A", op.Role, store.GrantOf(op))
	}
	// At the provider, m moves from ops-a to audit; the console learns it at sign-in.
	c2 := e.Browser(t)
	op = e.signedInAs(t, e.signIn(t, c2, person("sub-m", "m@acme.example", "audit")), c2, "sub-m")
	if op.Role != store.RoleAuditor || !op.AllProjects {
		t.Errorf("next sign-in: got %s %v, want an auditor of every project", op.Role, store.GrantOf(op))
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'operator.sync'
		AND details->'from'->>'role' = 'operator' AND details->'to'->>'role' = 'auditor'`); n != 1 {
		t.Errorf("operator.sync events: got %d, want 1", n)
	}
	// Both browsers now act as an auditor (roles are read at every request).
	for _, b := range []*http.Client{c, c2} {
		if status, _ := e.Get(t, b, "/issue"); status != http.StatusForbidden {
			t.Errorf("issue form for the auditor: got %d, want 403", status)
		}
	}
	// Out of every mapped group: refused, and every session of theirs ends.
	e.refusedFor(t, e.signIn(t, e.Browser(t), person("sub-m", "m@acme.example", "alumni")), http.StatusForbidden, store.SSOUnmapped)
	res, _ := e.Fetch(t, c, "/", nil)
	expectRedirect(t, "unmapped person's old session", res, "", "/login?next=%2F")
}

func TestSSO_LocalAccountIsLinkedOnlyWhenAllowedAndTheEmailIsVerified(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	local := e.CreateOperator(t, "lena", store.RoleOperator)
	if _, err := e.Store.AllowSSOLink(t.Context(), local.ID, "Lena@Acme.example", webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	unverified := person("sub-l", "lena@acme.example", "ops-a")
	unverified.claims["email_verified"] = false
	e.refusedFor(t, e.signIn(t, e.Browser(t), unverified), http.StatusForbidden, store.SSOEmailUnverified)
	c := e.Browser(t)
	op := e.signedInAs(t, e.signIn(t, c, person("sub-l", "lena@acme.example", "ops-a")), c, "sub-l")
	if op.ID != local.ID || !op.SSO || !op.HasPassword || op.AllProjects {
		t.Errorf("got %+v, want the local account lena, now also signing in by SSO, limited by the rule", op)
	}
	if n := e.Events(t, "operator.sso_link", "success"); n != 1 {
		t.Errorf("operator.sso_link events: got %d, want 1", n)
	}
}

func TestLocalLogin_AdminsOnlyWhileSSOIsConfiguredAndAuditedAsSuch(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(c *web.Config) { c.LocalLogin = store.LocalLoginAdmins })
	e.CreateOperator(t, "otto", store.RoleOperator)
	res, body := e.Post(t, e.Browser(t), "/login", url.Values{"username": {"otto"}, "password": {webtest.TestPassword}})
	expectStatus(t, "operator's password", res.StatusCode, http.StatusForbidden, body)
	if !strings.Contains(body, "Password sign-in is turned off") || sessionCookieIn(res) != nil {
		t.Errorf("operator's password: want a refusal without session\n%.1000s", body)
	}
	e.SignIn(t, "root", store.RoleAdmin)
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'auth.login' AND actor_name = 'root'
		AND details->>'method' = 'password' AND details->>'local_while_sso' = 'true'`); n != 1 {
		t.Errorf("admin's password sign-in events marked local while SSO: got %d, want 1", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'auth.login_failed' AND details->>'reason' = 'password_sign_in_off'`); n != 1 {
		t.Errorf("refused password sign-ins: got %d, want 1", n)
	}
}

func TestLocalLogin_NoneHidesThePasswordForm(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(c *web.Config) { c.LocalLogin = store.LocalLoginNone })
	_, body := e.Get(t, e.Browser(t), "/login")
	if strings.Contains(body, `data-testid="login-password"`) || !strings.Contains(body, "Sign in with "+ssoName) {
		t.Errorf("sign-in page: want only the SSO button\n%.1500s", body)
	}
}

// requireNobody fails when a refused sign-in left an account behind.
func requireNobody(t *testing.T, e *ssoEnv, sub string) {
	t.Helper()
	if n := e.Count(t, `SELECT count(*) FROM operator_identities WHERE subject = $1`, sub); n != 0 {
		t.Errorf("%s: a refused sign-in created an account", sub)
	}
	if n := e.Count(t, `SELECT count(*) FROM web_sessions`); n != 0 {
		t.Errorf("%s: got %d sessions, want none", sub, n)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
