package api

import (
	"net/http"
	"strconv"

	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// projectJSON is a project as the API shows it: its policy, never a secret.
type projectJSON struct {
	AppID             int64    `json:"app_id"`
	Name              string   `json:"name"`
	Environment       string   `json:"environment"`
	DefaultTTLSeconds int32    `json:"default_ttl_seconds"`
	MaxTTLSeconds     int32    `json:"max_ttl_seconds"`
	PublishAllowed    bool     `json:"publish_allowed"`
	Disabled          bool     `json:"disabled"`
	KickOnRevoke      bool     `json:"kick_on_revoke"`
	ZegoServices      []string `json:"zego_services"`
	ZegoRegion        string   `json:"zego_region"`
}

// projectListJSON wraps the list in an object so that fields can be added
// later without breaking clients.
type projectListJSON struct {
	Projects []projectJSON `json:"projects"`
}

// projectList lists the projects the request's API key is scoped to.
func (s *Server) projectList(w http.ResponseWriter, r *http.Request) {
	who := web.PrincipalOf(r)
	all, err := s.Store.ListProjects(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	out := projectListJSON{Projects: []projectJSON{}}
	for _, p := range all {
		if !web.Can(who, web.ActView, uint32(p.AppID)) {
			continue
		}
		out.Projects = append(out.Projects, projectJSON{AppID: p.AppID, Name: p.Name, Environment: p.Environment,
			DefaultTTLSeconds: p.DefaultTTLSeconds, MaxTTLSeconds: p.MaxTTLSeconds,
			PublishAllowed: p.PublishAllowed, Disabled: p.Disabled, KickOnRevoke: p.KickOnRevoke, ZegoServices: p.ZegoServices,
			ZegoRegion: p.ZegoRegion})
	}
	writeJSON(w, http.StatusOK, out)
}

// appIDFromPath reads the {appId} path segment: a ZEGO AppID written canonically
// (1 to 4294967295, no sign or leading zero). Anything else names no project
// and is answered 404; a project the request's key may not use with scope is
// answered 403 (and audited) by allowProject.
func (s *Server) appIDFromPath(w http.ResponseWriter, r *http.Request, scope string) (uint32, bool) {
	raw := r.PathValue("appId")
	id, err := token04.ParseAppID(raw)
	if err != nil || strconv.FormatUint(uint64(id), 10) != raw {
		s.problem(w, r, http.StatusNotFound, "not-found", "There is no project with AppID "+strconv.Quote(raw)+".", nil)
		return 0, false
	}
	return id, s.allowProject(w, r, scope, id)
}
