package ui

import (
	"net/http"

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
