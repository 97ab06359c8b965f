package ui

import (
	"context"
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// DashboardModel is the overview: token counts per project, tokens issued per
// day and the latest audit events.
type DashboardModel struct {
	Projects    []store.ProjectStats
	Total       store.ProjectStats // sums over every project
	Chart       ChartModel
	Events      []store.AuditEvent
	Names       auditNames // who and what the events name
	AllActivity bool       // inspections are listed too (?activity=all)
	IsAdmin     bool
	CanIssue    bool
}

// dashboardDays is how far back the chart looks.
const dashboardDays = 30

// dashboard shows the overview page.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	all, err := s.Store.ProjectStats(ctx)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	var stats []store.ProjectStats
	for _, p := range all {
		if may(r, web.ActView, uint32(p.AppID)) {
			stats = append(stats, p)
		}
	}
	days, err := s.Store.IssuedPerDayIn(ctx, web.PrincipalOf(r).AppIDsFor(web.ActView), dashboardDays, zoneOf(ctx).loc)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	// Inspections are many and change nothing: left out unless asked for.
	showAll := r.URL.Query().Get("activity") == "all"
	latest := store.AuditFilter{ExceptActions: quietActions}
	if showAll {
		latest = store.AuditFilter{}
	}
	events, err := s.auditPage(r, latest, "", 10)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	projects, err := s.listProjects(r, web.ActView)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := s.auditNamesFor(r, events.Events, projects)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m := DashboardModel{Names: names, AllActivity: showAll, Projects: stats, Events: events.Events, IsAdmin: isAdmin(r), CanIssue: canIssue(r),
		Chart: newChart("dashboard-chart", t(ctx, "Tokens issued per day, last 30 days ({{.Zone}})", "Zone", zoneName(ctx)), days)}
	for _, p := range stats {
		m.Total.Issued24h += p.Issued24h
		m.Total.Issued7d += p.Issued7d
		m.Total.Active += p.Active
		m.Total.Revoked += p.Revoked
	}
	s.render(w, r, http.StatusOK, s.page(r, "Dashboard", "dashboard"), DashboardView(m))
}

// quietActions are the events the dashboard's latest activity leaves out
// unless asked: looking at tokens, which changes nothing.
var quietActions = []string{"token.inspect", "token.introspect"}

// actorTypeLabel names an audit actor type for people, in the page's
// language: "operator" means a person signed in to the console, whatever
// their role.
func actorTypeLabel(ctx context.Context, kind string) string {
	switch kind {
	case store.ActorOperator:
		return t(ctx, "console account")
	case store.ActorAPIKey:
		return t(ctx, "API key")
	case store.ActorCLI:
		return "CLI"
	case store.ActorSystem:
		return t(ctx, "system")
	case store.ActorAnonymous:
		return t(ctx, "not signed in")
	default:
		return kind
	}
}
