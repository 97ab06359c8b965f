package ui_test

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// uiRoutePattern finds the UI routes of routes.go and the action they need.
var uiRoutePattern = regexp.MustCompile(`mux\.Handle\("([A-Z]+) ([^"]+)", s\.ui\(web\.(\w+), `)

// actions names the actions of web/authz.go as routes.go writes them.
var actions = map[string]web.Action{
	"ActView": web.ActView, "ActIssue": web.ActIssue, "ActRevoke": web.ActRevoke, "ActInspect": web.ActInspect,
	"ActAuditRead": web.ActAuditRead, "ActAuditVerify": web.ActAuditVerify, "ActProjectManage": web.ActProjectManage,
	"ActAccessReview": web.ActAccessReview, "ActAccessManage": web.ActAccessManage, "ActSinkManage": web.ActSinkManage,
	"ActAccount": web.ActAccount,
}

// rolesFor lists the roles whose people, reaching every project, web.Can
// lets do act.
func rolesFor(act web.Action) []string {
	var roles []string
	for _, role := range []string{store.RoleAdmin, store.RoleOperator, store.RoleAuditor} {
		if web.Can(web.Principal{Kind: web.PrincipalPerson, Role: role, AllProjects: true}, act, 0) {
			roles = append(roles, role)
		}
	}
	return roles
}

// uiRoute is one route of the matrix: a concrete request for its pattern and,
// for the pages of this part of the console, the exact status an allowed
// role gets (0: any answer but 403, a sign-in redirect or a server error).
type uiRoute struct {
	pattern string // as in routes.go
	path    string
	form    url.Values
	want    int
}

// roleMatrixFixture is a console with something for every route to act on.
type roleMatrixFixture struct {
	*webtest.Env
	users   map[string]*http.Client // role -> signed-in browser
	names   map[string]string       // role -> username
	routes  []uiRoute
	allowed map[string][]string // pattern -> roles
}

func newRoleMatrixFixture(t *testing.T) roleMatrixFixture {
	t.Helper()
	e := webtest.NewEnv(t)
	f := roleMatrixFixture{Env: e, users: map[string]*http.Client{}, allowed: map[string][]string{},
		names: map[string]string{store.RoleAdmin: "root", store.RoleOperator: "olga", store.RoleAuditor: "audrey"}}
	for role, name := range f.names {
		f.users[role] = e.SignIn(t, name, role)
	}
	e.CreateProject(t, 1001)
	e.CreateProject(t, 1002)
	e.CreateOperator(t, "target", store.RoleOperator)
	tok := e.IssueAt(t, 1001, "user-1", time.Time{})
	prefix := e.APIKey(t, []string{store.ScopeIssue}, 1001)[:11]
	target := e.OperatorPath(t, "target")
	sinkPath := func(in store.SinkInput) string {
		k, _, err := e.Store.CreateSink(t.Context(), in, webtest.AdminActor, store.Origin{})
		if err != nil {
			t.Fatal(err)
		}
		return "/audit/sinks/" + strconv.FormatInt(k.ID, 10)
	}
	fileSink := sinkPath(store.SinkInput{Name: "matrix-file", Kind: store.SinkFile, Path: "a.ndjson"})
	hookSink := sinkPath(store.SinkInput{Name: "matrix-hook", Kind: store.SinkWebhook, URL: "https://192.0.2.10/hook"})
	doomedSink := sinkPath(store.SinkInput{Name: "matrix-doomed", Kind: store.SinkFile, Path: "b.ndjson"})

	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range uiRoutePattern.FindAllStringSubmatch(string(src), -1) {
		act, ok := actions[m[3]]
		if !ok {
			t.Fatalf("routes.go: unknown action web.%s", m[3])
		}
		f.allowed[m[1]+" "+m[2]] = rolesFor(act)
	}
	f.routes = []uiRoute{
		{"GET /{$}", "/", nil, 200},
		{"GET /projects", "/projects", nil, 200},
		{"GET /projects/new", "/projects/new", nil, 200},
		{"POST /projects", "/projects", projectForm("2001", "Matrix", webtest.TestSecret), 303},
		{"GET /projects/{appID}", "/projects/1001", nil, 200},
		{"GET /projects/{appID}/edit", "/projects/1001/edit", nil, 200},
		{"POST /projects/{appID}", "/projects/1001", url.Values{"name": {"Renamed"}, "environment": {"prod"}, "default_ttl": {"1h"}, "max_ttl": {"2h"}, "zego_services": {"rtc"}}, 303},
		{"POST /projects/{appID}/secret", "/projects/1001/secret", url.Values{"secret": {strings.Repeat("r", 32)}}, 303},
		{"POST /projects/{appID}/disable", "/projects/1001/disable", nil, 303},
		{"POST /projects/{appID}/enable", "/projects/1001/enable", nil, 303},
		{"GET /projects/{appID}/delete", "/projects/1002/delete", nil, 200},
		{"POST /projects/{appID}/delete", "/projects/1002/delete", url.Values{"confirm": {"1002"}}, 303},
		{"GET /issue", "/issue", nil, 0},
		{"POST /issue", "/issue", url.Values{"app_id": {"1001"}, "user_id": {"user-2"}}, 0},
		{"GET /issue/list", "/issue/list", nil, 0},
		{"POST /issue/list", "/issue/list", url.Values{"app_id": {"1001"}, "users": {"user-3\nuser-4"}}, 0},
		{"GET /tokens", "/tokens", nil, 0},
		{"POST /projects/{appID}/tokens/{id}/revoke", "/projects/1001/tokens/" + tok.Record.ID + "/revoke", url.Values{"reason": {"matrix"}}, 0},
		{"POST /tokens/revoke-user", "/tokens/revoke-user", url.Values{"app_id": {"1001"}, "user_id": {"user-1"}}, 0},
		{"POST /tokens/revoke-pasted", "/tokens/revoke-pasted", url.Values{"token": {tok.Token}}, 0},
		{"GET /inspect", "/inspect", nil, 0},
		{"POST /inspect", "/inspect", url.Values{"token": {tok.Token}}, 0},
		{"GET /audit", "/audit", nil, 0},
		{"GET /audit/export", "/audit/export?format=csv", nil, 0},
		{"POST /audit/verify", "/audit/verify", nil, 0},
		{"GET /audit/sinks", "/audit/sinks", nil, 200},
		{"POST /audit/sinks", "/audit/sinks", url.Values{"name": {"matrix-new"}, "kind": {"file"}, "path": {"c.ndjson"}}, 303},
		{"POST /audit/sinks/{id}/pause", fileSink + "/pause", nil, 303},
		{"POST /audit/sinks/{id}/resume", fileSink + "/resume", nil, 303},
		{"POST /audit/sinks/{id}/replay", fileSink + "/replay", url.Values{"from_seq": {"1"}}, 303},
		{"POST /audit/sinks/{id}/test", fileSink + "/test", nil, 200},
		{"POST /audit/sinks/{id}/rotate-secret", hookSink + "/rotate-secret", nil, 200},
		{"POST /audit/sinks/{id}/delete", doomedSink + "/delete", nil, 303},
		{"GET /operators", "/operators", nil, 200},
		{"GET /operators/export", "/operators/export", nil, 200},
		{"POST /operators/{id}/grant", target + "/grant", url.Values{"projects": {"1001"}}, 303},
		{"POST /operators/{id}/sso-link", target + "/sso-link", url.Values{"email": {"target@example.com"}}, 303},
		{"GET /sso", "/sso", nil, 200},
		{"POST /sso", "/sso", url.Values{"rules": {`[{"claim": "groups", "value": "ops", "role": "operator"}]`}}, 303},
		{"POST /operators", "/operators", url.Values{"username": {"newbie"}, "role": {"auditor"}, "password": {"a long enough password"}}, 303},
		{"POST /operators/{id}/role", target + "/role", url.Values{"role": {"auditor"}}, 303},
		{"POST /operators/{id}/disable", target + "/disable", nil, 303},
		{"POST /operators/{id}/enable", target + "/enable", nil, 303},
		{"POST /operators/{id}/password", target + "/password", url.Values{"password": {"another long password"}}, 303},
		{"GET /apikeys", "/apikeys", nil, 200},
		{"GET /apikeys/export", "/apikeys/export", nil, 200},
		{"POST /apikeys", "/apikeys", url.Values{"name": {"svc"}, "projects": {"1001"}, "scopes": {"issue"}, "expiry": {"30d"}}, 200},
		{"POST /apikeys/{prefix}/revoke", "/apikeys/" + prefix + "/revoke", nil, 303},
		{"GET /account", "/account", nil, 200},
		{"GET /account/password", "/account/password", nil, 200},
		{"POST /account/password", "/account/password", url.Values{"current_password": {"x"}, "new_password": {"a new long password"}}, 0},
		{"GET /account/totp", "/account/totp", nil, 200},
		{"POST /account/totp", "/account/totp", url.Values{"code": {"12"}}, 0},
		{"POST /account/totp/remove", "/account/totp/remove", nil, 0},
		{"POST /account/recovery-codes", "/account/recovery-codes", nil, 0},
		{"POST /account/sessions/{key}/end", "/account/sessions/" + strings.Repeat("ab", 32) + "/end", nil, 0},
		{"POST /account/sessions/end-others", "/account/sessions/end-others", nil, 0},
		{"GET /stepup", "/stepup", nil, 200},
		{"POST /stepup", "/stepup", url.Values{"password": {"not the password"}}, 0},
		{"POST /account/passkeys/options", "/account/passkeys/options", nil, 0},
		{"POST /account/passkeys", "/account/passkeys", url.Values{"credential": {"{}"}}, 0},
		{"POST /account/passkeys/{id}/rename", "/account/passkeys/1/rename", url.Values{"name": {"key"}}, 0},
		{"POST /account/passkeys/{id}/remove", "/account/passkeys/1/remove", nil, 0},
		{"POST /stepup/passkey/options", "/stepup/passkey/options", nil, 0},
		{"POST /stepup/passkey", "/stepup/passkey", url.Values{"credential": {"{}"}}, 0},
	}
	return f
}

// do sends the route's request with the browser c.
func (f roleMatrixFixture) do(t *testing.T, c *http.Client, r uiRoute) (*http.Response, string) {
	t.Helper()
	if strings.HasPrefix(r.pattern, "GET ") {
		return f.Fetch(t, c, r.path, nil)
	}
	return f.SendForm(t, c, r.path, r.form, nil)
}

// state summarises what any route could change.
func (f roleMatrixFixture) state(t *testing.T) string {
	t.Helper()
	var s string
	err := f.Store.Pool().QueryRow(t.Context(), `SELECT concat_ws(' | ',
		(SELECT string_agg(concat_ws(',', app_id, name, environment, disabled, deleted_at IS NULL, default_ttl_seconds, max_ttl_seconds), ';' ORDER BY id) FROM projects),
		(SELECT count(*) FROM project_secrets),
		(SELECT string_agg(concat_ws(',', username, role, disabled, password_hash), ';' ORDER BY id) FROM operators),
		(SELECT string_agg(concat_ws(',', prefix, revoked_at IS NULL), ';' ORDER BY id) FROM api_keys),
		(SELECT string_agg(concat_ws(',', id, revoked_at IS NULL), ';' ORDER BY id) FROM issued_tokens),
		(SELECT string_agg(concat_ws(',', id, state, cursor_seq, generation, encode(secret_ciphertext, 'hex')), ';' ORDER BY id) FROM audit_sinks))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoleMatrix_EveryUIRouteAdmitsExactlyItsRoles(t *testing.T) {
	t.Parallel()
	f := newRoleMatrixFixture(t)
	covered := map[string]bool{}
	for _, r := range f.routes {
		if _, ok := f.allowed[r.pattern]; !ok {
			t.Errorf("matrix route %s is not a UI route of routes.go", r.pattern)
		}
		covered[r.pattern] = true
	}
	for pattern := range f.allowed {
		if !covered[pattern] {
			t.Errorf("UI route %s has no case in the role matrix", pattern)
		}
	}

	// Refused first, so that the allowed requests after them find everything in place.
	before := f.state(t)
	for _, r := range f.routes {
		for _, role := range []string{store.RoleAuditor, store.RoleOperator, store.RoleAdmin} {
			if slices.Contains(f.allowed[r.pattern], role) {
				continue
			}
			res, body := f.do(t, f.users[role], r)
			expectStatus(t, role+" "+r.pattern, res.StatusCode, http.StatusForbidden, body)
			n := f.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND outcome = 'denied'
				AND actor_name = $1 AND target_id = $2`, f.names[role], strings.SplitN(r.pattern, " ", 2)[0]+" "+strings.SplitN(r.path, "?", 2)[0])
			if n != 1 {
				t.Errorf("%s %s: got %d authz.denied events, want 1", role, r.pattern, n)
			}
		}
	}
	if after := f.state(t); after != before {
		t.Fatalf("refused requests changed the state:\nbefore %s\nafter  %s", before, after)
	}

	for _, r := range f.routes {
		for _, role := range f.allowed[r.pattern] {
			if r.want != 0 && role != store.RoleAdmin && !strings.HasPrefix(r.pattern, "GET ") {
				continue // admin-only changes run once, as the admin
			}
			res, body := f.do(t, f.users[role], r)
			switch {
			case r.want != 0:
				expectStatus(t, role+" "+r.pattern, res.StatusCode, r.want, body)
			case res.StatusCode == http.StatusForbidden || res.StatusCode >= 500 ||
				strings.HasPrefix(res.Header.Get("Location"), "/login"):
				t.Errorf("%s %s: got status %d (Location %q), want the page or its redirect", role, r.pattern, res.StatusCode, res.Header.Get("Location"))
			}
		}
	}
}

func TestRoleMatrix_SignedOutVisitorsAreSentToSignIn(t *testing.T) {
	t.Parallel()
	f := newRoleMatrixFixture(t)
	before := f.state(t)
	for _, r := range f.routes {
		res, body := f.do(t, f.Browser(t), r)
		want := "/login"
		if strings.HasPrefix(r.pattern, "GET ") {
			want = "/login?next=" + url.QueryEscape(r.path)
		}
		expectRedirect(t, "signed out "+r.pattern, res, body, want)
	}
	if after := f.state(t); after != before {
		t.Fatalf("signed-out requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
}

func TestRoleMatrix_CrossOriginPostsAreRefused(t *testing.T) {
	t.Parallel()
	f := newRoleMatrixFixture(t)
	admin := f.users[store.RoleAdmin]
	before := f.state(t)
	denied := f.Events(t, "authz.denied", "denied")
	forged := []http.Header{{"Sec-Fetch-Site": {"cross-site"}}, {"Origin": {"https://evil.example"}}}
	for _, h := range forged {
		res, body := f.SendForm(t, admin, "/projects", projectForm("3001", "Forged", webtest.TestSecret), h)
		expectStatus(t, "forged POST /projects", res.StatusCode, http.StatusForbidden, body)
		res, body = f.SendForm(t, admin, "/logout", nil, h)
		expectStatus(t, "forged POST /logout", res.StatusCode, http.StatusForbidden, body)
		if sessionCookieIn(res) != nil {
			t.Error("a forged sign-out touched the session cookie")
		}
	}
	if after := f.state(t); after != before {
		t.Fatalf("forged requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
	if n := f.Count(t, `SELECT count(*) FROM web_sessions`); n != 3 {
		t.Errorf("sessions after forged sign-outs: got %d, want 3", n)
	}
	if status, body := f.Get(t, admin, "/projects"); status != http.StatusOK {
		t.Errorf("admin after forged sign-outs: got %d, want 200\n%.500s", status, body)
	}
	if n := f.Events(t, "authz.denied", "denied"); n != denied+4 {
		t.Errorf("authz.denied events: got %d, want %d", n, denied+4)
	}
	res, body := f.SendForm(t, admin, "/projects", projectForm("3002", "Same site", webtest.TestSecret), http.Header{"Sec-Fetch-Site": {"same-origin"}})
	expectRedirect(t, "same-origin POST /projects", res, body, "/projects/3002?notice=project-created")
}
