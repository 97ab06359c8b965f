package ui_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestTokensPage_FindsByPrefixChannelAndTimeCountsAndExports(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	room := func(id string) func(*store.IssueRequest) {
		return func(r *store.IssueRequest) { r.RoomID = id }
	}
	e.IssueFor(t, 1001, "student-1", room("class-a"))
	e.IssueFor(t, 1001, "student-2", room("class-b"))
	teacher := e.IssueFor(t, 1001, "teacher", room("class-a"), func(r *store.IssueRequest) { r.Channel = store.ChannelCLI })
	c := e.SignIn(t, "audrey", store.RoleAuditor)

	for _, tc := range []struct {
		query         string
		total         string
		want, wantNot []string
	}{
		{"user=stud", "Tokens 1–2 of 2", []string{"student-1", "student-2"}, []string{">teacher<"}},
		{"room=class-a", "Tokens 1–2 of 2", []string{"student-1", ">teacher<"}, []string{"student-2"}},
		{"channel=cli", "Tokens 1–1 of 1", []string{">teacher<"}, []string{"student-1"}},
		{"from=2000-01-01&to=2001-01-01", "Tokens 0 of 0", nil, []string{"student-1"}},
		{"", "Tokens 1–3 of 3", []string{`aria-sort="descending"`, `href="/tokens?sort=issued"`, `href="/tokens/export?"`}, nil},
	} {
		status, page := e.Get(t, c, "/tokens?"+tc.query)
		expectStatus(t, tc.query, status, http.StatusOK, page)
		expectIn(t, tc.query, page, append(tc.want, `data-testid="tokens-total">`+tc.total+`<`)...)
		expectNotIn(t, tc.query, page, tc.wantNot...)
	}
	status, page := e.Get(t, c, "/tokens?channel=fax")
	expectStatus(t, "a channel that is not one", status, http.StatusBadRequest, page)

	status, body := e.Get(t, c, "/tokens/export?room=class-a")
	expectStatus(t, "export", status, http.StatusOK, body)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "id" {
		t.Fatalf("export: %v, rows %q; want a header and 2 records", err, rows)
	}
	if !strings.Contains(body, teacher.Record.ID) || strings.Contains(body, teacher.Token) {
		t.Errorf("export: want the teacher's record and never a token:\n%s", body)
	}
	if n := e.Events(t, "token.export", store.OutcomeSuccess); n != 1 {
		t.Errorf("token.export events: got %d, want 1", n)
	}
}

func TestAuditPage_CountsQuickRangesAndTheDashboardHidesInspections(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	it := e.IssueFor(t, 1001, "ivan")
	c := e.SignIn(t, "otto", store.RoleOperator)
	res, body := e.Post(t, c, "/inspect", url.Values{"token": {it.Token}})
	expectStatus(t, "inspect", res.StatusCode, http.StatusOK, body)

	_, page := e.Get(t, c, "/audit?action=token.*")
	expectNotIn(t, "audit", page, "..", "1 events")
	expectIn(t, "audit", page, `data-testid="audit-total">Events 1–2 of 2<`, `data-testid="audit-range-24h"`, "action=token.%2A&amp;from=")
	_, dash := e.Get(t, c, "/")
	expectNotIn(t, "dashboard", dash, ">token.inspect<")
	expectIn(t, "dashboard", dash, ">token.issue<", `href="/?activity=all"`)
	_, dash = e.Get(t, c, "/?activity=all")
	expectIn(t, "dashboard, all activity", dash, ">token.inspect<", "Hide inspections")
}
