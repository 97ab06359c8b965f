package ui

import (
	"context"
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// ProjectRow is a project in the list with its masked active secret.
type ProjectRow struct {
	Project       store.Project
	SecretMasked  string // "••••…last4", or "" when the project has no secret
	SecretVersion int32
}

// ProjectListModel is the projects page.
type ProjectListModel struct {
	Rows    []ProjectRow
	IsAdmin bool
}

// projectList shows every live project.
func (s *Server) projectList(w http.ResponseWriter, r *http.Request) {
	projects, err := s.listProjects(r, web.ActView)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m := ProjectListModel{IsAdmin: isAdmin(r)}
	for _, p := range projects {
		row := ProjectRow{Project: p}
		versions, err := s.Store.SecretVersions(r.Context(), uint32(p.AppID))
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		for _, v := range versions {
			if v.Active {
				row.SecretMasked, row.SecretVersion = v.Masked(), v.Version
			}
		}
		m.Rows = append(m.Rows, row)
	}
	s.render(w, r, http.StatusOK, s.page(r, "Projects", "projects"), ProjectListView(m))
}

// policySummary is a project's issuing policy in a few words.
func policySummary(ctx context.Context, p store.Project) string {
	publish := t(ctx, "publish allowed")
	if !p.PublishAllowed {
		publish = t(ctx, "no publish")
	}
	return t(ctx, "default {{.TTL}}", "TTL", lifetime(ctx, int64(p.DefaultTTLSeconds))) + " · " +
		t(ctx, "max {{.TTL}}", "TTL", lifetime(ctx, int64(p.MaxTTLSeconds))) + " · " + publish
}
