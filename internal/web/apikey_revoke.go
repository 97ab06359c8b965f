package web

import "net/http"

// apiKeyRevoke revokes a key: services using it get 401 from the next request.
func (s *Server) apiKeyRevoke(w http.ResponseWriter, r *http.Request) {
	if _, err := s.st.RevokeAPIKey(r.Context(), r.PathValue("prefix"), actor(r), s.origin(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	seeOther(w, r, "/apikeys", "apikey-revoked")
}
