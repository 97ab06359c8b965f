package ui

import (
	"net/http"
	"strings"

	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// readForm parses a posted form of at most 64 KiB; on failure it answers
// 400 and returns false.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Bad form", "The form could not be read. Reload the page and try again.")
		return false
	}
	return true
}

// chosenProject reads a project chosen from a list, by its AppID; msg is the
// field's error when none was chosen or the value is not an AppID.
func chosenProject(v string) (appID uint32, msg string) {
	if strings.TrimSpace(v) == "" {
		return 0, "choose a project"
	}
	id, err := token04.ParseAppID(v)
	if err != nil {
		return 0, err.Error()
	}
	return id, ""
}
