package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestOperator_CreateListsThemAndTheyCanSignIn(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	res, body := e.Post(t, admin, "/operators", url.Values{"username": {"bob"}, "display_name": {"Bob <b>B</b>"},
		"role": {"auditor"}, "password": {"a long enough password"}})
	expectRedirect(t, "create", res, body, "/operators?notice=auditor-added")
	status, body := e.Get(t, admin, "/operators")
	expectStatus(t, "list", status, http.StatusOK, body)
	expectIn(t, "list", body, `data-testid="operator-row-bob"`, `class="badge role-auditor"`, "Bob &lt;b&gt;B&lt;/b&gt;",
		`data-testid="operator-row-root"`, `data-testid="operator-new-username"`)
	expectNotIn(t, "list", body, "a long enough password")
	res, body = e.Post(t, e.Browser(t), "/login", url.Values{"username": {"bob"}, "password": {"a long enough password"}})
	expectRedirect(t, "bob signs in", res, body, "/")
}

func TestOperator_CreateRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	for name, tc := range map[string]struct {
		form  url.Values
		field string
	}{
		"short password": {url.Values{"username": {"bob"}, "role": {"operator"}, "password": {"elevenchars"}}, "password"},
		"bad username":   {url.Values{"username": {"bob smith"}, "role": {"operator"}, "password": {"a long enough password"}}, "username"},
		"taken username": {url.Values{"username": {"root"}, "role": {"operator"}, "password": {"a long enough password"}}, "username"},
		"bad role":       {url.Values{"username": {"bob"}, "role": {"superuser"}, "password": {"a long enough password"}}, "role"},
	} {
		res, body := e.Post(t, admin, "/operators", tc.form)
		expectStatus(t, name, res.StatusCode, http.StatusUnprocessableEntity, body)
		expectIn(t, name, body, `data-testid="error-`+tc.field+`"`)
		expectNotIn(t, name, body, "a long enough password", "elevenchars")
	}
	if n := e.Count(t, `SELECT count(*) FROM operators`); n != 1 {
		t.Fatalf("operators: got %d, want 1", n)
	}
}

func TestOperator_RoleChangeAndTheLastAdminGuard(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	e.CreateOperator(t, "bob", "operator")

	res, body := e.Post(t, admin, e.OperatorPath(t, "bob")+"/role", url.Values{"role": {"auditor"}})
	expectRedirect(t, "bob becomes auditor", res, body, "/operators?notice=operator-updated")
	if n := e.Count(t, `SELECT count(*) FROM operators WHERE username = 'bob' AND role = 'auditor'`); n != 1 {
		t.Fatal("bob is not an auditor")
	}
	res, body = e.Post(t, admin, e.OperatorPath(t, "root")+"/role", url.Values{"role": {"operator"}})
	expectStatus(t, "demote the last admin", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "demote the last admin", body, `data-testid="operator-alert"`, "the last enabled admin cannot be demoted")
	res, body = e.Post(t, admin, e.OperatorPath(t, "root")+"/disable", nil)
	expectStatus(t, "disable the last admin", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "disable the last admin", body, "the last enabled admin cannot be disabled")
	if n := e.Count(t, `SELECT count(*) FROM operators WHERE username = 'root' AND role = 'admin' AND NOT disabled`); n != 1 {
		t.Fatal("root is no longer an enabled admin after refused changes")
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'operator.role_change'`); n != 1 {
		t.Errorf("operator.role_change events: got %d, want 1", n)
	}
}

func TestOperator_DisableEndsSessionsAndEnableRestores(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	bobBrowser := e.SignIn(t, "bob", "operator")
	path := e.OperatorPath(t, "bob")

	res, body := e.Post(t, admin, path+"/disable", nil)
	expectRedirect(t, "disable", res, body, "/operators?notice=operator-disabled")
	res, body = e.Fetch(t, bobBrowser, "/", nil)
	expectRedirect(t, "bob after being disabled", res, body, "/login?next=%2F")
	res, body = e.Post(t, e.Browser(t), "/login", url.Values{"username": {"bob"}, "password": {webtest.TestPassword}})
	expectStatus(t, "disabled bob signs in", res.StatusCode, http.StatusUnauthorized, body)
	_, body = e.Get(t, admin, "/operators")
	expectIn(t, "list", body, `data-testid="operator-enable-bob"`)

	res, body = e.Post(t, admin, path+"/enable", nil)
	expectRedirect(t, "enable", res, body, "/operators?notice=operator-enabled")
	res, body = e.Post(t, e.Browser(t), "/login", url.Values{"username": {"bob"}, "password": {webtest.TestPassword}})
	expectRedirect(t, "enabled bob signs in", res, body, "/")
}

func TestOperator_ResetPassword(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	bobBrowser := e.SignIn(t, "bob", "operator")
	path := e.OperatorPath(t, "bob") + "/password"

	res, body := e.Post(t, admin, path, url.Values{"password": {"short"}})
	expectStatus(t, "short password", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "short password", body, "Password not changed for bob", "at least 12")
	res, body = e.Post(t, admin, path, url.Values{"password": {"a brand new passphrase"}})
	expectRedirect(t, "reset", res, body, "/operators?notice=operator-password-reset")
	res, body = e.Fetch(t, bobBrowser, "/", nil)
	expectRedirect(t, "bob's old session", res, body, "/login?next=%2F")
	res, body = e.Post(t, e.Browser(t), "/login", url.Values{"username": {"bob"}, "password": {"a brand new passphrase"}})
	expectRedirect(t, "bob with the new password", res, body, "/")
	if n := e.Events(t, "operator.password_reset", "success"); n != 1 {
		t.Errorf("operator.password_reset events: got %d, want 1", n)
	}
}

func TestOperator_GarbageOrUnknownIDIs404(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	for _, path := range []string{"/operators/abc/role", "/operators/0/disable", "/operators/999/enable", "/operators/999/password", "/operators/999/role"} {
		res, body := e.Post(t, admin, path, url.Values{"role": {"auditor"}, "password": {"a long enough password"}})
		expectStatus(t, "POST "+path, res.StatusCode, http.StatusNotFound, body)
	}
}
