package ui

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// The role sets of routes.go: the one definition of who may do what.
var (
	anyRole    = []string{store.RoleAdmin, store.RoleOperator, store.RoleAuditor}
	issuers    = []string{store.RoleAdmin, store.RoleOperator}
	adminsOnly = []string{store.RoleAdmin}
)

// hasRole tells whether the signed-in operator holds one of roles.
func hasRole(r *http.Request, roles []string) bool {
	op, ok := web.OperatorFrom(r)
	return ok && slices.Contains(roles, op.Role)
}

// isAdmin tells whether the signed-in operator is an admin.
func isAdmin(r *http.Request) bool { return hasRole(r, adminsOnly) }

// canIssue tells whether the signed-in operator may issue and revoke tokens.
func canIssue(r *http.Request) bool { return hasRole(r, issuers) }

// ui guards a page: the visitor must be signed in (else they are sent to the
// sign-in page) and hold one of roles (else 403 and an authz.denied event).
func (s *Server) ui(roles []string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.sessions.Get(r, sessionCookie)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		op, ok := sess.Values[sessionOperatorKey].(store.Operator)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		r = web.WithOperator(r, op)
		if !slices.Contains(roles, op.Role) {
			if err := s.Deny(r, "role "+op.Role+" may not use this page"); err != nil {
				s.Fail(w, r, err)
				return
			}
			s.renderError(w, r, http.StatusForbidden, "Not allowed", "Your role ("+op.Role+") cannot do this. Ask an admin if you need it.")
			return
		}
		h(w, r)
	})
}
