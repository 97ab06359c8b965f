package api

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// Long-poll waits of GET /api/v1/audit/stream, and how often a stream
// proves it is alive.
const (
	streamDefaultWait = 30 * time.Second
	streamMaxWait     = 60 * time.Second
	streamHeartbeat   = 15 * time.Second
	streamBatch       = store.MaxAuditPageSize
)

// streamParams are the query parameters of the stream beside the filter's
// project, actor, action and outcome.
var streamParams = []string{"after", "wait"}

// auditStream is the resumable tail of the sealed chain, filtered to the
// key's projects: Server-Sent Events (id = chain_seq, resumed with
// Last-Event-ID) when asked for text/event-stream, long-poll NDJSON
// otherwise. 410 when events after the cursor were pruned.
func (s *Server) auditStream(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bad := map[string]string{}
	for _, name := range []string{"from", "to", "q", "fingerprint"} {
		if q.Has(name) {
			bad[name] = "is not a parameter of the stream, which follows the chain: filter by app_id, actor, action and outcome"
		}
	}
	if len(bad) > 0 {
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.", bad)
		return
	}
	f, ok := s.auditFilter(w, r, q, streamParams...)
	if !ok {
		return
	}
	after, ok := s.chainPosition(w, r, q, "after")
	if !ok {
		return
	}
	if id := strings.TrimSpace(r.Header.Get("Last-Event-ID")); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 0 {
			s.problem(w, r, http.StatusBadRequest, "bad-filter", "Last-Event-ID is not a chain position.", map[string]string{"Last-Event-ID": "want the id of an event of this stream"})
			return
		}
		after = n
	}
	wait := streamDefaultWait
	if raw := q.Get("wait"); raw != "" {
		d, err := time.ParseDuration(raw)
		if n, nerr := strconv.Atoi(raw); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
		if err != nil || d < 0 || d > streamMaxWait {
			s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.",
				map[string]string{"wait": "want a duration from 0s to 60s, such as 30s"})
			return
		}
		wait = d
	}
	events, searched, err := s.Store.ReadAuditChain(r.Context(), f, after, streamBatch)
	if s.chainReadFailed(w, r, err) {
		return
	}
	if acceptsEventStream(r) {
		s.serveSSE(w, r, f, events, searched)
		return
	}
	// Long poll: answer at once when there are events, else when some
	// arrive or wait is over (an empty body then).
	if len(events) == 0 && wait > 0 {
		deadline := time.NewTimer(wait)
		defer deadline.Stop()
		poll := time.NewTicker(s.Cfg.SealInterval)
		defer poll.Stop()
	waiting:
		for len(events) == 0 {
			select {
			case <-r.Context().Done():
				return
			case <-s.done:
				break waiting
			case <-deadline.C:
				break waiting
			case <-poll.C:
			}
			if events, searched, err = s.Store.ReadAuditChain(r.Context(), f, searched, streamBatch); err != nil {
				s.Fail(w, r, err)
				return
			}
		}
	}
	next := after
	if len(events) > 0 {
		next = *events[len(events)-1].ChainSeq
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Audit-Next-After", strconv.FormatInt(next, 10))
	w.WriteHeader(http.StatusOK)
	for i := range events {
		line, _ := events[i].MarshalJSON()
		w.Write(append(line, '\n')) //nolint:errcheck // a client that left is not an error
	}
}

// serveSSE streams events as Server-Sent Events until the client leaves or
// the server shuts down, polling the chain at the sealing interval and
// sending a comment now and then so that proxies keep the connection.
func (s *Server) serveSSE(w http.ResponseWriter, r *http.Request, f store.AuditFilter, events []store.AuditEvent, searched int64) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	buf := []byte("retry: 2000\n\n")
	poll := time.NewTicker(s.Cfg.SealInterval)
	defer poll.Stop()
	lastWrite := time.Now()
	for {
		for i := range events {
			buf = fmt.Appendf(buf, "id: %d\nevent: audit\ndata: ", *events[i].ChainSeq)
			line, _ := events[i].MarshalJSON()
			buf = append(append(buf, line...), '\n', '\n')
		}
		if len(buf) == 0 && time.Since(lastWrite) >= streamHeartbeat {
			buf = append(buf, ": keep-alive\n\n"...)
		}
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			buf, lastWrite = buf[:0], time.Now()
		}
		if len(events) < streamBatch {
			select {
			case <-r.Context().Done():
				return
			case <-s.done:
				return
			case <-poll.C:
			}
		}
		var err error
		if events, searched, err = s.Store.ReadAuditChain(r.Context(), f, searched, streamBatch); err != nil {
			if r.Context().Err() == nil {
				s.Log.Warn("audit stream ended", "err", err) // pruned meanwhile, or the database went away: the client resumes
			}
			return
		}
	}
}

// acceptsEventStream tells whether the client asked for text/event-stream.
func acceptsEventStream(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

// chainPosition reads a chain position parameter (absent: 0).
func (s *Server) chainPosition(w http.ResponseWriter, r *http.Request, q url.Values, name string) (int64, bool) {
	raw := q.Get(name)
	if raw == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.",
			map[string]string{name: "want a chain sequence number (chain_seq), 0 for the start"})
		return 0, false
	}
	return n, true
}

// chainReadFailed answers a failed ReadAuditChain, if it failed: 410 when
// the position's successors were pruned, 400 for a bad filter.
func (s *Server) chainReadFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrAuditCursorPruned):
		s.problem(w, r, http.StatusGone, "gone", "Events after this position were pruned and are no longer kept; start again from the oldest kept (0).", nil)
	case store.FieldErrors(err) != nil:
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.", store.FieldErrors(err))
	default:
		s.Fail(w, r, err)
	}
	return true
}
