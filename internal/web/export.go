package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// exportFlushEvents and exportFlushPeriod say how often a streamed export is
// pushed to the client, in events and in time, whichever comes first.
const (
	exportFlushEvents = 500
	exportFlushPeriod = time.Second
)

// ExportAudit audits an export of the events f selects, then streams them
// in format as a download; fail answers an error that happens before the
// first byte. The UI and the API export through it alike: no audit event,
// no export.
func (s *Server) ExportAudit(w http.ResponseWriter, r *http.Request, f store.AuditFilter, format, channel string, fail func(error)) {
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
	if err := s.Store.Audit(r.Context(), store.Event{Actor: Actor(r), Origin: s.Origin(r), Action: "audit.export",
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

// streamAudit writes the events, flushing now and then so that a large
// export starts arriving at once. A failure midway aborts the response, so
// the client sees a broken transfer rather than a short file.
func (s *Server) streamAudit(ctx context.Context, w http.ResponseWriter, r *http.Request, f store.AuditFilter, enc store.AuditEncoder) {
	rc := http.NewResponseController(w)
	n, last := 0, time.Now()
	err := s.Store.ExportAudit(ctx, f, func(e store.AuditEvent) error {
		if err := enc.Write(e); err != nil {
			return err
		}
		if n++; n%exportFlushEvents == 0 || time.Since(last) > exportFlushPeriod {
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
			s.Log.Error("audit export failed", "request_id", RequestID(r), "events", n, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	_ = rc.Flush()
}
