package web_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

const appA, appC = 1111, 3333

// TestCan_DecidesByRoleScopeAndProject is the permission table as people
// read it: each role reaching every project or only project A.
func TestCan_DecidesByRoleScopeAndProject(t *testing.T) {
	t.Parallel()
	person := func(role string, all bool) web.Principal {
		p := web.Principal{Kind: web.PrincipalPerson, Role: role, AllProjects: all}
		if !all {
			p.AppIDs = []int64{appA}
		}
		return p
	}
	type want struct{ onA, onC, anywhere bool }
	cases := []struct {
		who  string
		p    web.Principal
		act  web.Action
		want want
	}{
		{"admin", person(store.RoleAdmin, true), web.ActAccessManage, want{true, true, true}},
		{"operator of all", person(store.RoleOperator, true), web.ActIssue, want{true, true, true}},
		{"operator of A", person(store.RoleOperator, false), web.ActIssue, want{true, false, true}},
		{"operator of A", person(store.RoleOperator, false), web.ActRevoke, want{true, false, true}},
		{"operator of A", person(store.RoleOperator, false), web.ActInspect, want{true, false, true}},
		{"operator of A", person(store.RoleOperator, false), web.ActAuditRead, want{true, false, true}},
		{"operator of A", person(store.RoleOperator, false), web.ActProjectManage, want{false, false, false}},
		{"operator of A", person(store.RoleOperator, false), web.ActAccessReview, want{false, false, false}},
		{"auditor of all", person(store.RoleAuditor, true), web.ActIssue, want{false, false, false}},
		{"auditor of all", person(store.RoleAuditor, true), web.ActAccessReview, want{true, true, true}},
		{"auditor of all", person(store.RoleAuditor, true), web.ActAccessManage, want{false, false, false}},
		{"auditor of A", person(store.RoleAuditor, false), web.ActAuditRead, want{true, false, true}},
		{"auditor of A", person(store.RoleAuditor, false), web.ActAccessReview, want{false, false, false}},
		{"key of A with issue", web.KeyPrincipal(store.APIKey{Scopes: []string{store.ScopeIssue}, AppIDs: []int64{appA}}), web.ActIssue, want{true, false, true}},
		{"key of A with issue", web.KeyPrincipal(store.APIKey{Scopes: []string{store.ScopeIssue}, AppIDs: []int64{appA}}), web.ActRevoke, want{false, false, false}},
		{"key of A", web.KeyPrincipal(store.APIKey{Scopes: []string{store.ScopeIssue}, AppIDs: []int64{appA}}), web.ActView, want{true, false, true}},
		{"key of A", web.KeyPrincipal(store.APIKey{Scopes: []string{store.ScopeAuditRead}, AppIDs: []int64{appA}}), web.ActAuditVerify, want{false, false, false}},
		{"CLI", web.CLI, web.ActAccessManage, want{true, true, true}},
		{"nobody", web.Principal{}, web.ActView, want{false, false, false}},
		{"admin", person(store.RoleAdmin, true), web.Action("made.up"), want{false, false, false}},
	}
	for _, c := range cases {
		got := want{web.Can(c.p, c.act, appA), web.Can(c.p, c.act, appC), web.Can(c.p, c.act, 0)}
		if got != c.want {
			t.Errorf("%s, %s: got (A %v, C %v, no project %v), want (A %v, C %v, no project %v)", c.who, c.act,
				got.onA, got.onC, got.anywhere, c.want.onA, c.want.onC, c.want.anywhere)
		}
	}
}

// publicRoutes need no permission: static files, sign-in (with its second
// step, which needs a session of its own) and sign-out, the SSO flow, the
// API's description and its catch-all 404.
var publicRoutes = map[string]bool{
	`mux.Handle("GET /static/"`:                                  true,
	`mux.HandleFunc("GET /login"`:                                true,
	`mux.HandleFunc("POST /login"`:                               true,
	`mux.HandleFunc("POST /logout"`:                              true,
	`mux.HandleFunc("GET /auth/oidc/start"`:                      true,
	`mux.HandleFunc("GET /auth/oidc/callback"`:                   true,
	`mux.HandleFunc("GET /login/second-factor"`:                  true,
	`mux.HandleFunc("POST /login/second-factor"`:                 true,
	`mux.HandleFunc("POST /login/second-factor/passkey/options"`: true,
	`mux.HandleFunc("POST /login/second-factor/passkey"`:         true,
	`mux.HandleFunc("POST /login/passkey/options"`:               true,
	`mux.HandleFunc("POST /login/passkey"`:                       true,
	`mux.HandleFunc("GET /api/v1/openapi.json"`:                  true,
	`mux.Handle("/api/"`:                                         true,
}

// TestRoutes_EveryRouteDeclaresItsPermission walks both route tables: every
// route but the public ones goes through the UI's guard with a web action or
// the API's guard with a scope that names one.
func TestRoutes_EveryRouteDeclaresItsPermission(t *testing.T) {
	t.Parallel()
	route := regexp.MustCompile(`mux\.Handle(?:Func)?\("[^"]*"`)
	guarded := map[string]*regexp.Regexp{
		"ui/routes.go":  regexp.MustCompile(`^\s*mux\.Handle\("[A-Z]+ [^"]+", s\.ui\(web\.(Act\w+), s\.\w+\)\)$`),
		"api/routes.go": regexp.MustCompile(`^\s*mux\.Handle\("[A-Z]+ [^"]+", s\.api\((\w+), s\.\w+\)\)$`),
	}
	scopes := map[string]string{"allScopes": "", "scopeIssue": store.ScopeIssue, "scopeRevoke": store.ScopeRevoke,
		"scopeIntrospect": store.ScopeIntrospect, "scopeAuditRead": store.ScopeAuditRead, "scopeSinksAdmin": store.ScopeSinksAdmin, "scopeFeedRead": store.ScopeRevocationsRead}
	for file, guard := range guarded {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for line := range strings.Lines(string(src)) {
			m := route.FindString(line)
			if m == "" || publicRoutes[m] {
				continue
			}
			n++
			g := guard.FindStringSubmatch(strings.TrimRight(line, "\n"))
			if g == nil {
				t.Errorf("%s: route without a declared permission: %s", file, strings.TrimSpace(line))
				continue
			}
			if file == "api/routes.go" {
				scope, ok := scopes[g[1]]
				if !ok || strings.HasPrefix(string(web.KeyAction(scope)), "unknown") {
					t.Errorf("%s: %s names no action: %s", file, g[1], strings.TrimSpace(line))
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: found no routes", file)
		}
	}
}
