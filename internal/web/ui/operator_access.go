package ui

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// operatorSetGrant sets which projects an operator or auditor reaches.
func (s *Server) operatorSetGrant(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idFromPath(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	g := store.Grant{AllProjects: r.PostFormValue("all_projects") != ""}
	var err error
	if !g.AllProjects {
		for _, v := range r.PostForm["projects"] {
			appID, perr := token04.ParseAppID(v)
			if perr != nil {
				err = &store.ValidationError{Fields: map[string]string{"projects": "want AppIDs, whole numbers from 1 to 4294967295"}}
				break
			}
			g.AppIDs = append(g.AppIDs, appID)
		}
	}
	if err == nil {
		_, err = s.Store.SetOperatorGrant(r.Context(), id, g, web.Actor(r), s.Origin(r))
	}
	s.operatorChanged(w, r, id, err, "Projects not changed for {{.Name}}:", "operator-updated")
}

// operatorAllowSSOLink lets the identity-provider person with a verified
// e-mail take over a local account at their first single sign-on.
func (s *Server) operatorAllowSSOLink(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idFromPath(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	_, err := s.Store.AllowSSOLink(r.Context(), id, r.PostFormValue("email"), web.Actor(r), s.Origin(r))
	s.operatorChanged(w, r, id, err, "Takeover not allowed for {{.Name}}:", "operator-updated")
}

// operatorExport is the access review of people as CSV: username, name,
// role, projects, sign-in methods, last sign-in, state.
func (s *Server) operatorExport(w http.ResponseWriter, r *http.Request) {
	ops, err := s.Store.ListOperators(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	rows := [][]string{{"username", "display_name", "role", "projects", "sign_in", "sso_email", "last_sign_in", "last_sign_in_method", "state", "created_at"}}
	for _, op := range ops {
		state := "active"
		if op.Disabled {
			state = "disabled"
		}
		rows = append(rows, []string{op.Username, op.DisplayName, op.Role, store.GrantOf(op).String(), signInMethods(op),
			op.SSOEmail, csvTime(op.LastLoginAt), op.LastLoginMethod, state, csvTime(&op.CreatedAt)})
	}
	s.writeAccessCSV(w, r, "operators", rows)
}

// apiKeyExport is the access review of API keys as CSV: name, prefix,
// scopes, projects, creator, last use, expiry, state.
func (s *Server) apiKeyExport(w http.ResponseWriter, r *http.Request) {
	keys, err := s.Store.ListAPIKeys(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	now := time.Now()
	rows := [][]string{{"name", "prefix", "scopes", "projects", "created_by", "created_at", "last_used_at", "expires_at", "state"}}
	for _, k := range keys {
		apps := make([]string, len(k.AppIDs))
		for i, id := range k.AppIDs {
			apps[i] = strconv.FormatInt(id, 10)
		}
		rows = append(rows, []string{k.Name, k.Prefix, strings.Join(k.Scopes, " "), strings.Join(apps, " "), k.CreatedBy,
			csvTime(&k.CreatedAt), csvTime(k.LastUsedAt), csvTime(k.ExpiresAt), keyState(k, now)})
	}
	s.writeAccessCSV(w, r, "apikeys", rows)
}

// writeAccessCSV audits an access-review export (access.export), then sends
// rows as a CSV download: no audit event, no export.
func (s *Server) writeAccessCSV(w http.ResponseWriter, r *http.Request, what string, rows [][]string) {
	s.writeCSV(w, r, "access.export", what, rows)
}

// writeCSV audits an export as action about what, then sends rows as a CSV
// download named after what: no audit event, no export.
func (s *Server) writeCSV(w http.ResponseWriter, r *http.Request, action, what string, rows [][]string) {
	if err := s.Store.Audit(r.Context(), store.Event{Actor: web.Actor(r), Origin: s.Origin(r), Action: action,
		Outcome: store.OutcomeSuccess, TargetType: what, Details: map[string]any{"rows": len(rows) - 1}}); err != nil {
		s.Fail(w, r, err)
		return
	}
	writeCSV(w, what, rows)
}

// writeCSV sends rows as the download name-<UTC time>.csv, each cell kept
// from running as a formula in a spreadsheet.
func writeCSV(w http.ResponseWriter, name string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`-`+time.Now().UTC().Format("20060102T150405Z")+`.csv"`)
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i, cell := range row {
			row[i] = csvSafe(cell)
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvTime is a time in RFC 3339 UTC, or "" for none.
func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// signInMethods says how a person may sign in: "password", "sso" or both
// (as the CSV export writes it; the page says it with signInMethodsText).
func signInMethods(op store.Operator) string {
	var m []string
	if op.HasPassword {
		m = append(m, "password")
	}
	if op.SSO {
		m = append(m, "sso")
	}
	return strings.Join(m, ", ")
}

// signInMethodsText says how a person may sign in, in the page's language.
func signInMethodsText(ctx context.Context, op store.Operator) string {
	switch {
	case op.HasPassword && op.SSO:
		return t(ctx, "password, sso")
	case op.HasPassword:
		return t(ctx, "password")
	case op.SSO:
		return t(ctx, "sso")
	}
	return ""
}

// signInMethodName names a way of signing in (store.SignInPassword, …) in
// the page's language.
func signInMethodName(ctx context.Context, method string) string {
	switch method {
	case store.SignInPassword:
		return t(ctx, "password")
	case store.SignInOIDC:
		return t(ctx, "single sign-on")
	case store.SignInPasskey:
		return t(ctx, "passkey")
	}
	return method
}

// hasAppID tells whether ids holds appID.
func hasAppID(ids []int64, appID int64) bool { return slices.Contains(ids, appID) }
