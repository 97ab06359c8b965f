package api

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// auditFilterParams are the query parameters of the API's audit filter:
// those store.ParseAuditFilter reads but token, which has no place in a URL.
var auditFilterParams = []string{"app_id", "actor", "action", "outcome", "from", "to", "q", "fingerprint"}

// Page sizes of GET /api/v1/audit.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = store.MaxAuditPageSize
)

// auditPageJSON is one page of the audit trail, newest first.
type auditPageJSON struct {
	Events       []store.AuditEvent `json:"events"`
	Next         string             `json:"next,omitempty"`           // cursor of the next page; absent on the last
	NextAfterSeq *int64             `json:"next_after_seq,omitempty"` // with after_seq: where the next page starts
}

// auditList answers one page of the audit events of the key's projects.
func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, ok := s.auditFilter(w, r, q, "limit", "cursor", "after_seq")
	if !ok {
		return
	}
	limit := auditDefaultLimit
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > auditMaxLimit {
			s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.",
				map[string]string{"limit": "want a whole number from 1 to " + strconv.Itoa(auditMaxLimit)})
			return
		}
		limit = n
	}
	if q.Has("after_seq") {
		s.auditListAfterSeq(w, r, f, limit)
		return
	}
	page, err := s.Store.ListAudit(r.Context(), f, q.Get("cursor"), limit)
	if errors.Is(err, store.ErrCursorFilters) {
		s.problem(w, r, http.StatusBadRequest, "bad-cursor", "The cursor belongs to a page of other filters; send it with the filters of that page, or start again without it.",
			map[string]string{"cursor": "made for other filters"})
		return
	}
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
		s.Fail(w, r, err)
		return
	}
	if page.Next != "" { // RFC 8288: the same query, the next cursor
		next := maps.Clone(q)
		next.Set("cursor", page.Next)
		w.Header().Set("Link", "<"+r.URL.EscapedPath()+"?"+next.Encode()+`>; rel="next"`)
	}
	out := auditPageJSON{Events: page.Events, Next: page.Next}
	if out.Events == nil {
		out.Events = []store.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, out)
}

// auditFilter reads the audit filter of the query, refusing unknown or
// repeated parameters (extra names the route's own), and limits it to the
// key's projects: the one named by app_id (403 when outside the key), or
// else every project of the key; only as they live now, so that a project
// given a deleted project's AppID does not read the deleted one's events.
func (s *Server) auditFilter(w http.ResponseWriter, r *http.Request, q url.Values, extra ...string) (store.AuditFilter, bool) {
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
		s.Fail(w, r, err)
		return f, false
	}
	if len(bad) > 0 {
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.", bad)
		return f, false
	}
	f.LiveProjects = true
	if f.AppID != 0 {
		return f, s.allowProject(w, r, store.ScopeAuditRead, f.AppID)
	}
	f.AppIDs = scopedAppIDs(r, store.ScopeAuditRead)
	if len(f.AppIDs) == 0 {
		s.problem(w, r, http.StatusForbidden, "forbidden", "This API key has no projects.", nil)
		return f, false
	}
	return f, true
}

// scopedAppIDs lists the projects the request's key may use with scope.
func scopedAppIDs(r *http.Request, scope string) []uint32 {
	return web.PrincipalOf(r).AppIDsFor(web.KeyAction(scope))
}

// auditExport streams the filtered events as NDJSON (the default) or CSV.
// The export itself is audited first: no audit event, no export.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, ok := s.auditFilter(w, r, q, "format")
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
	s.ExportAudit(w, r, f, format, store.ChannelAPI, func(err error) {
		if fields := store.FieldErrors(err); fields != nil { // a free text too common to read in time
			s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.", fields)
			return
		}
		s.Fail(w, r, err)
	})
}

// auditListAfterSeq answers a page of sealed events after a chain position,
// in chain order (oldest first): the way to follow the trail page by page.
func (s *Server) auditListAfterSeq(w http.ResponseWriter, r *http.Request, f store.AuditFilter, limit int) {
	q := r.URL.Query()
	if q.Has("cursor") {
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.",
			map[string]string{"cursor": "give cursor (newest first) or after_seq (chain order), not both"})
		return
	}
	after, ok := s.chainPosition(w, r, q, "after_seq")
	if !ok {
		return
	}
	events, _, err := s.Store.ReadAuditChain(r.Context(), f, after, limit)
	if s.chainReadFailed(w, r, err) {
		return
	}
	out := auditPageJSON{Events: events}
	if out.Events == nil {
		out.Events = []store.AuditEvent{}
	}
	if len(events) == limit {
		out.NextAfterSeq = events[len(events)-1].ChainSeq
	}
	writeJSON(w, http.StatusOK, out)
}
