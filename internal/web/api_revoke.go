package web

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
)

// reasonRequest is the optional body of the revoke-by-id and revoke-user
// routes; an empty body means no reason.
type reasonRequest struct {
	Reason string `json:"reason"`
}

// tokenRevokeRequest is the body of POST /api/v1/tokens/revoke.
type tokenRevokeRequest struct {
	Token  string `json:"token"`
	Reason string `json:"reason"`
}

// revokedTokenJSON is a token record after revocation.
type revokedTokenJSON struct {
	tokenJSON
	revocationJSON
}

// revocationJSON says whether, when, by whom and why a token was revoked.
type revocationJSON struct {
	Revoked   bool   `json:"revoked"`
	RevokedAt string `json:"revoked_at,omitempty"`
	RevokedBy string `json:"revoked_by,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

func revocationOf(rec store.TokenRecord) revocationJSON {
	out := revocationJSON{Revoked: rec.RevokedAt != nil}
	if rec.RevokedAt != nil {
		out.RevokedAt = apiTime(*rec.RevokedAt)
	}
	if rec.RevokedBy != nil {
		out.RevokedBy = *rec.RevokedBy
	}
	if rec.RevokeReason != nil {
		out.Reason = *rec.RevokeReason
	}
	return out
}

// apiTokenRevoke revokes a token of a project by id; revoking it again
// answers the same record.
func (s *Server) apiTokenRevoke(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.apiAppID(w, r, store.ScopeRevoke)
	if !ok {
		return
	}
	var body reasonRequest
	if !s.apiDecode(w, r, &body, true) {
		return
	}
	rec, err := s.st.RevokeToken(r.Context(), appID, strings.ToLower(r.PathValue("id")), body.Reason, actor(r), s.origin(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if rec.JustRevoked {
		s.metrics.tokensRevoked(int64(appID), 1)
	}
	apiJSON(w, http.StatusOK, revokedTokenJSON{tokenJSON: tokenJSONOf(rec), revocationJSON: revocationOf(rec)})
}

// userRevokeJSON answers a revocation of a user's tokens.
type userRevokeJSON struct {
	AppID   uint32 `json:"app_id"`
	UserID  string `json:"user_id"`
	Revoked int64  `json:"revoked"`
}

// apiUserRevoke revokes every active token of a user in a project.
func (s *Server) apiUserRevoke(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.apiAppID(w, r, store.ScopeRevoke)
	if !ok {
		return
	}
	var body reasonRequest
	if !s.apiDecode(w, r, &body, true) {
		return
	}
	userID := r.PathValue("userId")
	if len(userID) > token04.MaxUserIDLength || !utf8.ValidString(userID) {
		s.apiFail(w, r, &store.ValidationError{Fields: map[string]string{"user_id": "must be at most 64 bytes of valid UTF-8"}})
		return
	}
	n, err := s.st.RevokeUserTokens(r.Context(), appID, userID, body.Reason, actor(r), s.origin(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.metrics.tokensRevoked(int64(appID), n)
	apiJSON(w, http.StatusOK, userRevokeJSON{AppID: appID, UserID: userID, Revoked: n})
}

// apiTokenRevokeByValue revokes a presented token, RFC 7009 style: the
// answer is 200 whether or not the token is known, and a token of a project
// the key may not use is reported as not revoked (its denial is audited).
func (s *Server) apiTokenRevokeByValue(w http.ResponseWriter, r *http.Request) {
	var body tokenRevokeRequest
	if !s.apiDecode(w, r, &body, false) {
		return
	}
	if body.Token == "" {
		s.apiFail(w, r, &store.ValidationError{Fields: map[string]string{"token": "is required"}})
		return
	}
	key, _ := apiKeyFrom(r)
	fp := sha256.Sum256([]byte(body.Token))
	allowed := func(appID uint32) bool { return key.Allows(store.ScopeRevoke, appID) }
	rec, err := s.st.RevokeByFingerprint(r.Context(), fp[:], body.Reason, allowed, actor(r), s.origin(r))
	switch {
	case errors.Is(err, store.ErrTokenNotFound):
		apiJSON(w, http.StatusOK, map[string]bool{"revoked": false})
	case errors.Is(err, store.ErrForbidden):
		s.deny(r, "API key not scoped to the project of the presented token", withApp(uint32(rec.AppID)), withTokenFingerprint(fp[:]))
		apiJSON(w, http.StatusOK, map[string]bool{"revoked": false})
	case err != nil:
		s.apiFail(w, r, err)
	default:
		if rec.JustRevoked {
			s.metrics.tokensRevoked(rec.AppID, 1)
		}
		apiJSON(w, http.StatusOK, map[string]bool{"revoked": true})
	}
}

// withTokenFingerprint ties a denial to the token it was about.
func withTokenFingerprint(fp []byte) denyOption {
	return func(e *store.Event) { e.TokenFingerprint = fp }
}
