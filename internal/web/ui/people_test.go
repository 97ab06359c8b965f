package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestPeoplePage_SaysWhoWasAddedByTheirRole(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", store.RoleAdmin)
	status, page := e.Get(t, admin, "/operators")
	expectStatus(t, "people page", status, http.StatusOK, page)
	expectIn(t, "people page", page, "<h1>People</h1>", `data-testid="nav-operators">People<`, "Add a person", "Last sign-in")
	for role, notice := range map[string]string{
		store.RoleAuditor: "Auditor added.", store.RoleAdmin: "Admin added.", store.RoleOperator: "Operator added.",
	} {
		res, body := e.Post(t, admin, "/operators", url.Values{"username": {"new-" + role}, "role": {role}, "password": {"a long enough password"}})
		expectRedirect(t, "add an "+role, res, body, "/operators?notice="+role+"-added")
		_, page := e.Get(t, admin, res.Header.Get("Location"))
		expectIn(t, "after adding an "+role, page, notice)
		if role != store.RoleOperator {
			expectNotIn(t, "after adding an "+role, page, "Operator created", "Operator added")
		}
	}
}
