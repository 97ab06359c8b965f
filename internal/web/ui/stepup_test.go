package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// stepUpCase is a dangerous action: its request, the page the step-up goes
// back to, what the action returns once allowed, and a query that tells
// whether it happened.
type stepUpCase struct {
	action string
	path   string
	form   url.Values
	back   string
	want   int
	done   string // SQL counting 1 once the action happened
}

func stepUpCases(t *testing.T, e *webtest.Env) []stepUpCase {
	t.Helper()
	e.CreateProject(t, 1001)
	e.CreateProject(t, 1002)
	e.CreateOperator(t, "target", store.RoleOperator)
	e.IssueAt(t, 1001, "user-1", time.Time{})
	target := e.OperatorPath(t, "target")
	return []stepUpCase{
		{"project.secret_rotate", "/projects/1001/secret", url.Values{"secret": {strings.Repeat("r", 32)}}, "/projects/1001", 303,
			`SELECT count(*) FROM project_secrets s JOIN projects p ON p.id = s.project_id WHERE p.app_id = 1001 AND s.version = 2`},
		{"apikey.create", "/apikeys", url.Values{"name": {"svc"}, "projects": {"1001"}, "scopes": {"issue"}, "expiry": {"30d"}}, "/apikeys", 200,
			`SELECT count(*) FROM api_keys WHERE name = 'svc'`},
		{"project.delete", "/projects/1002/delete", url.Values{"confirm": {"1002"}}, "/projects/1002/delete", 303,
			`SELECT count(*) FROM projects WHERE app_id = 1002 AND deleted_at IS NOT NULL`},
		{"operator.role_change", target + "/role", url.Values{"role": {"auditor"}}, "/operators", 303,
			`SELECT count(*) FROM operators WHERE username = 'target' AND role = 'auditor'`},
		{"operator.grant_change", target + "/grant", url.Values{"projects": {"1001"}}, "/operators", 303,
			`SELECT count(*) FROM operators WHERE username = 'target' AND NOT all_projects`},
		{"token.revoke_user", "/tokens/revoke-user", url.Values{"app_id": {"1001"}, "user_id": {"user-1"}}, "/tokens", 303,
			`SELECT count(*) FROM issued_tokens WHERE user_id = 'user-1' AND revoked_at IS NOT NULL`},
	}
}

func TestStepUp_EachDangerousActionWantsTheSecondFactorAgainWhenTheLastCheckIsOld(t *testing.T) {
	t.Parallel()
	f := newTOTPFixture(t, "ada", store.RoleAdmin)
	e, clock, admin, secret := f.Env, f.clock, f.c, f.secret
	cases := stepUpCases(t, e)

	for _, c := range cases {
		staleSessions(t, e)
		res, body := e.Post(t, admin, c.path, c.form)
		expectStatus(t, c.action+" with an old check", res.StatusCode, http.StatusForbidden, body)
		expectIn(t, c.action+" with an old check", body, `data-testid="stepup"`, `data-testid="stepup-code"`,
			`name="for" value="`+c.action+`"`, `name="next" value="`+c.back+`"`)
		if n := e.Count(t, c.done); n != 0 {
			t.Fatalf("%s happened without a fresh second factor", c.action)
		}
		if n := eventsWith(t, e, "authz.denied", store.OutcomeDenied, "for", c.action); n != 1 {
			t.Errorf("%s: authz.denied events for it: got %d, want 1", c.action, n)
		}

		clock.Advance(30 * time.Second) // a code is good once
		res, body = e.SendForm(t, admin, "/stepup", url.Values{"for": {c.action}, "next": {c.back},
			"code": {wrongCode(t, totpAt(t, secret, clock.Now()))}}, nil)
		expectStatus(t, c.action+": a wrong code", res.StatusCode, http.StatusUnauthorized, body)
		res, body = e.SendForm(t, admin, "/stepup", url.Values{"for": {c.action}, "next": {c.back},
			"code": {totpAt(t, secret, clock.Now())}}, nil)
		expectRedirect(t, c.action+": the step-up", res, body, c.back+"?notice=stepped-up")
		if n := eventsWith(t, e, "auth.stepup", store.OutcomeSuccess, "for", c.action); n != 1 {
			t.Errorf("%s: auth.stepup events for it: got %d, want 1", c.action, n)
		}
		if n := eventsWith(t, e, "auth.stepup_failed", store.OutcomeDenied, "for", c.action); n != 1 {
			t.Errorf("%s: auth.stepup_failed events for it: got %d, want 1", c.action, n)
		}

		res, body = e.Post(t, admin, c.path, c.form)
		expectStatus(t, c.action+" after the step-up", res.StatusCode, c.want, body)
		if n := e.Count(t, c.done); n != 1 {
			t.Errorf("%s did not happen after the step-up", c.action)
		}
	}
}

func TestStepUp_APersonWithoutASecondFactorGivesTheirPasswordAgain(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "ada", store.RoleAdmin)
	c := stepUpCases(t, e)[0]
	res, body := e.Post(t, admin, c.path, c.form)
	expectStatus(t, "just signed in", res.StatusCode, c.want, body) // the sign-in itself is the check

	staleSessions(t, e)
	res, body = e.Post(t, admin, c.path, url.Values{"secret": {strings.Repeat("s", 32)}})
	expectStatus(t, "an old check", res.StatusCode, http.StatusForbidden, body)
	expectIn(t, "an old check", body, `data-testid="stepup-password"`)
	expectNotIn(t, "an old check", body, `data-testid="stepup-code"`)
	res, body = e.Post(t, admin, "/stepup", url.Values{"for": {c.action}, "next": {c.back}, "password": {"not my password"}})
	expectStatus(t, "a wrong password", res.StatusCode, http.StatusUnauthorized, body)
	if n := e.Count(t, `SELECT count(*) FROM login_failures WHERE username = 'ada'`); n != 1 {
		t.Errorf("failures recorded for ada: got %d, want 1 (a step-up failure counts like a sign-in's)", n)
	}
	res, body = e.Post(t, admin, "/stepup", url.Values{"for": {c.action}, "next": {c.back}, "password": {webtest.TestPassword}})
	expectRedirect(t, "the password", res, body, c.back+"?notice=stepped-up")
	res, body = e.Post(t, admin, c.path, url.Values{"secret": {strings.Repeat("s", 32)}})
	expectStatus(t, "after the step-up", res.StatusCode, c.want, body)
	if n := eventsWith(t, e, "auth.stepup", store.OutcomeSuccess, "method", "password"); n != 1 {
		t.Errorf("auth.stepup events by password: got %d, want 1", n)
	}
}

func TestStepUp_ANextOutsideTheConsoleGoesToTheDashboard(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	c := e.SignIn(t, "ada", store.RoleAdmin)
	staleSessions(t, e)
	res, body := e.Post(t, c, "/stepup", url.Values{"next": {"//evil.example/x"}, "password": {webtest.TestPassword}})
	expectRedirect(t, "step-up with a foreign next", res, body, "/?notice=stepped-up")
}

func TestStepUp_ASingleSignOnPersonWithoutASecondFactorSignsInAgainAtTheProvider(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := e.Browser(t)
	e.signedInAs(t, e.signIn(t, c, person("sub-ada", "ada@acme.example", "admins")), c, "sub-ada")
	staleSessions(t, e.Env)
	res, body := e.Post(t, c, "/projects/"+strconv.Itoa(ssoAppA)+"/secret", url.Values{"secret": {strings.Repeat("r", 32)}})
	expectStatus(t, "rotate with an old check", res.StatusCode, http.StatusForbidden, body)
	start := testidHref(t, body, "stepup-sso")
	res, _ = e.Fetch(t, c, start, nil)
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(u.String(), e.idp.AuthorizationEndpoint()) {
		t.Fatalf("step-up by SSO: got %d to %q, want the provider", res.StatusCode, res.Header.Get("Location"))
	}
	if q := u.Query(); q.Get("prompt") != "login" || q.Get("max_age") != "0" {
		t.Errorf("step-up by SSO: got prompt=%q max_age=%q, want the provider to sign the person in again (login, 0)", q.Get("prompt"), q.Get("max_age"))
	}
	hop := e.callback(t, c, e.authorize(t, c, u, person("sub-ada", "ada@acme.example", "admins")))
	expectRedirect(t, "back from the provider", hop.res, hop.body, "/projects/"+strconv.Itoa(ssoAppA))
	res, body = e.Post(t, c, "/projects/"+strconv.Itoa(ssoAppA)+"/secret", url.Values{"secret": {strings.Repeat("r", 32)}})
	expectStatus(t, "rotate after signing in again", res.StatusCode, http.StatusSeeOther, body)
}

// testidHref returns the href of the link with data-testid id in page.
func testidHref(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="` + regexp.QuoteMeta(id) + `"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page lacks a link with data-testid=%q:\n%.3000s", id, page)
	}
	return html.UnescapeString(m[1])
}
