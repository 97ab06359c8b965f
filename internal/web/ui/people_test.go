package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
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

func TestReadableNames_AuditAndDashboardNamePeopleTokensAndProjects(t *testing.T) {
	t.Parallel()
	e := issueProjectsEnv(t)
	op := e.SignIn(t, "otto", store.RoleOperator)
	res, body := e.Post(t, op, "/issue", url.Values{"app_id": {"1234567890"}, "user_id": {"alice"}, "room_id": {"room-1"}, "login": {"1"}, "mode": {"gcm"}})
	expectStatus(t, "issue", res.StatusCode, http.StatusOK, body)
	aud := e.SignIn(t, "audrey", store.RoleAuditor)
	for _, path := range []string{"/audit?action=token.issue", "/"} {
		_, page := e.Get(t, aud, path)
		expectIn(t, path, page, `otto <span class="muted">(operator)</span>`, "alice @ room-1", "Live classes (1234567890)")
	}
	_, tokens := e.Get(t, aud, "/tokens")
	expectIn(t, "tokens", tokens, `<td class="project-cell">Live classes (1234567890)</td>`)
}

func TestReadableNames_InspectorHeadlinesInPlainWords(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	other, _, err := token04.Generate(token04.Params{AppID: 1001, UserID: "ivan", Secret: []byte(strings.Repeat("f", 32)),
		EffectiveSeconds: 3600, Mode: token04.ModeGCM})
	if err != nil {
		t.Fatal(err)
	}
	_, body := e.Post(t, e.SignIn(t, "audrey", store.RoleAuditor), "/inspect", url.Values{"token": {other}})
	expectIn(t, "inspect a token of another secret", body, `data-reason="unknown_secret"`, "<strong>Not active: no ServerSecret kept here verifies it.</strong>")
	expectNotIn(t, "inspect a token of another secret", body, "<strong>Not active: unknown_secret")
}

func TestProjectForm_ATakenAppIDIsReportedWithTheOtherErrorsAndLinksToItsProject(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	admin := e.SignIn(t, "root", store.RoleAdmin)
	form := projectForm("1001", "Again", webtest.TestSecret)
	form.Set("max_ttl", "forever")
	res, body := e.Post(t, admin, "/projects", form)
	expectStatus(t, "create a project with a taken AppID and a bad maximum", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "the form", body, `data-testid="error-max_ttl"`, `data-testid="error-app_id"`, "already exists",
		`href="/projects/1001" data-testid="project-existing"`)
}
