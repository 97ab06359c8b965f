package ui

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// APIKeyForm is the form that creates an API key, as typed.
type APIKeyForm struct {
	Name   string
	AppIDs []int64
	Scopes []string
	Expiry string // one of apiKeyExpiries
	Errors map[string]string
}

// APIKeysModel is the API keys page: every key and the form to add one.
type APIKeysModel struct {
	Keys      []store.APIKey
	Projects  []store.Project
	Form      APIKeyForm
	Now       time.Time
	CanManage bool // admins; auditors only read (access review)
}

// apiKeyScope is a scope with what it allows, for the form.
type apiKeyScope struct{ Name, Help string }

var apiKeyScopes = []apiKeyScope{
	{store.ScopeIssue, "issue tokens for the chosen projects"},
	{store.ScopeRevoke, "revoke tokens, one by one or all of a user"},
	{store.ScopeIntrospect, "ask whether a token presented to the service is active"},
	{store.ScopeAuditRead, "read and export the audit trail of the chosen projects"},
	{store.ScopeRevocationsRead, "follow the revocations of the chosen projects (feed and snapshot)"},
	{store.ScopeSinksAdmin, "manage every audit sink (not limited to the chosen projects)"},
}

// apiKeyExpiry is an expiry preset of the form.
type apiKeyExpiry struct {
	Value, Label string
	Years, Days  int // both 0: never expires
}

var apiKeyExpiries = []apiKeyExpiry{
	{"30d", "in 30 days", 0, 30},
	{"90d", "in 90 days", 0, 90},
	{"1y", "in 1 year", 1, 0},
	{"never", "never (rotate it by hand)", 0, 0},
}

// defaultAPIKeyExpiry is the preset chosen when the form opens.
const defaultAPIKeyExpiry = "90d"

// apiKeyList shows every API key and the form to create one.
func (s *Server) apiKeyList(w http.ResponseWriter, r *http.Request) {
	s.renderAPIKeys(w, r, http.StatusOK, APIKeyForm{Expiry: defaultAPIKeyExpiry})
}

func (s *Server) renderAPIKeys(w http.ResponseWriter, r *http.Request, status int, f APIKeyForm) {
	keys, err := s.Store.ListAPIKeys(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	projects, err := s.Store.ListProjects(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m := APIKeysModel{Keys: keys, Projects: projects, Form: f, Now: time.Now(), CanManage: may(r, web.ActAccessManage, 0)}
	s.render(w, r, status, s.page(r, "API keys", "apikeys"), APIKeysView(m))
}

// keyState is "revoked", "expired" or "active".
func keyState(k store.APIKey, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	default:
		return "active"
	}
}

// keyStateClass is the badge of a key's state.
func keyStateClass(state string) string {
	switch state {
	case "revoked":
		return "badge badge-bad"
	case "expired":
		return "badge badge-warn"
	default:
		return "badge badge-ok"
	}
}

// projectName names an AppID with its project, if it is still there.
func (m APIKeysModel) projectName(appID int64) string {
	for _, p := range m.Projects {
		if p.AppID == appID {
			return p.Name
		}
	}
	return ""
}

func (f APIKeyForm) hasApp(appID int64) bool { return slices.Contains(f.AppIDs, appID) }

func (f APIKeyForm) hasScope(scope string) bool { return slices.Contains(f.Scopes, scope) }

// scopeTestID names a scope checkbox for tests: "audit:read" becomes "apikey-scope-audit-read".
func scopeTestID(scope string) string { return "apikey-scope-" + strings.ReplaceAll(scope, ":", "-") }
