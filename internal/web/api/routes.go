package api

import (
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
)

// Scopes an API route needs, as routes below name them.
const (
	allScopes       = ""
	scopeIssue      = store.ScopeIssue
	scopeRevoke     = store.ScopeRevoke
	scopeIntrospect = store.ScopeIntrospect
	scopeAuditRead  = store.ScopeAuditRead
	scopeFeedRead   = store.ScopeRevocationsRead
)

// Routes registers the JSON API, each route with the scope its key needs.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/openapi.json", s.openAPI)
	mux.Handle("GET /api/v1/projects", s.api(allScopes, s.projectList))
	mux.Handle("POST /api/v1/projects/{appId}/tokens", s.api(scopeIssue, s.tokenIssue))
	mux.Handle("GET /api/v1/projects/{appId}/tokens/{id}", s.api(scopeIntrospect, s.tokenGet))
	mux.Handle("POST /api/v1/projects/{appId}/tokens/{id}/revoke", s.api(scopeRevoke, s.tokenRevoke))
	mux.Handle("POST /api/v1/projects/{appId}/users/{userId}/revoke", s.api(scopeRevoke, s.userRevoke))
	mux.Handle("POST /api/v1/tokens/revoke", s.api(scopeRevoke, s.tokenRevokeByValue))
	mux.Handle("POST /api/v1/tokens/introspect", s.api(scopeIntrospect, s.tokenIntrospect))
	mux.Handle("GET /api/v1/audit", s.api(scopeAuditRead, s.auditList))
	mux.Handle("GET /api/v1/audit/export", s.api(scopeAuditRead, s.auditExport))
	mux.Handle("GET /api/v1/revocations", s.api(scopeFeedRead, s.revocationFeed))
	mux.Handle("GET /api/v1/revocations/snapshot", s.api(scopeFeedRead, s.revocationSnapshot))
	mux.Handle("/api/", http.HandlerFunc(s.notFound))
}
