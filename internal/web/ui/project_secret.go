package ui

import (
	"net/http"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// projectRotateSecret records a new ServerSecret (after it was reset in the
// ZEGO console) and retires the previous one. On a bad secret the project
// page comes back with the reason, never with what was typed.
func (s *Server) projectRotateSecret(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	secret := []byte(strings.TrimSpace(r.PostFormValue("secret")))
	_, err := s.Store.RotateSecret(r.Context(), appID, secret, web.Actor(r), s.Origin(r))
	clear(secret)
	if fe := store.FieldErrors(err); fe != nil {
		m, lerr := s.projectShowModel(r, appID)
		if lerr != nil {
			s.Fail(w, r, lerr)
			return
		}
		m.RotateError = tr(r, "The ServerSecret {{.Reason}}. Nothing was changed.", "Reason", fieldText(r.Context(), fe["secret"]))
		s.render(w, r, http.StatusUnprocessableEntity, s.page(r, m.Project.Name, "projects"), ProjectShowView(m))
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, projectPath(int64(appID)), "secret-rotated")
}
