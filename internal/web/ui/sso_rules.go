package ui

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// SSORulesModel is the single sign-on page: the provider and the ordered
// mapping rules, editable by admins as JSON.
type SSORulesModel struct {
	Issuer      string // "" without single sign-on
	GroupsClaim string
	Rules       string // the rules as indented JSON, or as typed when refused
	Configured  bool   // rules were ever set
	CanManage   bool
	Error       string
}

// ssoRules shows the mapping rules.
func (s *Server) ssoRules(w http.ResponseWriter, r *http.Request) {
	rules, configured, err := s.Store.MappingRules(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if rules == nil {
		rules = []store.MappingRule{}
	}
	doc, _ := json.MarshalIndent(rules, "", "  ")
	s.renderSSORules(w, r, http.StatusOK, SSORulesModel{Rules: string(doc), Configured: configured})
}

// ssoRulesSave replaces the mapping rules (audited as sso.rules_update).
func (s *Server) ssoRulesSave(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	text := r.PostFormValue("rules")
	rules, err := store.ParseMappingRules([]byte(text))
	if err == nil {
		err = s.Store.SetMappingRules(r.Context(), rules, web.Actor(r), s.Origin(r))
	}
	if fe := store.FieldErrors(err); fe != nil {
		s.renderSSORules(w, r, http.StatusUnprocessableEntity, SSORulesModel{Rules: text, Configured: true,
			Error: tr(r, "The rules were not saved: {{.Reason}}", "Reason", ssoRulesErrorText(r, fe["rules"]))})
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, "/sso", "sso-rules-saved")
}

// ssoRulesErrorText is why the rules were refused, in the page's language:
// the store names a rule as "rule N: why"; a reason that quotes the JSON
// decoder stays as it is.
func ssoRulesErrorText(r *http.Request, msg string) string {
	head, reason, ok := strings.Cut(msg, ": ")
	if n, err := strconv.Atoi(strings.TrimPrefix(head, "rule ")); ok && err == nil && strings.HasPrefix(head, "rule ") {
		return tr(r, "rule {{.Number}}: {{.Reason}}", "Number", strconv.Itoa(n), "Reason", tr(r, reason))
	}
	return tr(r, msg)
}

func (s *Server) renderSSORules(w http.ResponseWriter, r *http.Request, status int, m SSORulesModel) {
	m.Issuer, m.GroupsClaim, m.CanManage = s.Cfg.OIDC.Issuer, s.Cfg.OIDC.GroupsClaim, may(r, web.ActAccessManage, 0)
	s.render(w, r, status, s.page(r, "Single sign-on", "operators"), SSORulesView(m))
}
