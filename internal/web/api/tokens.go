package api

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// issueRequest is the body of POST /api/v1/projects/{appId}/tokens.
type issueRequest struct {
	UserID     string   `json:"user_id,omitzero"`
	TTLSeconds *int64   `json:"ttl_seconds,omitzero"`
	RoomID     string   `json:"room_id,omitzero"`
	Privileges []string `json:"privileges,omitzero"`
	StreamIDs  []string `json:"stream_ids,omitzero"`
	Mode       string   `json:"mode,omitzero"`
}

// maxTTLSeconds bounds ttl_seconds before it becomes a time.Duration; any
// value this large is above every project's maximum, which the store reports.
const maxTTLSeconds = 1 << 32

// storeRequest turns the body into the store's request for appID, checking
// what only the API spells: privilege names, mode names and the TTL's sign.
// What it finds wrong travels in the request's FieldErrors, for the store to
// report with its own checks.
func (in issueRequest) storeRequest(appID uint32) store.IssueRequest {
	fields := map[string]string{}
	req := store.IssueRequest{AppID: appID, UserID: in.UserID, RoomID: in.RoomID, StreamIDs: in.StreamIDs, Mode: token04.ModeGCM}
	if in.TTLSeconds != nil {
		switch ttl := *in.TTLSeconds; {
		case ttl < 1:
			fields["ttl_seconds"] = "must be a whole number of seconds, at least 1"
		default:
			req.TTL = time.Duration(min(ttl, maxTTLSeconds)) * time.Second
		}
	}
	if in.Privileges != nil {
		req.Privileges = &store.Privileges{}
		for _, p := range in.Privileges {
			switch p {
			case "login":
				req.Privileges.Login = true
			case "publish":
				req.Privileges.Publish = true
			default:
				fields["privileges"] = "unknown privilege " + strconv.Quote(p) + "; want login or publish"
			}
		}
	}
	// One parser for every channel; JSON also wants the documented spelling
	// of its enum, as it does for privilege names.
	mode, err := token04.ParseMode(in.Mode)
	if err != nil || (in.Mode != "" && in.Mode != mode.String()) {
		fields["mode"] = "must be gcm or cbc"
	}
	req.Mode = mode
	if len(fields) > 0 {
		req.FieldErrors = fields
	}
	return req
}

// tokenJSON is a token record as the API shows it: never the token.
type tokenJSON struct {
	ID          string    `json:"id"`
	AppID       int64     `json:"app_id"`
	UserID      string    `json:"user_id"`
	IssuedAt    string    `json:"issued_at"`
	ExpiresAt   string    `json:"expires_at"`
	Mode        string    `json:"mode"`
	Fingerprint string    `json:"fingerprint"`
	RoomID      *string   `json:"room_id,omitempty"` // these three only when the token carries room privileges
	Privileges  *[]string `json:"privileges,omitempty"`
	StreamIDs   *[]string `json:"stream_ids,omitempty"`
}

func tokenJSONOf(rec store.TokenRecord) tokenJSON {
	out := tokenJSON{ID: rec.ID, AppID: rec.AppID, UserID: rec.UserID, IssuedAt: web.RFC3339(rec.CTime),
		ExpiresAt: web.RFC3339(rec.Expire), Mode: rec.Mode, Fingerprint: hex.EncodeToString(rec.Fingerprint)}
	if rec.HasPrivilegePayload() {
		names, streams := rec.PrivilegeNames(), nonNil(rec.StreamIDs)
		out.RoomID, out.Privileges, out.StreamIDs = &rec.RoomID, &names, &streams
	}
	return out
}

// issuedTokenJSON is the answer to an issue: the token, shown this once, and
// its record.
type issuedTokenJSON struct {
	tokenJSON
	Token string `json:"token"`
}

// tokenIssue issues a token through the store's one issuing path, which
// commits the record and its audit event before the token is returned.
func (s *Server) tokenIssue(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r, store.ScopeIssue)
	if !ok {
		return
	}
	var body issueRequest
	if !s.decode(w, r, &body, false) {
		return
	}
	req := body.storeRequest(appID)
	idem, ok := s.idempotency(w, r, body, appID)
	if !ok {
		return
	}
	req.Channel, req.Actor, req.Origin = store.ChannelAPI, web.Actor(r), s.Origin(r)
	answer := func(issued store.IssuedToken) (store.Answer, error) {
		return jsonAnswer(http.StatusCreated, tokenURL(appID, issued.Record.ID),
			issuedTokenJSON{tokenJSON: tokenJSONOf(issued.Record), Token: issued.Token})
	}
	var a store.Answer
	var err error
	replayed := false
	if idem != nil {
		a, replayed, err = s.Store.IssueTokenOnce(r.Context(), req, *idem, answer)
	} else {
		var issued store.IssuedToken
		if issued, err = s.Store.IssueToken(r.Context(), req); err == nil {
			a, err = answer(issued)
		}
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	writeAnswer(w, a, replayed)
}

// tokenURL is where a token record lives in the API.
func tokenURL(appID uint32, id string) string {
	return "/api/v1/projects/" + strconv.FormatUint(uint64(appID), 10) + "/tokens/" + url.PathEscape(id)
}

// nonNil makes a nil list an empty one, so that JSON shows [] and not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeJSON writes v as the JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	a, _ := jsonAnswer(status, "", v) // the API's own types always encode
	writeAnswer(w, a, false)
}
