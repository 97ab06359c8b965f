package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/testclock"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestMFAPolicy_AnAdminWithoutASecondFactorCanOnlyEnrolOrSignOut(t *testing.T) {
	t.Parallel()
	clock := testclock.New(totpStart)
	e := webtest.NewEnvWith(t, []store.Option{store.WithLoginClock(clock.Now)}, func(c *web.Config) { c.MFA = web.MFAAdmins })
	admin := e.SignIn(t, "ada", store.RoleAdmin)
	for _, path := range []string{"/", "/projects", "/operators", "/account", "/account/password", "/stepup"} {
		res, body := e.Fetch(t, admin, path, nil)
		expectRedirect(t, "admin before enrolment, GET "+path, res, body, "/account/totp")
	}
	denied := e.Events(t, "authz.denied", store.OutcomeDenied)
	res, body := e.Post(t, admin, "/projects", projectForm("1001", "Too early", webtest.TestSecret))
	expectRedirect(t, "admin before enrolment, POST /projects", res, body, "/account/totp")
	if n := e.Count(t, `SELECT count(*) FROM projects`); n != 0 {
		t.Fatalf("a project was created before the admin enrolled")
	}
	if n := e.Events(t, "authz.denied", store.OutcomeDenied); n != denied+1 {
		t.Errorf("authz.denied events: got %d, want %d", n, denied+1)
	}
	status, page := e.Get(t, admin, "/account/totp")
	expectStatus(t, "the enrolment page", status, http.StatusOK, page)
	expectIn(t, "the enrolment page", page, `data-testid="enrol-forced"`)
	res, body = e.Post(t, admin, "/logout", nil)
	expectRedirect(t, "sign-out before enrolment", res, body, "/login")

	admin = e.Browser(t)
	res, body = e.Post(t, admin, "/login", url.Values{"username": {"ada"}, "password": {webtest.TestPassword}})
	expectRedirect(t, "sign in again", res, body, "/")
	enrolTOTP(t, e, admin, clock)
	if status, page := e.Get(t, admin, "/projects"); status != http.StatusOK {
		t.Fatalf("admin after enrolment: GET /projects got %d, want 200\n%.500s", status, page)
	}

	// Operators are not asked, with admins.
	op := e.SignIn(t, "otto", store.RoleOperator)
	if status, page := e.Get(t, op, "/projects"); status != http.StatusOK {
		t.Fatalf("operator under CONSOLE_MFA=admins: GET /projects got %d, want 200\n%.500s", status, page)
	}
}

func TestMFAPolicy_AllAsksEveryone(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) { c.MFA = web.MFAAll })
	for _, role := range []string{store.RoleOperator, store.RoleAuditor} {
		c := e.SignIn(t, "someone-"+role, role)
		res, body := e.Fetch(t, c, "/tokens", nil)
		expectRedirect(t, role+" under CONSOLE_MFA=all", res, body, "/account/totp")
	}
}

func TestMFAPolicy_TheBreakGlassAdminNeedsASecondFactorWhenSSOIsConfigured(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) {
		c.LocalLogin = store.LocalLoginAdmins
		c.OIDC = web.OIDCConfig{Issuer: "https://idp.example.test/realms/acme", ClientID: "console", ClientSecret: "secret"}
	})
	admin := e.SignIn(t, "breakglass", store.RoleAdmin)
	res, body := e.Fetch(t, admin, "/projects", nil)
	expectRedirect(t, "break-glass admin without a second factor", res, body, "/account/totp")
}
