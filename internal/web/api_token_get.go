package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// tokenRecordJSON is a token's record with its state: where an issue's
// Location header points.
type tokenRecordJSON struct {
	tokenJSON
	State     string `json:"state"`
	Channel   string `json:"channel"`
	IssuedBy  string `json:"issued_by"`
	Revoked   bool   `json:"revoked"`
	RevokedAt string `json:"revoked_at,omitempty"`
	RevokedBy string `json:"revoked_by,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// apiTokenGet answers the record of a token of a project: its claims and
// whether it is active, expired or revoked — never the token itself.
func (s *Server) apiTokenGet(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.apiAppID(w, r)
	if !ok || !s.allowProject(w, r, store.ScopeIntrospect, appID) {
		return
	}
	rec, err := s.st.TokenByID(r.Context(), appID, strings.ToLower(r.PathValue("id")))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := tokenRecordJSON{tokenJSON: tokenJSONOf(rec), State: rec.State(time.Now()), Channel: rec.Channel,
		IssuedBy: rec.IssuedByName, Revoked: rec.RevokedAt != nil}
	if rec.RevokedAt != nil {
		out.RevokedAt = apiTime(*rec.RevokedAt)
	}
	if rec.RevokedBy != nil {
		out.RevokedBy = *rec.RevokedBy
	}
	if rec.RevokeReason != nil {
		out.Reason = *rec.RevokeReason
	}
	apiJSON(w, http.StatusOK, out)
}
