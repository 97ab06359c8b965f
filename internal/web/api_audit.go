package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// auditFilterParams are the query parameters of the API's audit filter:
// those store.ParseAuditFilter reads but token, which has no place in a URL.
var auditFilterParams = []string{"app_id", "actor", "action", "outcome", "from", "to", "q", "fingerprint"}

// Page sizes of GET /api/v1/audit.
const (
	apiAuditDefaultLimit = 100
	apiAuditMaxLimit     = store.MaxAuditPageSize
)

// auditPageJSON is one page of the audit trail, newest first.
type auditPageJSON struct {
	Events []store.AuditEvent `json:"events"`
	Next   string             `json:"next,omitempty"` // cursor of the next page; absent on the last
}

// apiAuditList answers one page of the audit events of the key's projects.
func (s *Server) apiAuditList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, ok := s.apiAuditFilter(w, r, q, "limit", "cursor")
	if !ok {
		return
	}
	limit := apiAuditDefaultLimit
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > apiAuditMaxLimit {
			s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.",
				map[string]string{"limit": "want a whole number from 1 to " + strconv.Itoa(apiAuditMaxLimit)})
			return
		}
		limit = n
	}
	page, err := s.st.ListAudit(r.Context(), f, q.Get("cursor"), limit)
	if errors.Is(err, store.ErrBadCursor) {
		s.problem(w, r, http.StatusBadRequest, "bad-cursor", "The cursor was not made by this API; start again without it.",
			map[string]string{"cursor": "not a cursor of this API"})
		return
	}
	if fe := store.FieldErrors(err); fe != nil {
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.", fe)
		return
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := auditPageJSON{Events: page.Events, Next: page.Next}
	if out.Events == nil {
		out.Events = []store.AuditEvent{}
	}
	apiJSON(w, http.StatusOK, out)
}

// apiAuditFilter reads the audit filter of the query, refusing unknown or
// repeated parameters (extra names the route's own), and limits it to the
// key's projects: the one named by app_id (403 when outside the key), or
// else every project of the key.
func (s *Server) apiAuditFilter(w http.ResponseWriter, r *http.Request, q url.Values, extra ...string) (store.AuditFilter, bool) {
	bad := map[string]string{}
	for name, values := range q {
		switch {
		case name == "token":
			bad[name] = "a token does not belong in a URL (logs keep URLs): send fingerprint, the SHA-256 of the token in hex"
		case !slices.Contains(auditFilterParams, name) && !slices.Contains(extra, name):
			bad[name] = "is not a parameter of this route"
		case len(values) > 1:
			bad[name] = "is given more than once"
		}
	}
	f, err := store.ParseAuditFilter(q)
	for field, reason := range store.FieldErrors(err) {
		bad[field] = reason
	}
	if err != nil && len(bad) == 0 {
		s.apiFail(w, r, err)
		return f, false
	}
	if len(bad) > 0 {
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.", bad)
		return f, false
	}
	if f.AppID != 0 {
		return f, s.allowProject(w, r, store.ScopeAuditRead, f.AppID)
	}
	f.AppIDs = apiScopedAppIDs(r, store.ScopeAuditRead)
	if len(f.AppIDs) == 0 {
		s.problem(w, r, http.StatusForbidden, "forbidden", "This API key has no projects.", nil)
		return f, false
	}
	return f, true
}

// apiScopedAppIDs lists the projects the request's key may use with scope.
func apiScopedAppIDs(r *http.Request, scope string) []uint32 {
	key, _ := apiKeyFrom(r)
	var ids []uint32
	for _, id := range key.AppIDs {
		if key.Allows(scope, uint32(id)) {
			ids = append(ids, uint32(id))
		}
	}
	return ids
}

// auditExportFlushEvents and auditExportFlushPeriod say how often a streamed export is pushed to the
// client, in events and in time, whichever comes first.
const (
	auditExportFlushEvents = 500
	auditExportFlushPeriod = time.Second
)

// apiAuditExport streams the filtered events as NDJSON (the default) or CSV.
// The export itself is audited first: no audit event, no export.
func (s *Server) apiAuditExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, ok := s.apiAuditFilter(w, r, q, "format")
	if !ok {
		return
	}
	format := q.Get("format")
	if format == "" {
		format = store.AuditFormatNDJSON
	}
	if format != store.AuditFormatNDJSON && format != store.AuditFormatCSV {
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.",
			map[string]string{"format": "want ndjson or csv"})
		return
	}
	s.exportAudit(w, r, f, format, store.ChannelAPI, func(err error) { s.apiFail(w, r, err) })
}

// streamAudit writes the events, flushing now and then so that a large
// export starts arriving at once. A failure midway aborts the response, so
// the client sees a broken transfer rather than a short file.
func (s *Server) streamAudit(ctx context.Context, w http.ResponseWriter, r *http.Request, f store.AuditFilter, enc store.AuditEncoder) {
	rc := http.NewResponseController(w)
	n, last := 0, time.Now()
	err := s.st.ExportAudit(ctx, f, func(e store.AuditEvent) error {
		if err := enc.Write(e); err != nil {
			return err
		}
		if n++; n%auditExportFlushEvents == 0 || time.Since(last) > auditExportFlushPeriod {
			if err := enc.Flush(); err != nil {
				return err
			}
			_ = rc.Flush()
			last = time.Now()
		}
		return nil
	})
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("audit export failed", "request_id", requestID(r), "events", n, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	_ = rc.Flush()
}
