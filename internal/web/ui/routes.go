package ui

import (
	"net/http"

	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/static"
)

// Routes registers the sign-in pages, the static files and every page of the
// UI, each with the action (web.Can) it needs. Pages about one project check
// that project in their handler (allowApp).
func (s *Server) Routes(mux *http.ServeMux) {
	mux.Handle("GET /static/", http.StripPrefix("/static/", static.Handler()))

	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginSubmit)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /auth/oidc/start", s.oidcStart)
	mux.HandleFunc("GET /auth/oidc/callback", s.oidcCallback)
	mux.HandleFunc("GET /login/second-factor", s.secondFactorPage)
	mux.HandleFunc("POST /login/second-factor", s.secondFactorSubmit)
	mux.HandleFunc("POST /login/second-factor/passkey/options", s.secondFactorPasskeyOptions)
	mux.HandleFunc("POST /login/second-factor/passkey", s.secondFactorPasskey)
	mux.HandleFunc("POST /login/passkey/options", s.signInPasskeyOptions)
	mux.HandleFunc("POST /login/passkey", s.signInPasskey)

	mux.Handle("GET /{$}", s.ui(web.ActView, s.dashboard))
	mux.Handle("GET /projects", s.ui(web.ActView, s.projectList))
	mux.Handle("GET /projects/new", s.ui(web.ActProjectManage, s.projectNew))
	mux.Handle("POST /projects", s.ui(web.ActProjectManage, s.projectCreate))
	mux.Handle("GET /projects/{appID}", s.ui(web.ActView, s.projectShow))
	mux.Handle("GET /projects/{appID}/edit", s.ui(web.ActProjectManage, s.projectEdit))
	mux.Handle("POST /projects/{appID}", s.ui(web.ActProjectManage, s.projectUpdate))
	mux.Handle("POST /projects/{appID}/secret", s.ui(web.ActProjectManage, s.projectRotateSecret))
	mux.Handle("POST /projects/{appID}/disable", s.ui(web.ActProjectManage, s.projectDisable))
	mux.Handle("POST /projects/{appID}/enable", s.ui(web.ActProjectManage, s.projectEnable))
	mux.Handle("GET /projects/{appID}/delete", s.ui(web.ActProjectManage, s.projectDeleteConfirm))
	mux.Handle("POST /projects/{appID}/delete", s.ui(web.ActProjectManage, s.projectDelete))

	mux.Handle("GET /issue", s.ui(web.ActIssue, s.tokenIssueForm))
	mux.Handle("POST /issue", s.ui(web.ActIssue, s.tokenIssue))
	mux.Handle("GET /issue/list", s.ui(web.ActIssue, s.tokenIssueListForm))
	mux.Handle("POST /issue/list", s.ui(web.ActIssue, s.tokenIssueList))
	mux.Handle("GET /tokens", s.ui(web.ActView, s.tokenList))
	mux.Handle("POST /projects/{appID}/tokens/{id}/revoke", s.ui(web.ActRevoke, s.tokenRevoke))
	mux.Handle("POST /tokens/revoke-user", s.ui(web.ActRevoke, s.tokenRevokeUser))
	mux.Handle("POST /tokens/revoke-pasted", s.ui(web.ActRevoke, s.tokenRevokePasted))
	mux.Handle("GET /inspect", s.ui(web.ActInspect, s.inspectForm))
	mux.Handle("POST /inspect", s.ui(web.ActInspect, s.inspect))

	mux.Handle("GET /audit", s.ui(web.ActAuditRead, s.auditList))
	mux.Handle("GET /audit/export", s.ui(web.ActAuditRead, s.auditExport))
	mux.Handle("POST /audit/verify", s.ui(web.ActAuditVerify, s.auditVerify))
	mux.Handle("GET /audit/sinks", s.ui(web.ActSinkManage, s.sinkList))
	mux.Handle("POST /audit/sinks", s.ui(web.ActSinkManage, s.sinkCreate))
	mux.Handle("POST /audit/sinks/{id}/pause", s.ui(web.ActSinkManage, s.sinkPause))
	mux.Handle("POST /audit/sinks/{id}/resume", s.ui(web.ActSinkManage, s.sinkResume))
	mux.Handle("POST /audit/sinks/{id}/replay", s.ui(web.ActSinkManage, s.sinkReplay))
	mux.Handle("POST /audit/sinks/{id}/test", s.ui(web.ActSinkManage, s.sinkTest))
	mux.Handle("POST /audit/sinks/{id}/rotate-secret", s.ui(web.ActSinkManage, s.sinkRotateSecret))
	mux.Handle("POST /audit/sinks/{id}/delete", s.ui(web.ActSinkManage, s.sinkDelete))

	mux.Handle("GET /operators", s.ui(web.ActAccessReview, s.operatorList))
	mux.Handle("GET /operators/export", s.ui(web.ActAccessReview, s.operatorExport))
	mux.Handle("POST /operators", s.ui(web.ActAccessManage, s.operatorCreate))
	mux.Handle("POST /operators/{id}/role", s.ui(web.ActAccessManage, s.operatorSetRole))
	mux.Handle("POST /operators/{id}/grant", s.ui(web.ActAccessManage, s.operatorSetGrant))
	mux.Handle("POST /operators/{id}/sso-link", s.ui(web.ActAccessManage, s.operatorAllowSSOLink))
	mux.Handle("POST /operators/{id}/disable", s.ui(web.ActAccessManage, s.operatorDisable))
	mux.Handle("POST /operators/{id}/enable", s.ui(web.ActAccessManage, s.operatorEnable))
	mux.Handle("POST /operators/{id}/password", s.ui(web.ActAccessManage, s.operatorResetPassword))
	mux.Handle("GET /sso", s.ui(web.ActAccessReview, s.ssoRules))
	mux.Handle("POST /sso", s.ui(web.ActAccessManage, s.ssoRulesSave))
	mux.Handle("GET /apikeys", s.ui(web.ActAccessReview, s.apiKeyList))
	mux.Handle("GET /apikeys/export", s.ui(web.ActAccessReview, s.apiKeyExport))
	mux.Handle("POST /apikeys", s.ui(web.ActAccessManage, s.apiKeyCreate))
	mux.Handle("POST /apikeys/{prefix}/revoke", s.ui(web.ActAccessManage, s.apiKeyRevoke))

	// One's own account. Dangerous actions, here and above, ask for the
	// second factor again when the last check is old (stepup.go).
	mux.Handle("GET /account", s.ui(web.ActAccount, s.accountPage))
	mux.Handle("GET /account/password", s.ui(web.ActAccount, s.accountPasswordPage))
	mux.Handle("POST /account/password", s.ui(web.ActAccount, s.accountPasswordSubmit))
	mux.Handle("GET /account/totp", s.ui(web.ActAccount, s.totpPage))
	mux.Handle("POST /account/totp", s.ui(web.ActAccount, s.totpConfirm))
	mux.Handle("POST /account/totp/remove", s.ui(web.ActAccount, s.totpRemove))
	mux.Handle("POST /account/recovery-codes", s.ui(web.ActAccount, s.recoveryCodesGenerate))
	mux.Handle("POST /account/passkeys/options", s.ui(web.ActAccount, s.passkeyRegisterOptions))
	mux.Handle("POST /account/passkeys", s.ui(web.ActAccount, s.passkeyRegister))
	mux.Handle("POST /account/passkeys/{id}/rename", s.ui(web.ActAccount, s.passkeyRename))
	mux.Handle("POST /account/passkeys/{id}/remove", s.ui(web.ActAccount, s.passkeyRemove))
	mux.Handle("POST /account/sessions/{key}/end", s.ui(web.ActAccount, s.accountSessionEnd))
	mux.Handle("POST /account/sessions/end-others", s.ui(web.ActAccount, s.accountSessionsEndOthers))
	mux.Handle("GET /stepup", s.ui(web.ActAccount, s.stepUpPage))
	mux.Handle("POST /stepup", s.ui(web.ActAccount, s.stepUpSubmit))
	mux.Handle("POST /stepup/passkey/options", s.ui(web.ActAccount, s.stepUpPasskeyOptions))
	mux.Handle("POST /stepup/passkey", s.ui(web.ActAccount, s.stepUpPasskey))
}
