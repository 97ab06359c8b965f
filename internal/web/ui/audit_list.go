package ui

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
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

// Showing says which part of the trail the page shows, in the page's
// language: "Events 1–50 of 1,234".
func (m AuditList) Showing(ctx context.Context) string {
	from, to := num(ctx, m.Start), num(ctx, m.Start+int64(len(m.Events))-1)
	switch {
	case len(m.Events) == 0 && m.Total < 0:
		return t(ctx, "Events 0 of many")
	case len(m.Events) == 0 && m.Total > auditCountMax:
		return t(ctx, "Events 0 of more than {{.Total}}", "Total", num(ctx, auditCountMax))
	case len(m.Events) == 0:
		return t(ctx, "Events 0 of {{.Total}}", "Total", num(ctx, m.Total))
	case m.Total < 0:
		return t(ctx, "Events {{.From}}–{{.To}} of many", "From", from, "To", to)
	case m.Total > auditCountMax:
		return t(ctx, "Events {{.From}}–{{.To}} of more than {{.Total}}", "From", from, "To", to, "Total", num(ctx, auditCountMax))
	default:
		return t(ctx, "Events {{.From}}–{{.To}} of {{.Total}}", "From", from, "To", to, "Total", num(ctx, m.Total))
	}
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
		m.Error = tr(r, "The filter was not applied: {{.Errors}}", "Errors", orAny(joinFieldErrors(r.Context(), store.FieldErrors(err)), err.Error()))
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
		m.Error, m.Cursor = tr(r, "This page link is not valid (bad cursor). Start again from the newest events."), ""
		s.renderAudit(w, r, http.StatusBadRequest, m)
		return
	}
	if fe := store.FieldErrors(err); fe != nil {
		m.Error = tr(r, "The search was not run: {{.Errors}}", "Errors", joinFieldErrors(r.Context(), fe))
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
func sealLagText(ctx context.Context, n int64, oldest time.Duration) string {
	if n == 0 {
		return t(ctx, "Every event is sealed into the chain.")
	}
	return tn(ctx, "{{.Count}} events waiting to be sealed, the oldest for {{.Seconds}} s.", n,
		"Seconds", strconv.FormatFloat(oldest.Seconds(), 'f', 1, 64))
}

// joinFieldErrors is field messages as one line in the page's language, in
// a stable order: "q: search for at least 3 characters; to: …". Field
// names stay as they are in the address or the form.
func joinFieldErrors(ctx context.Context, fe map[string]string) string {
	parts := make([]string, 0, len(fe))
	for _, name := range slices.Sorted(maps.Keys(fe)) {
		parts = append(parts, t(ctx, "{{.Field}}: {{.Message}}", "Field", name, "Message", fieldText(ctx, fe[name])))
	}
	return strings.Join(parts, t(ctx, "; "))
}

// outcomeText names an audit outcome in the page's language.
func outcomeText(ctx context.Context, outcome string) string {
	switch outcome {
	case store.OutcomeSuccess:
		return t(ctx, "success")
	case store.OutcomeDenied:
		return t(ctx, "denied")
	case store.OutcomeError:
		return t(ctx, "error")
	default:
		return outcome
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

// verifiedText is what the last verification found, in the page's
// language: "120 events verified (seq 1..120), 3 signed checkpoints", or
// where and how the chain broke (chainBreaks).
func verifiedText(ctx context.Context, v store.VerifyReport) string {
	if !v.OK {
		return chainBreakText(ctx, v.Message)
	}
	return t(ctx, "{{.Events}} events verified (seq {{.First}}..{{.Last}}), {{.Checkpoints}} signed checkpoints",
		"Events", strconv.FormatInt(v.Events, 10), "First", strconv.FormatInt(v.FirstSeq, 10),
		"Last", strconv.FormatInt(v.LastSeq, 10), "Checkpoints", strconv.Itoa(v.Checkpoints))
}

// chainBreaks are the store's accounts of a broken chain (the message of a
// failed verification, kept in English with the verification), as message
// ids: each placeholder stands for a number or a word of the account.
var chainBreaks = readBack(
	"the chain starts at seq {{.A}} with no signed prune checkpoint before it: events 1..{{.B}} were deleted",
	"events {{.A}}..{{.B}} are missing after the prune checkpoint at seq {{.C}}",
	"the prune checkpoint at seq {{.A}}, which the chain starts from, has a bad MAC",
	"event id {{.A}} is neither sealed nor waiting for its seal: it was taken off the queue",
	"event seq {{.A}} is missing (the next is {{.B}}): deleted",
	"the chain starts at seq {{.A}} but does not continue the prune checkpoint at seq {{.B}}",
	"event seq {{.A}} (id {{.B}}) does not follow seq {{.C}}: events were reordered, swapped or inserted",
	"event seq {{.A}} (id {{.B}}) differs from what was sealed: its content was changed",
	"event seq {{.A}} (id {{.B}}) is missing: deleted",
	"the {{.A}} checkpoint at seq {{.B}} has a bad MAC: it was forged or altered",
	"the chain at seq {{.A}} differs from its signed checkpoint: the chain was rewritten at or before seq {{.B}}",
	"a checkpoint was signed at seq {{.A}} but the chain ends at seq {{.B}}: events were removed from the end",
	"the chain reaches seq {{.A}} but no head was ever signed",
	"the signed head (seq {{.A}}) has a bad MAC: it was forged or altered",
	"events seq {{.A}}..{{.B}} lie past the signed head: they were appended outside the sealer",
	"the signed head is seq {{.A}} but the chain ends at seq {{.B}}: events were removed from the end",
	"the last event (seq {{.A}}) is not the one the sealer signed",
)

// chainBreakText is the store's account of a broken chain in the page's
// language; an account it does not know is shown as it was recorded.
func chainBreakText(ctx context.Context, msg string) string {
	return chainBreaks.text(ctx, msg)
}
