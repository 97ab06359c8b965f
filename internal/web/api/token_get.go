package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// tokenRecordJSON is a token's record with its state: where an issue's
// Location header points.
type tokenRecordJSON struct {
	tokenJSON
	State    string `json:"state"`
	Channel  string `json:"channel"`
	IssuedBy string `json:"issued_by"`
	revocationJSON
	Kicks []kickJSON `json:"kicks,omitempty"`
}

// kickJSON is one kick of the token's user out of its room in one ZEGO
// product, with ZEGO's answer to its last attempt.
type kickJSON struct {
	Service   string `json:"service"`
	RoomID    string `json:"room_id"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	Code      *int64 `json:"code,omitempty"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	UpdatedAt string `json:"updated_at"`
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
	rec.Kick = store.KickState(kicks[rec.ID])
	out := tokenRecordJSON{tokenJSON: tokenJSONOf(rec), State: rec.State(time.Now()), Channel: rec.Channel,
		IssuedBy: rec.IssuedByName, revocationJSON: revocationOf(rec)}
	for _, k := range kicks[rec.ID] {
		out.Kicks = append(out.Kicks, kickJSON{Service: k.Service, RoomID: k.RoomID, Status: k.Status, Attempts: k.Attempts,
			Code: k.Code, Message: k.Message, RequestID: k.RequestID, UpdatedAt: web.RFC3339(k.UpdatedAt)})
	}
	writeJSON(w, http.StatusOK, out)
}
