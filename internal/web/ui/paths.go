package ui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/zegocloud-console/console/internal/token04"
)

// appIDFromPath reads the {appID} path value. Anything but a ZEGO AppID
// (1 to 4294967295) is answered with a 404 page, and ok is false.
func (s *Server) appIDFromPath(w http.ResponseWriter, r *http.Request) (appID uint32, ok bool) {
	v, err := token04.ParseAppID(r.PathValue("appID"))
	if err != nil {
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
