package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// ProjectDeleteModel is the page that asks an admin to confirm a deletion.
type ProjectDeleteModel struct {
	Project  store.Project
	Versions int   // secret versions that will be destroyed
	Active   int64 // tokens still valid at ZEGO
	Confirm  string
	Error    string
}

// projectDisable stops issuing for a project.
func (s *Server) projectDisable(w http.ResponseWriter, r *http.Request) {
	s.setProjectDisabled(w, r, true)
}

// projectEnable resumes issuing for a project.
func (s *Server) projectEnable(w http.ResponseWriter, r *http.Request) {
	s.setProjectDisabled(w, r, false)
}

func (s *Server) setProjectDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	appID, ok := s.appIDFromPath(w, r)
	if !ok {
		return
	}
	if err := s.Store.SetProjectDisabled(r.Context(), appID, disabled, web.Actor(r), s.Origin(r)); err != nil {
		s.Fail(w, r, err)
		return
	}
	notice := "project-enabled"
	if disabled {
		notice = "project-disabled"
	}
	seeOther(w, r, projectPath(int64(appID)), notice)
}

// projectDeleteConfirm explains what deleting the project does and asks for
// its AppID as confirmation.
func (s *Server) projectDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r)
	if !ok {
		return
	}
	m, err := s.projectDeleteModel(r, appID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, s.page(r, tr(r, "Delete {{.Name}}", "Name", m.Project.Name), "projects"), ProjectDeleteView(m))
}

// projectDelete deletes the project once its AppID was typed in confirm.
func (s *Server) projectDelete(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	confirm := strings.TrimSpace(r.PostFormValue("confirm"))
	if confirm != strconv.FormatUint(uint64(appID), 10) {
		m, err := s.projectDeleteModel(r, appID)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		m.Confirm, m.Error = confirm, tr(r, "Type the AppID {{.AppID}} exactly to confirm. Nothing was deleted.", "AppID", strconv.FormatUint(uint64(appID), 10))
		s.render(w, r, http.StatusUnprocessableEntity, s.page(r, tr(r, "Delete {{.Name}}", "Name", m.Project.Name), "projects"), ProjectDeleteView(m))
		return
	}
	if err := s.Store.DeleteProject(r.Context(), appID, web.Actor(r), s.Origin(r)); err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, "/projects", "project-deleted")
}

func (s *Server) projectDeleteModel(r *http.Request, appID uint32) (ProjectDeleteModel, error) {
	p, err := s.Store.ProjectByAppID(r.Context(), appID)
	if err != nil {
		return ProjectDeleteModel{}, err
	}
	versions, err := s.Store.SecretVersions(r.Context(), appID)
	if err != nil {
		return ProjectDeleteModel{}, err
	}
	stats, err := s.Store.ProjectStats(r.Context())
	if err != nil {
		return ProjectDeleteModel{}, err
	}
	m := ProjectDeleteModel{Project: p, Versions: len(versions)}
	for _, st := range stats {
		if st.AppID == p.AppID {
			m.Active = st.Active
		}
	}
	return m, nil
}
