package ui

import (
	"net/http"
	"strconv"

	"github.com/a-h/templ"

	"github.com/zegocloud-console/console/internal/web"
)

// page builds the layout model for a request.
func (s *Server) page(r *http.Request, title, nav string) Page {
	p := Page{Title: title, Nav: nav, RequestID: web.RequestID(r), Notice: noticeText(r.URL.Query().Get("notice"))}
	if op, ok := web.OperatorFrom(r); ok {
		p.Operator = &op
	}
	return p
}

// render writes a full page with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, p Page, body templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := Layout(p, body).Render(r.Context(), w); err != nil && r.Context().Err() == nil {
		s.Log.Error("render", "request_id", web.RequestID(r), "route", r.Pattern, "err", err)
	}
}

// renderError writes an error page.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s.render(w, r, status, s.page(r, title, ""), ErrorView(status, title, message))
}

func statusText(status int) string {
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

// notices are the one-line messages a redirect after a change can ask for
// with ?notice=; only these fixed texts are shown, so a link cannot put
// words in the console's mouth.
var notices = map[string]string{
	"project-created":         "Project created. Its ServerSecret is stored encrypted and will not be shown again.",
	"project-updated":         "Project updated.",
	"secret-rotated":          "ServerSecret rotated. Older versions are kept so that older tokens can still be inspected.",
	"project-disabled":        "Project disabled: no tokens can be issued for it.",
	"project-enabled":         "Project enabled.",
	"project-deleted":         "Project deleted. Its token records and audit events are kept.",
	"token-revoked":           "Token revoked.",
	"tokens-revoked":          "Tokens revoked.",
	"no-tokens-revoked":       "That user had no active tokens in this project: nothing was revoked.",
	"verify-broken":           "Audit trail verified: the chain is broken. See the integrity panel below.",
	"operator-created":        "Operator created.",
	"operator-updated":        "Operator updated.",
	"operator-disabled":       "Operator disabled: their sessions were ended and they can no longer sign in.",
	"operator-enabled":        "Operator enabled: they can sign in again.",
	"operator-password-reset": "Password reset. The operator's sessions were ended; they sign in with the new password.",
	"apikey-revoked":          "API key revoked.",
	"sink-created":            "Audit sink added.",
	"sink-paused":             "Audit sink paused: events wait for it in the chain.",
	"sink-resumed":            "Audit sink resumed: it delivers from its cursor.",
	"sink-replayed":           "Audit sink rewound: it delivers again from the chosen sequence number.",
	"sink-deleted":            "Audit sink deleted.",
	"verified":                "Audit trail verified.",
	"sso-rules-saved":         "Single sign-on rules saved. Each person gets them at their next sign-in.",
	"stepped-up":              "Confirmed. Do it again now: the console will not ask again for a while.",
	"password-changed":        "Password changed. Your other sessions were ended.",
	"totp-enabled":            "Authenticator app turned on: signing in with your password now asks for its code.",
	"totp-removed":            "Authenticator app removed.",
	"passkey-added":           "Passkey added.",
	"passkey-renamed":         "Passkey renamed.",
	"passkey-removed":         "Passkey removed.",
	"session-ended":           "Session ended.",
	"sessions-ended":          "Every other session of yours was ended.",
}

func noticeText(key string) string { return notices[key] }
