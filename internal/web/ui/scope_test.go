package ui_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// The people of the scoping matrix: each role reaching every project, and
// an operator and an auditor reaching only project A (ssoAppA; the other
// project is C, ssoAppC).
const (
	admin       = "root"
	operatorAll = "olga"
	operatorA   = "oscar"
	auditorAll  = "audrey"
	auditorA    = "aude"
)

var matrixPeople = []string{admin, operatorAll, operatorA, auditorAll, auditorA}

// The users of each project's tokens: a page of a person limited to A must
// never name C's.
const (
	userOfA = "alice-in-pi"
	userOfC = "bob-in-e"
)

// scopeFixture is a console with projects A and C, tokens in both (2 in A,
// 3 in C), and the matrix's people signed in.
type scopeFixture struct {
	*webtest.Env
	users   map[string]*http.Client
	tokenA  store.IssuedToken
	tokenC  store.IssuedToken
	appA    string
	appC    string
	matrixC []scopeCase
}

// scopeCase is one request and the status each person gets.
type scopeCase struct {
	name   string
	method string
	path   string
	form   url.Values
	want   map[string]int
}

// statuses builds want from the status of people reaching every project
// (by role) and of those limited to A.
func statuses(adminS, operatorS, auditorS, operatorAS, auditorAS int) map[string]int {
	return map[string]int{admin: adminS, operatorAll: operatorS, auditorAll: auditorS, operatorA: operatorAS, auditorA: auditorAS}
}

func newScopeFixture(t *testing.T) *scopeFixture {
	t.Helper()
	e := webtest.NewEnv(t)
	f := &scopeFixture{Env: e, users: map[string]*http.Client{},
		appA: strconv.Itoa(ssoAppA), appC: strconv.Itoa(ssoAppC)}
	e.CreateProject(t, ssoAppA)
	e.CreateProject(t, ssoAppC)
	roles := map[string]string{admin: store.RoleAdmin, operatorAll: store.RoleOperator, operatorA: store.RoleOperator,
		auditorAll: store.RoleAuditor, auditorA: store.RoleAuditor}
	for _, name := range matrixPeople {
		f.users[name] = e.SignIn(t, name, roles[name])
	}
	for _, name := range []string{operatorA, auditorA} {
		id := int64(e.Count(t, `SELECT id FROM operators WHERE username = $1`, name))
		if _, err := e.Store.SetOperatorGrant(t.Context(), id, store.Grant{AppIDs: []uint32{ssoAppA}}, webtest.AdminActor, store.Origin{}); err != nil {
			t.Fatal(err)
		}
	}
	f.tokenA = e.IssueAt(t, ssoAppA, userOfA, time.Time{})
	e.IssueAt(t, ssoAppA, userOfA, time.Time{})
	f.tokenC = e.IssueAt(t, ssoAppC, userOfC, time.Time{})
	e.IssueAt(t, ssoAppC, userOfC, time.Time{})
	e.IssueAt(t, ssoAppC, userOfC, time.Time{})

	c, a := f.appC, f.appA
	f.matrixC = []scopeCase{
		{"project page of C", "GET", "/projects/" + c, nil, statuses(200, 200, 200, 404, 404)},
		{"tokens of C", "GET", "/tokens?app_id=" + c, nil, statuses(200, 200, 200, 404, 404)},
		{"revoke a token of C", "POST", "/projects/" + c + "/tokens/" + f.tokenC.Record.ID + "/revoke", url.Values{"reason": {"matrix"}}, statuses(303, 303, 403, 404, 403)},
		{"revoke a user of C", "POST", "/tokens/revoke-user", url.Values{"app_id": {c}, "user_id": {userOfC}}, statuses(303, 303, 403, 404, 403)},
		{"revoke a pasted token of C", "POST", "/tokens/revoke-pasted", url.Values{"token": {f.tokenC.Token}}, statuses(303, 303, 403, 404, 403)},
		{"issue for C", "POST", "/issue", url.Values{"app_id": {c}, "user_id": {"u2"}}, statuses(200, 200, 403, 404, 403)},
		{"inspect with C's secrets", "POST", "/inspect", url.Values{"project": {c}, "token": {f.tokenC.Token}}, statuses(200, 200, 200, 404, 404)},
		{"audit of C", "GET", "/audit?app_id=" + c, nil, statuses(200, 200, 200, 404, 404)},
		{"audit export of C", "GET", "/audit/export?format=csv&app_id=" + c, nil, statuses(200, 200, 200, 404, 404)},
		{"project page of A", "GET", "/projects/" + a, nil, statuses(200, 200, 200, 200, 200)},
		{"issue for A", "POST", "/issue", url.Values{"app_id": {a}, "user_id": {"u3"}}, statuses(200, 200, 403, 200, 403)},
		{"inspect with A's secrets", "POST", "/inspect", url.Values{"project": {a}, "token": {f.tokenA.Token}}, statuses(200, 200, 200, 200, 200)},
		{"new project", "GET", "/projects/new", nil, statuses(200, 403, 403, 403, 403)},
		{"operators", "GET", "/operators", nil, statuses(200, 403, 200, 403, 403)},
		{"operators export", "GET", "/operators/export", nil, statuses(200, 403, 200, 403, 403)},
		{"API keys", "GET", "/apikeys", nil, statuses(200, 403, 200, 403, 403)},
		{"API keys export", "GET", "/apikeys/export", nil, statuses(200, 403, 200, 403, 403)},
		{"SSO rules", "GET", "/sso", nil, statuses(200, 403, 200, 403, 403)},
		{"change a grant", "POST", "/operators/" + strconv.Itoa(e.Count(t, `SELECT id FROM operators WHERE username = $1`, operatorA)) + "/grant",
			url.Values{"projects": {a}}, statuses(303, 403, 403, 403, 403)},
	}
	return f
}

func TestScopeMatrix_EachRoleAndScopeGetsItsStatusAndDenialsAreAudited(t *testing.T) {
	t.Parallel()
	f := newScopeFixture(t)
	for _, sc := range f.matrixC {
		for _, who := range matrixPeople {
			var res *http.Response
			var body string
			if sc.method == "GET" {
				res, body = f.Fetch(t, f.users[who], sc.path, nil)
			} else {
				res, body = f.SendForm(t, f.users[who], sc.path, sc.form, nil)
			}
			if res.StatusCode != sc.want[who] {
				t.Errorf("%s as %s: got %d, want %d\n%.300s", sc.name, who, res.StatusCode, sc.want[who], body)
			}
			if res.StatusCode == http.StatusNotFound && (strings.Contains(body, userOfC) || strings.Contains(body, f.tokenC.Record.ID)) {
				t.Errorf("%s as %s: the 404 page names C's data", sc.name, who)
			}
		}
	}
	for _, who := range []string{operatorA, auditorA} {
		denied := f.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND actor_name = $1 AND app_id = $2`, who, ssoAppC)
		refused := 0
		for _, sc := range f.matrixC {
			if sc.want[who] == http.StatusNotFound {
				refused++
			}
		}
		if denied != refused {
			t.Errorf("%s: got %d authz.denied events about project C, want %d (one per 404)", who, denied, refused)
		}
	}
	if n := f.Count(t, `SELECT count(*) FROM issued_tokens WHERE app_id = $1 AND revoked_at IS NOT NULL AND revoked_by = $2`, ssoAppC, operatorA); n != 0 {
		t.Errorf("the operator of A revoked %d tokens of C", n)
	}
}

func TestScopeMatrix_NoPageExportOrChartOfAScopedPersonShowsAnotherProject(t *testing.T) {
	t.Parallel()
	f := newScopeFixture(t)
	pages := []string{"/", "/projects", "/projects/" + f.appA, "/tokens", "/tokens?state=active", "/audit", "/audit?action=token.*",
		"/inspect", "/issue", "/audit/export?format=csv", "/audit/export?format=ndjson"}
	for _, who := range []string{operatorA, auditorA} {
		for _, path := range pages {
			status, body := f.Get(t, f.users[who], path)
			if status == http.StatusForbidden && path == "/issue" && who == auditorA {
				continue
			}
			if status != http.StatusOK {
				t.Errorf("%s %s: got %d, want 200", who, path, status)
				continue
			}
			for _, leak := range []string{f.appC, userOfC, f.tokenC.Record.ID} {
				if strings.Contains(body, leak) {
					t.Errorf("%s %s: shows %q of project C", who, path, leak)
				}
			}
			if strings.HasPrefix(path, "/audit/export") && (strings.Contains(body, "auth.login") || strings.Contains(body, "operator.")) {
				t.Errorf("%s %s: exports events that belong to no project", who, path)
			}
		}
		// The dashboard counts A's tokens only: 2 of the 5.
		_, body := f.Get(t, f.users[who], "/")
		if !strings.Contains(body, "2 tokens were issued") || strings.Contains(body, "5 tokens were issued") {
			t.Errorf("%s dashboard: want the chart of project A's 2 tokens, not all 5", who)
		}
		// The audit trail of a scoped person holds A's events, none without a project.
		_, body = f.Get(t, f.users[who], "/audit/export?format=csv")
		if !strings.Contains(body, f.appA) || strings.Count(body, "\n") < 3 {
			t.Errorf("%s audit export: want project A's events\n%.800s", who, body)
		}
	}
	// People reaching every project still see everything.
	_, body := f.Get(t, f.users[auditorAll], "/")
	if !strings.Contains(body, "5 tokens were issued") || !strings.Contains(body, f.appC) {
		t.Errorf("auditor of every project: want both projects and all 5 tokens on the dashboard")
	}
	_, body = f.Get(t, f.users[auditorAll], "/audit/export?format=csv")
	if !strings.Contains(body, "auth.login") {
		t.Errorf("auditor of every project: want sign-in events in the export")
	}
}

func TestAccessReview_AuditorsReadAndExportPeopleAndKeysButChangeNothing(t *testing.T) {
	t.Parallel()
	f := newScopeFixture(t)
	prefix := f.APIKey(t, []string{store.ScopeIssue, store.ScopeAuditRead}, ssoAppA)[:11]
	auditor := f.users[auditorAll]
	_, page := f.Get(t, auditor, "/operators")
	for _, want := range []string{`data-testid="operator-row-oscar"`, f.appA, "password", `data-testid="operator-export"`} {
		if !strings.Contains(page, want) {
			t.Errorf("operators page for the auditor: missing %q", want)
		}
	}
	for _, form := range []string{`action="/operators"`, "/grant", "/disable", "/password"} {
		if strings.Contains(page, form) {
			t.Errorf("operators page for the auditor offers a change (%s)", form)
		}
	}
	_, csvOps := f.Get(t, auditor, "/operators/export")
	if !strings.HasPrefix(csvOps, "username,display_name,role,projects,sign_in,") || !strings.Contains(csvOps, "oscar,,operator,"+f.appA+",password,") {
		t.Errorf("operators CSV:\n%s", csvOps)
	}
	_, keys := f.Get(t, auditor, "/apikeys")
	if !strings.Contains(keys, prefix) || strings.Contains(keys, "/revoke") || strings.Contains(keys, `action="/apikeys"`) {
		t.Errorf("API keys page for the auditor: want the key %s listed, without revoke or create forms", prefix)
	}
	_, csvKeys := f.Get(t, auditor, "/apikeys/export")
	if !strings.HasPrefix(csvKeys, "name,prefix,scopes,projects,created_by,created_at,last_used_at,expires_at,state") ||
		!strings.Contains(csvKeys, "svc,"+prefix+",audit:read issue,"+f.appA+",test-setup,") {
		t.Errorf("API keys CSV:\n%s", csvKeys)
	}
	if n := f.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'access.export' AND actor_name = $1`, auditorAll); n != 2 {
		t.Errorf("access.export events: got %d, want 2", n)
	}
	res, body := f.Post(t, auditor, "/apikeys/"+prefix+"/revoke", nil)
	expectStatus(t, "auditor revokes a key", res.StatusCode, http.StatusForbidden, body)
}

func TestGrant_AdminLimitsAPersonToProjectsOnTheOperatorsPage(t *testing.T) {
	t.Parallel()
	f := newScopeFixture(t)
	path := f.OperatorPath(t, operatorAll) + "/grant"
	res, body := f.Post(t, f.users[admin], path, url.Values{"projects": {f.appC}})
	expectRedirect(t, "limit olga to C", res, body, "/operators?notice=operator-updated")
	if status, _ := f.Get(t, f.users[operatorAll], "/projects/"+f.appA); status != http.StatusNotFound {
		t.Errorf("olga limited to C opens A: got %d, want 404 at her next request", status)
	}
	if n := f.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'operator.grant_change' AND actor_name = $1
		AND details->'to'->>'all_projects' = 'false' AND details->'to'->'app_ids' = $2::jsonb`, admin, "["+f.appC+"]"); n != 1 {
		t.Errorf("operator.grant_change events: got %d, want 1", n)
	}
	res, body = f.Post(t, f.users[admin], f.OperatorPath(t, admin)+"/grant", url.Values{"projects": {f.appC}})
	expectStatus(t, "limit an admin", res.StatusCode, http.StatusUnprocessableEntity, body)
	res, body = f.Post(t, f.users[admin], path, url.Values{"projects": {"4000000000"}})
	expectStatus(t, "grant an unknown project", res.StatusCode, http.StatusUnprocessableEntity, body)
}
