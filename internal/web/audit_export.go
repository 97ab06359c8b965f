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
	if q.Get("token") != "" {
		// As on the audit page: a token does not stay in a URL (proxy logs,
		// history); the same export, by fingerprint.
		v := f.Values()
		v.Set("format", format)
		http.Redirect(w, r, "/audit/export?"+v.Encode(), http.StatusSeeOther)
		return
	}
	s.exportAudit(w, r, f, format, store.ChannelUI, func(err error) { s.fail(w, r, err) })
}

// exportAudit audits an export of the events f selects, then streams them
// in format as a download; fail answers an error that happens before the
// first byte. The UI and the API export through it alike.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, f store.AuditFilter, format, channel string, fail func(error)) {
	filter := map[string]any{}
	for name, values := range f.Values() {
		filter[name] = values[0]
	}
	appID := f.AppID // the one project exported, if it is one
	if appID == 0 && len(f.AppIDs) == 1 {
		appID = f.AppIDs[0]
	} else if len(f.AppIDs) > 1 {
		filter["app_ids"] = f.AppIDs
	}
	if err := s.st.Audit(r.Context(), store.Event{Actor: actor(r), Origin: s.origin(r), Action: "audit.export",
		Outcome: store.OutcomeSuccess, AppID: appID, TargetType: "audit", TargetID: format,
		Details: map[string]any{"format": format, "filter": filter, "channel": channel}}); err != nil {
		fail(err)
		return
	}
	enc, err := store.NewAuditEncoder(w, format)
	if err != nil {
		fail(err)
		return
	}
	name := "audit-"
	if appID != 0 {
		name += strconv.FormatUint(uint64(appID), 10) + "-"
	}
	name += time.Now().UTC().Format("20060102T150405Z") + "." + format
	w.Header().Set("Content-Type", enc.ContentType())
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	s.streamAudit(r.Context(), w, r, f, enc)
}
