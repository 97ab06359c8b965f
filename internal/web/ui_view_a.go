package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// Small helpers shared by the sign-in, dashboard, project, operator and API
// key pages.

// appIDFromPath reads the {appID} path value. Anything but a ZEGO AppID
// (1 to 4294967295) is answered with a 404 page, and ok is false.
func (s *Server) appIDFromPath(w http.ResponseWriter, r *http.Request) (appID uint32, ok bool) {
	v, err := strconv.ParseUint(r.PathValue("appID"), 10, 32)
	if err != nil || v == 0 {
		s.renderError(w, r, http.StatusNotFound, "Project not found",
			"A project address ends in its ZEGO AppID, a whole number from 1 to 4294967295.")
		return 0, false
	}
	return uint32(v), true
}

// idFromPath reads the numeric {id} path value, answering 404 on garbage.
func (s *Server) idFromPath(w http.ResponseWriter, r *http.Request) (id int64, ok bool) {
	v, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || v <= 0 {
		s.renderError(w, r, http.StatusNotFound, "Not found", "There is nothing here. It may have been deleted.")
		return 0, false
	}
	return v, true
}

// seeOther redirects after a change, with one of the notices of render.go.
func seeOther(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		path += "?notice=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// projectPath is the address of a project's page.
func projectPath(appID int64) string { return "/projects/" + strconv.FormatInt(appID, 10) }

// parseTTL reads a lifetime typed as seconds ("3600"), a Go duration
// ("1h", "90m", "1h30m") or days ("7d").
func parseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("is required, such as 1h, 90m or 3600")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= 1<<31 {
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseInt(days, 10, 64); err == nil && n >= 0 && n <= 1000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("is not a duration: write 1h, 90m, 3600 (seconds) or 7d")
	}
	return d, nil
}

// formatTTL writes seconds the way parseTTL reads them, shortest first:
// "24h", "90m", "45s".
func formatTTL(seconds int32) string {
	switch {
	case seconds > 0 && seconds%3600 == 0:
		return strconv.Itoa(int(seconds/3600)) + "h"
	case seconds > 0 && seconds%60 == 0:
		return strconv.Itoa(int(seconds/60)) + "m"
	default:
		return strconv.Itoa(int(seconds)) + "s"
	}
}

// fmtWhen is a time as shown before JavaScript localises it.
func fmtWhen(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// fmtRFC3339 is a time for a datetime attribute.
func fmtRFC3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// envBadge is the badge class of an environment label: production stands out.
func envBadge(env string) string {
	switch {
	case env == "prod" || strings.HasPrefix(env, "prod"):
		return "badge badge-bad"
	case strings.HasPrefix(env, "stag"):
		return "badge badge-warn"
	default:
		return "badge badge-ok"
	}
}

// i64 writes an integer for the templates.
func i64[T ~int | ~int32 | ~int64 | ~uint32](n T) string { return strconv.FormatInt(int64(n), 10) }

// plural writes "1 token" or "3 tokens".
func plural[T ~int | ~int64](n T, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return i64(n) + " " + many
}

// isAdmin tells whether the signed-in operator is an admin.
func isAdmin(r *http.Request) bool {
	op, ok := operatorFrom(r)
	return ok && op.Role == store.RoleAdmin
}

// canIssue tells whether the signed-in operator may issue and revoke tokens.
func canIssue(r *http.Request) bool {
	op, ok := operatorFrom(r)
	return ok && (op.Role == store.RoleAdmin || op.Role == store.RoleOperator)
}

// readForm parses a posted form of at most 64 KiB; on failure it answers
// 400 and returns false.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Bad form", "The form could not be read. Reload the page and try again.")
		return false
	}
	return true
}

// ifThen picks one of two texts.
func ifThen(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
