package ui

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// auditPageSize is how many events one page of the audit trail shows.
const auditPageSize = 50

// AuditFilterForm is the audit filter as shown in its form. A pasted token
// is never shown back: the form holds its fingerprint instead.
type AuditFilterForm struct {
	AppID, Actor, Action, Outcome, From, To, Text, Find string
}

// AuditList is the view model of the audit page.
type AuditList struct {
	Projects     []store.Project
	Form         AuditFilterForm
	Query        string // the filter as a query string, for links
	Events       []store.AuditEvent
	Cursor       string // this page's cursor, "" on the first page
	Next         string // the older page's cursor, "" on the last page
	Error        string // why the filter or cursor was refused
	Verification *store.VerifyReport
	Unsealed     int64
	OldestWait   time.Duration
	SealInterval time.Duration
	ShowSinks    bool         // the viewer is an admin: the sinks' delivery state and buttons
	Sinks        []store.Sink // every sink, for admins
	Names        auditNames   // who and what the events name
	Start        int64        // the position of the page's first event, from 1
	Total        int64        // events the filter selects, up to auditCountMax+1; -1: not known
	Now          time.Time
}

// auditCountMax is how far the audit page counts the events a filter
// selects; past it the page says "more than".
const auditCountMax = 10_000

// Showing says which part of the trail the page shows: "1–50 of 1,234".
func (m AuditList) Showing() string {
	of := thousands(m.Total)
	switch {
	case m.Total < 0:
		of = "many"
	case m.Total > auditCountMax:
		of = "more than " + thousands(auditCountMax)
	}
	if len(m.Events) == 0 {
		return "0 of " + of
	}
	return thousands(m.Start) + "–" + thousands(m.Start+int64(len(m.Events))-1) + " of " + of
}

// RangeURL is the trail with the same filter over the last d, from the
// newest event.
func (m AuditList) RangeURL(d time.Duration) string {
	v, _ := url.ParseQuery(m.Query)
	v.Del("to")
	v.Set("from", m.Now.Add(-d).UTC().Truncate(time.Second).Format(time.RFC3339))
	return "/audit?" + v.Encode()
}

// PageURL links to the page at cursor with the same filter; start is the
// position of its first event.
func (m AuditList) PageURL(cursor string, start int64) string {
	q := m.Query
	if cursor != "" {
		if q != "" {
			q += "&"
		}
		q += "cursor=" + url.QueryEscape(cursor) + "&start=" + strconv.FormatInt(start, 10)
	}
	if q == "" {
		return "/audit"
	}
	return "/audit?" + q
}

// ExportURL links to the export of the current filter in format.
func (m AuditList) ExportURL(format string) string {
	u := "/audit/export?format=" + format
	if m.Query != "" {
		u += "&" + m.Query
	}
	return u
}

var fingerprintRe = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// auditQuery reads the filter parameters; the "find by token" field takes a
// token or a fingerprint, told apart by shape. From and To, typed as dates
// or datetime-local values, are in the viewer's zone.
func auditQuery(r *http.Request) url.Values {
	q := r.URL.Query()
	loc := zoneOf(r.Context()).loc
	for _, name := range []string{"from", "to"} {
		if t, ok := parseLocalBound(q.Get(name), loc, name == "to"); ok {
			q.Set(name, t.UTC().Format(time.RFC3339))
		}
	}
	if t := strings.TrimSpace(q.Get("token")); fingerprintRe.MatchString(t) {
		q.Del("token")
		q.Set("fingerprint", strings.ToLower(t))
	} else if t != "" {
		q.Set("token", token04.CleanPasted(t))
	}
	return q
}

// auditList shows the audit trail, newest first, filtered, with keyset
// pagination and the integrity status of the hash chain.
func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	q := auditQuery(r)
	m := AuditList{SealInterval: s.Cfg.SealInterval, Start: 1, Now: time.Now()}
	f, err := store.ParseAuditFilter(q)
	if err != nil {
		m.Form = AuditFilterForm{AppID: q.Get("app_id"), Actor: q.Get("actor"), Action: q.Get("action"), Outcome: q.Get("outcome"),
			From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to"), Text: q.Get("q"), Find: q.Get("fingerprint")}
		m.Error = "The filter was not applied: " + orAny(joinFieldErrors(store.FieldErrors(err)), err.Error())
		s.renderAudit(w, r, http.StatusBadRequest, m)
		return
	}
	if q.Get("token") != "" {
		// Move a pasted token out of the address bar (and browser history):
		// the same filter, by fingerprint.
		http.Redirect(w, r, "/audit?"+f.Values().Encode(), http.StatusSeeOther)
		return
	}
	if f.AppID != 0 && !s.allowApp(w, r, web.ActAuditRead, f.AppID) {
		return
	}
	m.Form, m.Query, m.Cursor = auditFormOf(f, zoneOf(r.Context()).loc), f.Values().Encode(), q.Get("cursor")
	page, err := s.auditPage(r, f, m.Cursor, auditPageSize)
	if errors.Is(err, store.ErrBadCursor) {
		m.Error, m.Cursor = "This page link is not valid (bad cursor). Start again from the newest events.", ""
		s.renderAudit(w, r, http.StatusBadRequest, m)
		return
	}
	if fe := store.FieldErrors(err); fe != nil {
		m.Error = "The search was not run: " + joinFieldErrors(fe)
		s.renderAudit(w, r, http.StatusBadRequest, m)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m.Events, m.Next = page.Events, page.Next
	if n, err := strconv.ParseInt(q.Get("start"), 10, 64); err == nil && n > 1 && m.Cursor != "" {
		m.Start = n
	}
	if m.Total, err = s.auditCount(r, f, auditCountMax); err != nil {
		s.Fail(w, r, err)
		return
	}
	s.renderAudit(w, r, http.StatusOK, m)
}

// renderAudit adds the projects and the chain's integrity status to m and
// renders the audit page.
func (s *Server) renderAudit(w http.ResponseWriter, r *http.Request, status int, m AuditList) {
	ctx := r.Context()
	projects, err := s.listProjects(r, web.ActAuditRead)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m.Projects = projects
	if m.Names, err = s.auditNamesFor(r, m.Events, projects); err != nil {
		s.Fail(w, r, err)
		return
	}
	switch v, err := s.Store.LastVerification(ctx); {
	case err == nil:
		m.Verification = &v
	case !errors.Is(err, store.ErrNoAuditVerification):
		s.Fail(w, r, err)
		return
	}
	if m.Unsealed, m.OldestWait, err = s.Store.SealLag(ctx); err != nil {
		s.Fail(w, r, err)
		return
	}
	if op, ok := web.OperatorFrom(r); ok && op.Role == store.RoleAdmin {
		if m.Sinks, err = s.Store.ListSinks(ctx); err != nil {
			s.Fail(w, r, err)
			return
		}
		m.ShowSinks = true
	}
	s.render(w, r, status, s.page(r, "Audit trail", "audit"), AuditListView(m))
}

// parseLocalBound reads a bound typed without a zone (2006-01-02,
// 2006-01-02T15:04 or 2006-01-02T15:04:05) as a time in loc; a date as the
// end bound means the whole day, up to the next midnight. ok is false for
// anything else (RFC 3339 carries its own zone).
func parseLocalBound(s string, loc *time.Location, end bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			if layout == time.DateOnly && end {
				t = t.AddDate(0, 0, 1)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// auditFormOf shows a parsed filter in the form's fields, times in loc.
func auditFormOf(f store.AuditFilter, loc *time.Location) AuditFilterForm {
	form := AuditFilterForm{Actor: f.Actor, Action: f.Action, Outcome: f.Outcome, Text: f.Text,
		From: datetimeLocal(f.From, loc), To: datetimeLocal(f.To, loc), Find: hex.EncodeToString(f.Fingerprint)}
	if f.AppID != 0 {
		form.AppID = strconv.FormatUint(uint64(f.AppID), 10)
	}
	return form
}

// datetimeLocal writes t in loc for an <input type="datetime-local">.
func datetimeLocal(t time.Time, loc *time.Location) string {
	switch {
	case t.IsZero():
		return ""
	case t.Second() == 0 && t.Nanosecond() == 0:
		return t.In(loc).Format("2006-01-02T15:04")
	default:
		return t.In(loc).Format("2006-01-02T15:04:05")
	}
}

// prettyJSON indents an event's details for reading.
func prettyJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// optInt formats an optional number, or "—".
func optInt(p *int64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatInt(*p, 10)
}

// sealLagText says in one sentence how many events wait for their place
// in the chain.
func sealLagText(n int64, oldest time.Duration) string {
	wait := strconv.FormatFloat(oldest.Seconds(), 'f', 1, 64) + " s"
	switch n {
	case 0:
		return "Every event is sealed into the chain."
	case 1:
		return "1 event waiting to be sealed, for " + wait + "."
	default:
		return thousands(n) + " events waiting to be sealed, the oldest for " + wait + "."
	}
}

// auditActions are suggestions for the action filter.
var auditActions = []string{"token.*", "token.issue", "token.revoke", "token.revoke_user", "token.inspect", "token.introspect",
	"project.*", "auth.*", "authz.denied", "apikey.*", "operator.*", "audit.export", "audit.verify"}

// ofDeletedProject tells whether e is about a project that was deleted
// since (the listed projects are the live ones): such events stay in the
// trail, marked, while a later project with the same AppID starts afresh.
func (m AuditList) ofDeletedProject(e store.AuditEvent) bool {
	if e.ProjectID == nil {
		return false
	}
	for _, p := range m.Projects {
		if p.ID == *e.ProjectID {
			return false
		}
	}
	return true
}

// projectListed tells whether the form's project is one of the live ones.
func (m AuditList) projectListed() bool {
	for _, p := range m.Projects {
		if appIDString(p.AppID) == m.Form.AppID {
			return true
		}
	}
	return m.Form.AppID == ""
}
