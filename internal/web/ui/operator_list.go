package ui

import (
	"context"
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// OperatorForm is the form that creates an operator, as typed (never the password).
type OperatorForm struct {
	Username    string
	DisplayName string
	Role        string
	Errors      map[string]string
}

// OperatorsModel is the operators page: everyone who can sign in, and the
// form to add someone.
type OperatorsModel struct {
	Operators []store.Operator
	MeID      int64 // the signed-in admin
	Form      OperatorForm
	Alert     string // why the last change was refused
	CanManage bool   // admins; auditors only read (access review)
	Projects  []store.Project
}

// operatorRoles are the roles in the order the role selects list them.
var operatorRoles = []string{store.RoleOperator, store.RoleAuditor, store.RoleAdmin}

// roleHelp says what a role may do, in the page's language.
func roleHelp(ctx context.Context, role string) string {
	switch role {
	case store.RoleAdmin:
		return t(ctx, "everything, including operators and API keys")
	case store.RoleOperator:
		return t(ctx, "issue, inspect and revoke tokens")
	default:
		return t(ctx, "read only: tokens, audit trail, exports")
	}
}

// grantText says which projects a person reaches, in the page's language:
// every project, none, or their AppIDs.
func grantText(ctx context.Context, op store.Operator) string {
	g := store.GrantOf(op)
	switch {
	case g.AllProjects:
		return t(ctx, "all projects")
	case len(g.AppIDs) == 0:
		return t(ctx, "no project")
	}
	return g.String()
}

// operatorList shows the operators page.
func (s *Server) operatorList(w http.ResponseWriter, r *http.Request) {
	s.renderOperators(w, r, http.StatusOK, OperatorsModel{Form: OperatorForm{Role: store.RoleOperator}})
}

// renderOperators loads the operators and renders the page around m's form
// and alert.
func (s *Server) renderOperators(w http.ResponseWriter, r *http.Request, status int, m OperatorsModel) {
	ops, err := s.Store.ListOperators(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if m.Projects, err = s.Store.ListProjects(r.Context()); err != nil {
		s.Fail(w, r, err)
		return
	}
	m.Operators, m.CanManage = ops, may(r, web.ActAccessManage, 0)
	if me, ok := web.OperatorFrom(r); ok {
		m.MeID = me.ID
	}
	s.render(w, r, status, s.page(r, "People", "operators"), OperatorsView(m))
}
