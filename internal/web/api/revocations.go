package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// maxFeedWait is the longest long poll of the revocation feed.
const maxFeedWait = 60 * time.Second

// cursorHeader carries the cursor of a feed answer: the after of the next
// read, past entries of projects the key does not see.
const cursorHeader = "Revocation-Cursor"

// revocationJSONLine is one entry of the revocation feed as the API shows it.
type revocationJSONLine struct {
	Seq         int64  `json:"seq"`
	AppID       int64  `json:"app_id"`
	TokenID     string `json:"token_id"`
	Fingerprint string `json:"fingerprint"`
	UserID      string `json:"user_id"`
	RoomID      string `json:"room_id"`
	Expire      string `json:"expire"`
	RevokedAt   string `json:"revoked_at"`
}

func revocationLineOf(r store.Revocation) revocationJSONLine {
	return revocationJSONLine{Seq: r.Seq, AppID: r.AppID, TokenID: r.TokenID, Fingerprint: hex.EncodeToString(r.Fingerprint),
		UserID: r.UserID, RoomID: r.RoomID, Expire: web.RFC3339(r.Expire), RevokedAt: web.RFC3339(r.RevokedAt)}
}

// snapshotJSON is every revocation of an unexpired token of the key's
// projects and the seq to follow the feed from.
type snapshotJSON struct {
	Seq         int64                `json:"seq"`
	Revocations []revocationJSONLine `json:"revocations"`
}

// feedProjects is the projects the key may read revocations of; with none,
// the request is refused (and audited).
func (s *Server) feedProjects(w http.ResponseWriter, r *http.Request) ([]int64, bool) {
	var apps []int64
	for _, id := range scopedAppIDs(r, store.ScopeRevocationsRead) {
		apps = append(apps, int64(id))
	}
	if len(apps) == 0 {
		s.refuse(w, r, "API key has no projects to read revocations of", http.StatusForbidden, "forbidden", "This API key has no projects.")
		return nil, false
	}
	return apps, true
}

// feedQuery reads after and wait, refusing anything else.
func (s *Server) feedQuery(w http.ResponseWriter, r *http.Request) (after int64, wait time.Duration, ok bool) {
	bad := map[string]string{}
	for name, values := range r.URL.Query() {
		switch {
		case name != "after" && name != "wait":
			bad[name] = "is not a parameter of this route"
		case len(values) > 1:
			bad[name] = "is given more than once"
		}
	}
	q := r.URL.Query()
	if raw := q.Get("after"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			bad["after"] = "want the seq of the last revocation read: a whole number, 0 or more"
		}
		after = n
	}
	if raw := q.Get("wait"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 || d > maxFeedWait {
			bad["wait"] = "want a duration from 0s to 60s, such as 30s"
		}
		wait = d
	}
	if len(bad) > 0 {
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.", bad)
		return 0, 0, false
	}
	return after, wait, true
}

// revocationFeed answers the revocations of the key's projects that follow
// the cursor after, oldest first, as NDJSON; with wait, it holds the request
// until one comes or wait passes. A cursor older than what is kept is 410.
func (s *Server) revocationFeed(w http.ResponseWriter, r *http.Request) {
	after, wait, ok := s.feedQuery(w, r)
	if !ok {
		return
	}
	apps, ok := s.feedProjects(w, r)
	if !ok {
		return
	}
	deadline := time.Now().Add(wait)
	for {
		page, err := s.Store.RevocationsAfter(r.Context(), apps, after, store.MaxRevocationPage)
		if errors.Is(err, store.ErrFeedCursorGone) {
			s.problem(w, r, http.StatusGone, "cursor-gone", "The feed no longer holds what follows this cursor: load "+
				"/api/v1/revocations/snapshot and follow the feed from its seq.", nil)
			return
		}
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		if len(page.Revocations) > 0 || !time.Now().Before(deadline) || !s.waitFeed(r.Context(), page.Cursor, deadline) {
			writeFeed(w, page)
			return
		}
		after = page.Cursor
	}
}

// waitFeed waits until the feed moves past cursor; it reports false when
// deadline passes, the client leaves or the server shuts down first.
func (s *Server) waitFeed(ctx context.Context, cursor int64, deadline time.Time) bool {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	go func() {
		select {
		case <-s.Draining():
			cancel()
		case <-ctx.Done():
		}
	}()
	return s.Store.WaitRevocations(ctx, cursor) == nil
}

// writeFeed writes a page of the feed as NDJSON with its cursor.
func writeFeed(w http.ResponseWriter, page store.RevocationPage) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set(cursorHeader, strconv.FormatInt(page.Cursor, 10))
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, rev := range page.Revocations {
		_ = enc.Encode(revocationLineOf(rev))
	}
}

// revocationSnapshot answers every revocation of an unexpired token of the
// key's projects and the seq to follow the feed from.
func (s *Server) revocationSnapshot(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		bad := map[string]string{}
		for name := range r.URL.Query() {
			bad[name] = "is not a parameter of this route"
		}
		s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.", bad)
		return
	}
	apps, ok := s.feedProjects(w, r)
	if !ok {
		return
	}
	snap, err := s.Store.RevocationSnapshotOf(r.Context(), apps)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	out := snapshotJSON{Seq: snap.Seq, Revocations: make([]revocationJSONLine, 0, len(snap.Revocations))}
	for _, rev := range snap.Revocations {
		out.Revocations = append(out.Revocations, revocationLineOf(rev))
	}
	writeJSON(w, http.StatusOK, out)
}
