package ui_test

import (
	"net/http"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestProjectPages_ARecreatedAppIDShowsNoneOfTheDeletedProjectsTokens(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	old := e.IssueFor(t, 1001, "ghost-of-1001")
	if err := e.Store.DeleteProject(t.Context(), 1001, webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	e.CreateProject(t, 1001)
	c := e.SignIn(t, "otto", store.RoleOperator)

	for _, path := range []string{"/projects/1001", "/tokens?app_id=1001", "/tokens"} {
		status, body := e.Get(t, c, path)
		expectStatus(t, "GET "+path, status, http.StatusOK, body)
		expectNotIn(t, "GET "+path, body, old.Record.ID, "ghost-of-1001")
	}
	status, body := e.Get(t, c, "/projects/1001")
	expectStatus(t, "GET /projects/1001", status, http.StatusOK, body)
	expectIn(t, "the new project's chart", body, `data-testid="project-chart" data-empty="true"`)
}
