package web

import (
	"net/http"
	"strings"

	"github.com/zegocloud-console/console/static"
)

// Handler returns every route of the console wrapped in the middleware chain:
// recovery, request id, security headers, logging and metrics, cross-origin
// protection for every state-changing request.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()

	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.handler)
	mux.Handle("GET /static/", http.StripPrefix("/static/", static.Handler()))

	// Sign-in.
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginSubmit)
	mux.HandleFunc("POST /logout", s.logout)

	// Operator UI.
	mux.Handle("GET /{$}", s.ui(anyRole, s.dashboard))
	mux.Handle("GET /projects", s.ui(anyRole, s.projectList))
	mux.Handle("GET /projects/new", s.ui(adminsOnly, s.projectNew))
	mux.Handle("POST /projects", s.ui(adminsOnly, s.projectCreate))
	mux.Handle("GET /projects/{appID}", s.ui(anyRole, s.projectShow))
	mux.Handle("GET /projects/{appID}/edit", s.ui(adminsOnly, s.projectEdit))
	mux.Handle("POST /projects/{appID}", s.ui(adminsOnly, s.projectUpdate))
	mux.Handle("POST /projects/{appID}/secret", s.ui(adminsOnly, s.projectRotateSecret))
	mux.Handle("POST /projects/{appID}/disable", s.ui(adminsOnly, s.projectDisable))
	mux.Handle("POST /projects/{appID}/enable", s.ui(adminsOnly, s.projectEnable))
	mux.Handle("GET /projects/{appID}/delete", s.ui(adminsOnly, s.projectDeleteConfirm))
	mux.Handle("POST /projects/{appID}/delete", s.ui(adminsOnly, s.projectDelete))

	mux.Handle("GET /issue", s.ui(issuers, s.tokenIssueForm))
	mux.Handle("POST /issue", s.ui(issuers, s.tokenIssue))
	mux.Handle("GET /tokens", s.ui(anyRole, s.tokenList))
	mux.Handle("POST /projects/{appID}/tokens/{id}/revoke", s.ui(issuers, s.tokenRevoke))
	mux.Handle("POST /tokens/revoke-user", s.ui(issuers, s.tokenRevokeUser))
	mux.Handle("POST /tokens/revoke-pasted", s.ui(issuers, s.tokenRevokePasted))
	mux.Handle("GET /inspect", s.ui(anyRole, s.inspectForm))
	mux.Handle("POST /inspect", s.ui(anyRole, s.inspect))

	mux.Handle("GET /audit", s.ui(anyRole, s.auditList))
	mux.Handle("GET /audit/export", s.ui(anyRole, s.auditExport))
	mux.Handle("POST /audit/verify", s.ui(anyRole, s.auditVerify))

	mux.Handle("GET /operators", s.ui(adminsOnly, s.operatorList))
	mux.Handle("POST /operators", s.ui(adminsOnly, s.operatorCreate))
	mux.Handle("POST /operators/{id}/role", s.ui(adminsOnly, s.operatorSetRole))
	mux.Handle("POST /operators/{id}/disable", s.ui(adminsOnly, s.operatorDisable))
	mux.Handle("POST /operators/{id}/enable", s.ui(adminsOnly, s.operatorEnable))
	mux.Handle("POST /operators/{id}/password", s.ui(adminsOnly, s.operatorResetPassword))
	mux.Handle("GET /apikeys", s.ui(adminsOnly, s.apiKeyList))
	mux.Handle("POST /apikeys", s.ui(adminsOnly, s.apiKeyCreate))
	mux.Handle("POST /apikeys/{prefix}/revoke", s.ui(adminsOnly, s.apiKeyRevoke))

	// JSON API for backend services.
	mux.HandleFunc("GET /api/v1/openapi.json", s.apiOpenAPI)
	mux.Handle("GET /api/v1/projects", s.api(allScopes, s.apiProjectList))
	mux.Handle("POST /api/v1/projects/{appId}/tokens", s.api(scopeIssue, s.apiTokenIssue))
	mux.Handle("GET /api/v1/projects/{appId}/tokens/{id}", s.api(scopeIntrospect, s.apiTokenGet))
	mux.Handle("POST /api/v1/projects/{appId}/tokens/{id}/revoke", s.api(scopeRevoke, s.apiTokenRevoke))
	mux.Handle("POST /api/v1/projects/{appId}/users/{userId}/revoke", s.api(scopeRevoke, s.apiUserRevoke))
	mux.Handle("POST /api/v1/tokens/revoke", s.api(scopeRevoke, s.apiTokenRevokeByValue))
	mux.Handle("POST /api/v1/tokens/introspect", s.api(scopeIntrospect, s.apiTokenIntrospect))
	mux.Handle("GET /api/v1/audit", s.api(scopeAuditRead, s.apiAuditList))
	mux.Handle("GET /api/v1/audit/export", s.api(scopeAuditRead, s.apiAuditExport))
	mux.Handle("/api/", http.HandlerFunc(s.apiNotFound))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	var h http.Handler = mux
	h = cop.Handler(h)
	h = s.withLogAndMetrics(h)
	h = withSecurityHeaders(h)
	h = withRequestID(h)
	h = s.withRecovery(h)
	return h
}

// crossOriginDenied answers a state-changing request from another site.
func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.deny(r, "cross-origin request refused")
	if isAPI(r) {
		s.problem(w, r, http.StatusForbidden, "forbidden", "Cross-origin browser requests are refused.", nil)
		return
	}
	s.renderError(w, r, http.StatusForbidden, "Cross-origin request refused", "This request came from another site, so the console refused it. Nothing was changed.")
}

// isAPI tells whether the request is for the JSON API, which answers with
// problem+json rather than HTML.
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}
