package ui

import (
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
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
		s.renderError(w, r, http.StatusBadRequest, "Bad filter", tr(r, "The export was not started: {{.Errors}}", "Errors", orAny(joinFieldErrors(r.Context(), store.FieldErrors(err)), err.Error())))
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
	if f.AppID != 0 && !s.allowApp(w, r, web.ActAuditRead, f.AppID) {
		return
	}
	f, ok := scopeAudit(r, f)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "Nothing to export", "You reach no project, so there is no audit trail of yours to export.")
		return
	}
	s.ExportAudit(w, r, f, format, store.ChannelUI, func(err error) {
		if fields := store.FieldErrors(err); fields != nil { // a free text too common to read in time
			s.renderError(w, r, http.StatusBadRequest, "Bad filter", tr(r, "The export was not started: {{.Errors}}", "Errors", joinFieldErrors(r.Context(), fields)))
			return
		}
		s.failAs(w, r, err, "Nothing was exported.")
	})
}
