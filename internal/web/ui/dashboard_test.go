package ui_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestDashboard_EmptyStateTellsEachRoleWhatToDo(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	operator := e.SignIn(t, "olga", "operator")
	status, body := e.Get(t, admin, "/")
	expectStatus(t, "admin dashboard", status, http.StatusOK, body)
	expectIn(t, "admin, empty", body, `data-testid="dashboard-empty"`, `data-testid="dashboard-create-project"`, "AppID and ServerSecret")
	status, body = e.Get(t, operator, "/")
	expectStatus(t, "operator dashboard", status, http.StatusOK, body)
	expectIn(t, "operator, empty", body, `data-testid="dashboard-empty"`, "Ask an admin to add your project")
	expectNotIn(t, "operator, empty", body, `data-testid="dashboard-create-project"`, `data-testid="dashboard-new-project"`)
	expectIn(t, "latest activity", body, `data-testid="dashboard-event"`, "auth.login")
}

func TestDashboard_CountsTokensPerProjectAndDrawsTheChart(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	auditor := e.SignIn(t, "audrey", "auditor")
	e.CreateProject(t, 7)
	e.CreateProject(t, 8)
	now := time.Now()
	e.IssueAt(t, 7, "a", time.Time{})
	revoked := e.IssueAt(t, 7, "b", time.Time{})
	e.IssueAt(t, 7, "c", now.Add(-3*24*time.Hour))
	e.IssueAt(t, 8, "d", now.Add(-10*24*time.Hour))
	if _, err := e.Store.RevokeToken(t.Context(), 7, revoked.Record.ID, "test", webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}

	status, body := e.Get(t, auditor, "/")
	expectStatus(t, "dashboard", status, http.StatusOK, body)
	row7 := between(t, body, `data-testid="dashboard-project-7"`, "</tr>")
	for testID, want := range map[string]string{"issued-24h": "2", "issued-7d": "3", "active": "1", "revoked": "1"} {
		expectIn(t, "project 7 "+testID, row7, `data-testid="`+testID+`">`+want+`<`)
	}
	row8 := between(t, body, `data-testid="dashboard-project-8"`, "</tr>")
	expectIn(t, "project 8", row8, `data-testid="issued-7d">0<`, `data-testid="active">0<`)
	expectIn(t, "totals", body, `data-testid="dashboard-total-24h">2<`, `data-testid="dashboard-total-7d">3<`)

	chart := between(t, body, `<svg class="chart"`, "</svg>")
	expectIn(t, "chart", chart, `role="img"`, `<title id="dashboard-chart-title">Tokens issued per day`,
		`<desc id="dashboard-chart-desc">4 tokens were issued`)
	if n := strings.Count(chart, `<rect class="bar"`); n != 30 {
		t.Errorf("chart bars: got %d, want 30", n)
	}
	if !regexp.MustCompile(`<title>\w{3} \d{1,2} \w{3}: 2 tokens</title>`).MatchString(chart) {
		t.Error("chart: no bar says today's 2 tokens")
	}
	expectIn(t, "latest activity", body, "token.revoke", "project.create")
	expectNotIn(t, "auditor", body, `data-testid="dashboard-issue"`, `data-testid="dashboard-new-project"`)
}

// between returns the part of s from the first start to the next end.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("no %q in the body", start)
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		t.Fatalf("no %q after %q", end, start)
	}
	return s[i : i+j]
}
