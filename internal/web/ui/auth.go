package ui

import (
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// may tells whether the signed-in person may do act on the project appID
// (0: on some project, or, for an action about the whole console, at all):
// web.Can decides.
func may(r *http.Request, act web.Action, appID uint32) bool {
	return web.Can(web.PrincipalOf(r), act, appID)
}

// isAdmin tells whether the signed-in person may manage projects (admins).
func isAdmin(r *http.Request) bool { return may(r, web.ActProjectManage, 0) }

// canIssue tells whether the signed-in person may issue tokens on some project.
func canIssue(r *http.Request) bool { return may(r, web.ActIssue, 0) }

// ui guards a page: the visitor must be signed in (else they are sent to the
// sign-in page, or to what their sign-in still owes: see signedIn) and may do
// act (else 403 and an authz.denied event); a dangerous action also wants
// them verified recently (see stepUpDone). Pages about one project check it
// with allowApp.
func (s *Server) ui(act web.Action, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ok := s.signedIn(w, r)
		if !ok {
			return
		}
		op, _ := web.OperatorFrom(r)
		if !may(r, act, 0) {
			reason := "role " + op.Role + " may not use this page"
			msg := "Your role (" + op.Role + ") cannot do this. Ask an admin if you need it."
			if !op.AllProjects && web.Can(web.PersonPrincipal(store.Operator{Role: op.Role, AllProjects: true}), act, 0) {
				reason = "this page concerns every project; the person reaches only some"
				msg = "This page concerns every project, and you reach only some. Ask an admin if you need it."
			}
			if err := s.Deny(r, reason); err != nil {
				s.Fail(w, r, err)
				return
			}
			s.renderError(w, r, http.StatusForbidden, "Not allowed", msg)
			return
		}
		if !s.stepUpDone(w, r) {
			return
		}
		h(w, r)
	})
}

// allowApp tells whether the signed-in person may do act on the project
// appID. When not, it audits the denial and answers 404, as for a project
// that does not exist: a person does not learn which projects are beyond
// their grant.
func (s *Server) allowApp(w http.ResponseWriter, r *http.Request, act web.Action, appID uint32) bool {
	if may(r, act, appID) {
		return true
	}
	s.denyApp(w, r, appID)
	return false
}

// denyApp audits a request about a project beyond the person's grant (or
// their role) and answers it as not found.
func (s *Server) denyApp(w http.ResponseWriter, r *http.Request, appID uint32) {
	if err := s.Deny(r, "project outside the person's grant", web.WithApp(appID)); err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Fail(w, r, store.ErrProjectNotFound)
}

// reachable keeps the projects on which the signed-in person may do act.
func reachable(r *http.Request, act web.Action, projects []store.Project) []store.Project {
	out := make([]store.Project, 0, len(projects))
	for _, p := range projects {
		if may(r, act, uint32(p.AppID)) {
			out = append(out, p)
		}
	}
	return out
}

// listProjects lists the live projects on which the signed-in person may do act.
func (s *Server) listProjects(r *http.Request, act web.Action) ([]store.Project, error) {
	all, err := s.Store.ListProjects(r.Context())
	if err != nil {
		return nil, err
	}
	return reachable(r, act, all), nil
}

// canRevoke tells whether the signed-in person may revoke tokens on some project.
func canRevoke(r *http.Request) bool { return may(r, web.ActRevoke, 0) }

// scopeAudit limits f to the projects whose audit trail the signed-in
// person may read; ok is false when they reach none. Events that concern no
// project (sign-ins, operator changes) are thereby left to people who reach
// every project.
func scopeAudit(r *http.Request, f store.AuditFilter) (store.AuditFilter, bool) {
	apps := web.PrincipalOf(r).AppIDsFor(web.ActAuditRead)
	if apps == nil {
		return f, true
	}
	f.AppIDs = apps
	return f, len(apps) > 0
}

// auditPage is a page of the audit events f selects among those the
// signed-in person may read.
func (s *Server) auditPage(r *http.Request, f store.AuditFilter, cursor string, limit int) (store.AuditPage, error) {
	f, ok := scopeAudit(r, f)
	if !ok {
		return store.AuditPage{}, nil
	}
	return s.Store.ListAudit(r.Context(), f, cursor, limit)
}
