package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// auditExport streams the events of the audit page's current filter as CSV
// or NDJSON, as a download. The export is audited first, with its filter
// (a token appears in it only as its fingerprint): no audit event, no export.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) {
	q := auditQuery(r)
	format := q.Get("format")
	if format != store.AuditFormatCSV && format != store.AuditFormatNDJSON {
		s.renderError(w, r, http.StatusBadRequest, "Bad export format", "Choose CSV or NDJSON: format must be csv or ndjson.")
		return
	}
	f, err := store.ParseAuditFilter(q)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Bad filter", "The export was not started: "+orAny(joinFieldErrors(store.FieldErrors(err)), err.Error()))
		return
	}
	filter := map[string]string{}
	for name, values := range f.Values() {
		filter[name] = values[0]
	}
	if err := s.st.Audit(r.Context(), store.Event{Actor: actor(r), Origin: s.origin(r), Action: "audit.export",
		Outcome: store.OutcomeSuccess, AppID: f.AppID, TargetType: "audit", TargetID: format,
		Details: map[string]any{"format": format, "filter": filter, "channel": store.ChannelUI}}); err != nil {
		s.fail(w, r, err)
		return
	}
	enc, err := store.NewAuditEncoder(w, format)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := "audit-" + time.Now().UTC().Format("20060102T150405Z") + "." + format
	if f.AppID != 0 {
		name = "audit-" + strconv.FormatUint(uint64(f.AppID), 10) + "-" + name[len("audit-"):]
	}
	w.Header().Set("Content-Type", enc.ContentType())
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	s.streamAudit(r.Context(), w, r, f, enc)
}
