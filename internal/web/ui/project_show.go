package ui

import (
	"net/http"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/zego"
)

// ProjectShowModel is a project's page: policy, secret versions, recent
// tokens, and the admin's actions.
type ProjectShowModel struct {
	Project     store.Project
	Versions    []store.SecretVersion
	Tokens      []store.TokenRecord
	Chart       ChartModel
	IsAdmin     bool
	CanIssue    bool
	RotateError string // why the last rotation was refused
	Now         time.Time
}

// projectShow shows one project.
func (s *Server) projectShow(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r)
	if !ok || !s.allowApp(w, r, web.ActView, appID) {
		return
	}
	m, err := s.projectShowModel(r, appID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, s.page(r, m.Project.Name, "projects"), ProjectShowView(m))
}

// projectShowModel loads everything the project page shows.
func (s *Server) projectShowModel(r *http.Request, appID uint32) (ProjectShowModel, error) {
	ctx := r.Context()
	p, err := s.Store.ProjectByAppID(ctx, appID)
	if err != nil {
		return ProjectShowModel{}, err
	}
	versions, err := s.Store.SecretVersions(ctx, appID)
	if err != nil {
		return ProjectShowModel{}, err
	}
	tokens, err := s.Store.ListTokens(ctx, store.TokenFilter{AppID: appID}, "", 10)
	if err != nil {
		return ProjectShowModel{}, err
	}
	days, err := s.Store.IssuedPerDay(ctx, appID, dashboardDays)
	if err != nil {
		return ProjectShowModel{}, err
	}
	return ProjectShowModel{Project: p, Versions: versions, Tokens: tokens, IsAdmin: isAdmin(r), CanIssue: may(r, web.ActIssue, appID),
		Chart: newChart("project-chart", "Tokens issued per day for "+p.Name+", last 30 days (UTC)", days), Now: time.Now()}, nil
}

// publishText says whether the project's policy allows the publish privilege.
func publishText(p store.Project) string {
	if p.PublishAllowed {
		return "may be granted"
	}
	return "never granted (login only)"
}

// kickText says what revoking a token of the project does at ZEGO.
func kickText(p store.Project) string {
	names := make([]string, len(p.ZegoServices))
	for i, s := range p.ZegoServices {
		names[i] = zego.ServiceName(s)
	}
	uses := strings.Join(names, " and ")
	if !p.KickOnRevoke {
		return "recorded here only; ZEGO is not asked to kick the user (uses " + uses + ")"
	}
	return "the user is kicked out of the token's room in " + uses + " (" + regionLabel(p.ZegoRegion) + ")"
}

// regionLabel names a region of ZEGO's server APIs as people read it.
func regionLabel(region string) string {
	if region == zego.RegionGlobal {
		return "global"
	}
	return region + " (" + zego.Host(zego.ServiceRTC, region) + ")"
}

// tokenStateClass is the badge of a token's state.
func tokenStateClass(state string) string { return "badge state-" + state }

// roomText names a token's room, or says it has none.
func roomText(rec store.TokenRecord) string {
	switch {
	case !rec.HasPrivilegePayload():
		return "—"
	case rec.RoomID == "":
		return "any room"
	default:
		return rec.RoomID
	}
}
