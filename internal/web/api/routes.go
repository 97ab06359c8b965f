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
	scopeSinksAdmin = store.ScopeSinksAdmin
	scopeFeedRead   = store.ScopeRevocationsRead
)

// Routes registers the JSON API, each route with the scope its key needs.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/openapi.json", s.openAPI)
	mux.Handle("GET /api/v1/projects", s.api(allScopes, s.projectList))
	mux.Handle("POST /api/v1/projects/{appId}/tokens", s.api(scopeIssue, s.tokenIssue))
	mux.Handle("POST /api/v1/projects/{appId}/tokens/batch", s.api(scopeIssue, s.tokenIssueBatch))
	mux.Handle("GET /api/v1/projects/{appId}/tokens/{id}", s.api(scopeIntrospect, s.tokenGet))
	mux.Handle("POST /api/v1/projects/{appId}/tokens/{id}/revoke", s.api(scopeRevoke, s.tokenRevoke))
	mux.Handle("POST /api/v1/projects/{appId}/users/{userId}/revoke", s.api(scopeRevoke, s.userRevoke))
	mux.Handle("POST /api/v1/tokens/revoke", s.api(scopeRevoke, s.tokenRevokeByValue))
	mux.Handle("POST /api/v1/tokens/introspect", s.api(scopeIntrospect, s.tokenIntrospect))
	mux.Handle("GET /api/v1/audit", s.api(scopeAuditRead, s.auditList))
	mux.Handle("GET /api/v1/audit/export", s.api(scopeAuditRead, s.auditExport))
	mux.Handle("GET /api/v1/audit/stream", s.api(scopeAuditRead, s.auditStream))
	mux.Handle("GET /api/v1/sinks", s.api(scopeSinksAdmin, s.sinkList))
	mux.Handle("POST /api/v1/sinks", s.api(scopeSinksAdmin, s.sinkCreate))
	mux.Handle("GET /api/v1/sinks/{id}", s.api(scopeSinksAdmin, s.sinkGet))
	mux.Handle("DELETE /api/v1/sinks/{id}", s.api(scopeSinksAdmin, s.sinkDelete))
	mux.Handle("POST /api/v1/sinks/{id}/pause", s.api(scopeSinksAdmin, s.sinkPause))
	mux.Handle("POST /api/v1/sinks/{id}/resume", s.api(scopeSinksAdmin, s.sinkResume))
	mux.Handle("POST /api/v1/sinks/{id}/replay", s.api(scopeSinksAdmin, s.sinkReplay))
	mux.Handle("POST /api/v1/sinks/{id}/test", s.api(scopeSinksAdmin, s.sinkTest))
	mux.Handle("POST /api/v1/sinks/{id}/rotate-secret", s.api(scopeSinksAdmin, s.sinkRotateSecret))
	mux.Handle("GET /api/v1/revocations", s.api(scopeFeedRead, s.revocationFeed))
	mux.Handle("GET /api/v1/revocations/snapshot", s.api(scopeFeedRead, s.revocationSnapshot))
	mux.Handle("/api/", http.HandlerFunc(s.notFound))
}
