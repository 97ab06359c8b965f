package web

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// ErrExportBusy means this instance already streams as many audit exports
// as it may (Config.ExportConcurrency): the export is refused, not queued.
var ErrExportBusy = errors.New("web: too many audit exports at once")

// Limits of audit exports when the configuration leaves them unset.
const (
	DefaultExportBatchTimeout = 3 * time.Second  // as long as a page of free-text search may take
	DefaultExportMaxDuration  = 15 * time.Minute // about 100 million events at the measured rate
	DefaultExportConcurrency  = 2
)

// exportRetryAfter is the Retry-After, in seconds, of a busy refusal.
const exportRetryAfter = "30"

// exportFlushEvents and exportFlushPeriod say how often a streamed export is
// pushed to the client, in events and in time, whichever comes first.
const (
	exportFlushEvents = 500
	exportFlushPeriod = time.Second
)

// Reasons, in the audit trail and the logs, why an export was refused or
// aborted.
const (
	exportBusy        = "busy"         // the instance's exports are all taken
	exportTooSlow     = "too_slow"     // a batch took longer than ExportBatchTimeout
	exportMaxDuration = "max_duration" // the export took longer than ExportMaxDuration
)

// ExportAudit streams the events f selects in format as a download, within
// the export limits of the configuration; fail answers an error that happens
// before the first byte. The UI and the API export through it alike. The
// export is audited once its first batch has been read and before a byte is
// sent: no audit event, no export. One refused for a limit (busy, a batch
// too slow) is audited with outcome error and its reason, then answered with
// fail; one that hits a limit midway is audited and logged likewise, and its
// transfer aborted.
func (s *Server) ExportAudit(w http.ResponseWriter, r *http.Request, f store.AuditFilter, format, channel string, fail func(error)) {
	x := &auditExport{s: s, w: w, r: r, rc: http.NewResponseController(w), format: format, event: s.exportEvent(r, f, format, channel)}
	select {
	case s.exportSlots <- struct{}{}:
		defer func() { <-s.exportSlots }()
	default:
		w.Header().Set("Retry-After", exportRetryAfter)
		x.refuse(ErrExportBusy, exportBusy, fail)
		return
	}
	deadline := time.Now().Add(s.Cfg.ExportMaxDuration)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	// A client that stops reading cannot hold the export past its time either.
	_ = x.rc.SetWriteDeadline(deadline)
	defer x.rc.SetWriteDeadline(time.Time{}) //nolint:errcheck // the connection serves other requests after this one
	err := s.Store.ExportAudit(ctx, f, s.Cfg.ExportBatchTimeout, x.write)
	if err == nil && x.enc == nil {
		err = x.start() // nothing matched: an empty file
	}
	if err == nil {
		err = x.enc.Close()
	}
	if err == nil {
		_ = x.rc.Flush()
		return
	}
	reason := ""
	switch {
	case errors.Is(err, store.ErrAuditTooSlow):
		reason = exportTooSlow
	case !time.Now().Before(deadline):
		reason = exportMaxDuration
	}
	if x.enc == nil {
		if reason == "" || errors.Is(err, store.ErrAuditWrite) {
			fail(err)
			return
		}
		x.refuse(err, reason, fail)
		return
	}
	x.abort(err, reason)
}

// exportEvent is the audit.export event of an export: its filter, format
// and channel.
func (s *Server) exportEvent(r *http.Request, f store.AuditFilter, format, channel string) store.Event {
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
	return store.Event{Actor: Actor(r), Origin: s.Origin(r), Action: "audit.export", Outcome: store.OutcomeSuccess,
		AppID: appID, TargetType: "audit", TargetID: format, Details: map[string]any{"format": format, "filter": filter, "channel": channel}}
}

// auditExport is one export in progress; enc is set once it has started.
type auditExport struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	rc     *http.ResponseController
	format string
	event  store.Event
	enc    store.AuditEncoder
	n      int
	last   time.Time
}

// start audits the export, then sends the headers of the download.
func (x *auditExport) start() error {
	if err := x.s.Store.Audit(x.r.Context(), x.event); err != nil {
		return err
	}
	enc, err := store.NewAuditEncoder(x.w, x.format)
	if err != nil {
		return err
	}
	name := "audit-"
	if x.event.AppID != 0 {
		name += strconv.FormatUint(uint64(x.event.AppID), 10) + "-"
	}
	name += time.Now().UTC().Format("20060102T150405Z") + "." + x.format
	x.w.Header().Set("Content-Type", enc.ContentType())
	x.w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	x.w.WriteHeader(http.StatusOK)
	x.enc, x.last = enc, time.Now()
	return nil
}

// write streams one event, starting the export before the first, and
// flushes now and then so that a large export starts arriving at once.
func (x *auditExport) write(e store.AuditEvent) error {
	if x.enc == nil {
		if err := x.start(); err != nil {
			return err
		}
	}
	if err := x.enc.Write(e); err != nil {
		return err
	}
	if x.n++; x.n%exportFlushEvents == 0 || time.Since(x.last) > exportFlushPeriod {
		if err := x.enc.Flush(); err != nil {
			return err
		}
		_ = x.rc.Flush()
		x.last = time.Now()
	}
	return nil
}

// audited records the export with outcome error and why, with extra
// details; it is written even when the request's context has ended.
func (x *auditExport) audited(reason string, extra map[string]any) error {
	e := x.event
	e.Outcome = store.OutcomeError
	e.Details = maps.Clone(e.Details)
	e.Details["reason"] = reason
	maps.Copy(e.Details, extra)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(x.r.Context()), 5*time.Second)
	defer cancel()
	return x.s.Store.Audit(ctx, e)
}

// refuse audits an export refused before its first byte, then answers err
// (or the audit failure, which refuses it as well).
func (x *auditExport) refuse(err error, reason string, fail func(error)) {
	x.s.Log.Warn("audit export refused", "request_id", RequestID(x.r), "reason", reason, "err", err)
	if aerr := x.audited(reason, nil); aerr != nil {
		fail(aerr)
		return
	}
	fail(err)
}

// abort ends an export that failed midway: the client sees a broken
// transfer rather than a short file. A limit hit is audited too.
func (x *auditExport) abort(err error, reason string) {
	switch {
	case reason != "":
		x.s.Log.Error("audit export aborted", "request_id", RequestID(x.r), "reason", reason, "events", x.n, "err", err)
		if aerr := x.audited(reason, map[string]any{"aborted_after_events": x.n}); aerr != nil {
			x.s.Log.Error("audit export aborted: not audited", "request_id", RequestID(x.r), "err", aerr)
		}
	case x.r.Context().Err() == nil:
		x.s.Log.Error("audit export failed", "request_id", RequestID(x.r), "events", x.n, "err", err)
	}
	panic(http.ErrAbortHandler)
}
