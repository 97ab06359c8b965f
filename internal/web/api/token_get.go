package api

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
	State    string `json:"state"`
	Channel  string `json:"channel"`
	IssuedBy string `json:"issued_by"`
	revocationJSON
}

// tokenGet answers the record of a token of a project: its claims and
// whether it is active, expired or revoked — never the token itself.
func (s *Server) tokenGet(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r, store.ScopeIntrospect)
	if !ok {
		return
	}
	rec, err := s.Store.TokenByID(r.Context(), appID, strings.ToLower(r.PathValue("id")))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	kicks, err := s.Store.TokenKicks(r.Context(), []string{rec.ID})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	rec.Kick = kicks[rec.ID]
	writeJSON(w, http.StatusOK, tokenRecordJSON{tokenJSON: tokenJSONOf(rec), State: rec.State(time.Now()), Channel: rec.Channel,
		IssuedBy: rec.IssuedByName, revocationJSON: revocationOf(rec)})
}
