package ui

import (
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/static"
)

// Routes registers the sign-in pages, the static files and every page of the
// UI, each with the roles that may use it.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.Handle("GET /static/", http.StripPrefix("/static/", static.Handler()))

	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginSubmit)
	mux.HandleFunc("POST /logout", s.logout)

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
	mux.Handle("GET /audit/sinks", s.ui(adminsOnly, s.sinkList))
	mux.Handle("POST /audit/sinks", s.ui(adminsOnly, s.sinkCreate))
	mux.Handle("POST /audit/sinks/{id}/pause", s.ui(adminsOnly, s.sinkSetState(store.SinkPaused, "sink-paused")))
	mux.Handle("POST /audit/sinks/{id}/resume", s.ui(adminsOnly, s.sinkSetState(store.SinkActive, "sink-resumed")))
	mux.Handle("POST /audit/sinks/{id}/replay", s.ui(adminsOnly, s.sinkReplay))
	mux.Handle("POST /audit/sinks/{id}/test", s.ui(adminsOnly, s.sinkTest))
	mux.Handle("POST /audit/sinks/{id}/rotate-secret", s.ui(adminsOnly, s.sinkRotateSecret))
	mux.Handle("POST /audit/sinks/{id}/delete", s.ui(adminsOnly, s.sinkDelete))

	mux.Handle("GET /operators", s.ui(adminsOnly, s.operatorList))
	mux.Handle("POST /operators", s.ui(adminsOnly, s.operatorCreate))
	mux.Handle("POST /operators/{id}/role", s.ui(adminsOnly, s.operatorSetRole))
	mux.Handle("POST /operators/{id}/disable", s.ui(adminsOnly, s.operatorDisable))
	mux.Handle("POST /operators/{id}/enable", s.ui(adminsOnly, s.operatorEnable))
	mux.Handle("POST /operators/{id}/password", s.ui(adminsOnly, s.operatorResetPassword))
	mux.Handle("GET /apikeys", s.ui(adminsOnly, s.apiKeyList))
	mux.Handle("POST /apikeys", s.ui(adminsOnly, s.apiKeyCreate))
	mux.Handle("POST /apikeys/{prefix}/revoke", s.ui(adminsOnly, s.apiKeyRevoke))
}
