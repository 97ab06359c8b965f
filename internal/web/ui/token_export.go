package ui

import (
	"net/http"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

// tokenExportMax is the most token records one CSV export holds; a larger
// selection is cut there and says so in its last line.
const tokenExportMax = 50_000

// tokenExport sends the token records the list's filter selects, every
// page, as CSV (audited as token.export). Times are RFC 3339 in UTC; the
// tokens themselves are never kept, so never exported.
func (s *Server) tokenExport(w http.ResponseWriter, r *http.Request) {
	_, f, msg, ok := s.tokenFilterOf(w, r)
	if !ok {
		return
	}
	if msg != "" {
		s.renderError(w, r, http.StatusBadRequest, "Bad filter", tr(r, "Nothing was exported: {{.Reason}}.", "Reason", msg))
		return
	}
	f.Sort = store.TokenSortNewest
	now := time.Now()
	rows := [][]string{{"id", "app_id", "user_id", "room_id", "privileges", "stream_ids", "mode", "channel", "issued_by",
		"issued_at", "expires_at", "state", "revoked_at", "revoked_by", "revoke_reason", "fingerprint"}}
	for before := ""; ; {
		page, err := s.Store.ListTokens(r.Context(), f, before, 1000)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		for _, t := range page {
			if len(rows) > tokenExportMax {
				rows = append(rows, []string{"# cut at " + i18n.New(i18n.English).Number(tokenExportMax) + " records: narrow the filter to export the rest"})
				s.writeCSV(w, r, "token.export", "tokens", rows)
				return
			}
			room, privileges := t.RoomID, strings.Join(t.PrivilegeNames(), " ")
			rows = append(rows, []string{t.ID, appIDString(t.AppID), t.UserID, room, privileges, strings.Join(t.StreamIDs, " "),
				t.Mode, t.Channel, t.IssuedByName, csvTime(&t.CTime), csvTime(&t.Expire), t.State(now), csvTime(t.RevokedAt),
				derefString(t.RevokedBy), derefString(t.RevokeReason), hexString(t.Fingerprint)})
		}
		if len(page) < 1000 {
			break
		}
		before = page[len(page)-1].ID
	}
	s.writeCSV(w, r, "token.export", "tokens", rows)
}
