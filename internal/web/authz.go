package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// An Action is something a principal may be allowed to do. Every route of
// the UI and of the API declares the action it needs (routes.go), and Can
// alone decides.
type Action string

// The actions. Those about projects are allowed per project; the others
// concern the whole console and need a principal that reaches every project.
const (
	ActView          Action = "view"             // dashboard, projects, token records of one's projects
	ActIssue         Action = "token.issue"      // issue tokens
	ActRevoke        Action = "token.revoke"     // revoke tokens
	ActInspect       Action = "token.inspect"    // inspect or introspect a token with the stored secrets
	ActAuditRead     Action = "audit.read"       // read and export the audit trail of one's projects
	ActAuditVerify   Action = "audit.verify"     // verify the hash chain
	ActProjectManage Action = "project.manage"   // create, edit, rotate, disable, delete projects
	ActAccessReview  Action = "access.review"    // read the operators and API keys (and export them)
	ActAccessManage  Action = "access.manage"    // manage operators, grants, SSO rules and API keys
	ActSinkManage    Action = "audit.sinks"      // manage the audit sinks (admins, and keys with sinks:admin)
	ActFeedRead      Action = "revocations.read" // follow the revocation feed of one's projects (keys only)
	ActAccount       Action = "account"          // one's own password, second factors and sessions
)

// Principal kinds.
const (
	PrincipalPerson = "person"  // someone signed in to the UI
	PrincipalAPIKey = "api_key" // a backend service's key
	PrincipalCLI    = "cli"     // the command line, run by whoever holds the database credentials
)

// A Principal is who asks: a person with a role and a grant, an API key
// with scopes and projects, or the CLI.
type Principal struct {
	Kind        string
	Role        string   // a person's role
	Scopes      []string // an API key's scopes, none when it is revoked or expired
	AllProjects bool
	AppIDs      []int64 // the live projects reached, when not AllProjects
}

// CLI is the command line: it may do everything.
var CLI = Principal{Kind: PrincipalCLI, AllProjects: true}

// PersonPrincipal is a signed-in operator as a principal.
func PersonPrincipal(op store.Operator) Principal {
	return Principal{Kind: PrincipalPerson, Role: op.Role, AllProjects: op.AllProjects, AppIDs: op.AppIDs}
}

// KeyPrincipal is an API key as a principal: its scopes (none once revoked
// or expired) and its projects.
func KeyPrincipal(k store.APIKey) Principal {
	p := Principal{Kind: PrincipalAPIKey, AppIDs: k.AppIDs}
	if k.RevokedAt == nil && (k.ExpiresAt == nil || time.Now().Before(*k.ExpiresAt)) {
		p.Scopes = k.Scopes
	}
	return p
}

// PrincipalOf is who makes the request: the signed-in person or the API
// key, or nobody (who may do nothing).
func PrincipalOf(r *http.Request) Principal {
	if op, ok := OperatorFrom(r); ok {
		return PersonPrincipal(op)
	}
	if k, ok := APIKeyFrom(r); ok {
		return KeyPrincipal(k)
	}
	return Principal{}
}

// anyKey is the scope of actions any valid API key may do; noKey of those no key may.
const (
	anyKey = "*"
	noKey  = ""
)

// permission is who may do an action: the roles of people, the scope of
// API keys, and whether it concerns the whole console (global) rather than
// one project.
type permission struct {
	roles  []string
	scope  string
	global bool
}

var (
	everyRole = []string{store.RoleAdmin, store.RoleOperator, store.RoleAuditor}
	issuers   = []string{store.RoleAdmin, store.RoleOperator}
	admins    = []string{store.RoleAdmin}
	reviewers = []string{store.RoleAdmin, store.RoleAuditor}
)

// permissions is the one table of who may do what.
var permissions = map[Action]permission{
	ActView:          {everyRole, anyKey, false},
	ActIssue:         {issuers, store.ScopeIssue, false},
	ActRevoke:        {issuers, store.ScopeRevoke, false},
	ActInspect:       {everyRole, store.ScopeIntrospect, false},
	ActAuditRead:     {everyRole, store.ScopeAuditRead, false},
	ActAuditVerify:   {everyRole, noKey, false},
	ActProjectManage: {admins, noKey, true},
	ActAccessReview:  {reviewers, noKey, true},
	ActAccessManage:  {admins, noKey, true},
	ActSinkManage:    {admins, store.ScopeSinksAdmin, false},
	ActFeedRead:      {nil, store.ScopeRevocationsRead, false},
	ActAccount:       {everyRole, noKey, false},
}

// Can decides every permission: whether p may do act on the project appID.
// With appID 0 it asks about no project in particular: for an action about
// projects, whether p may do it on some project (the handler then checks
// each project it touches); an action about the whole console needs a
// principal that reaches every project. An unknown action is refused.
func Can(p Principal, act Action, appID uint32) bool {
	perm, ok := permissions[act]
	if !ok {
		return false
	}
	switch p.Kind {
	case PrincipalCLI:
		return true
	case PrincipalPerson:
		if !slices.Contains(perm.roles, p.Role) {
			return false
		}
	case PrincipalAPIKey:
		if perm.scope == noKey || len(p.Scopes) == 0 || perm.scope != anyKey && !slices.Contains(p.Scopes, perm.scope) {
			return false
		}
	default:
		return false
	}
	if perm.global {
		return p.AllProjects
	}
	return appID == 0 || p.Reaches(appID)
}

// Reaches tells whether p's projects include appID.
func (p Principal) Reaches(appID uint32) bool {
	return appID != 0 && (p.AllProjects || slices.Contains(p.AppIDs, int64(appID)))
}

// AppIDsFor lists the projects on which p may do act: nil when it may on
// every project, else the list (empty: none).
func (p Principal) AppIDsFor(act Action) []uint32 {
	if p.AllProjects && Can(p, act, 0) {
		return nil
	}
	ids := []uint32{}
	for _, id := range p.AppIDs {
		if Can(p, act, uint32(id)) {
			ids = append(ids, uint32(id))
		}
	}
	return ids
}

// KeyAction is the action an API key scope stands for, as the API's routes
// name their scope ("": what any valid key may do); an unknown scope is an
// action Can refuses.
func KeyAction(scope string) Action {
	if scope == "" {
		return ActView
	}
	for act, perm := range permissions {
		if perm.scope == scope {
			return act
		}
	}
	return Action("unknown scope " + scope)
}
