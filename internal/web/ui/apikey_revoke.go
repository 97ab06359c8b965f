package ui

import (
	"net/http"

	"github.com/zegocloud-console/console/internal/web"
)

// apiKeyRevoke revokes a key: services using it get 401 from the next request.
func (s *Server) apiKeyRevoke(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Store.RevokeAPIKey(r.Context(), r.PathValue("prefix"), web.Actor(r), s.Origin(r)); err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, "/apikeys", "apikey-revoked")
}
