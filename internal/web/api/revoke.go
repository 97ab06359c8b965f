package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// reasonRequest is the optional body of the revoke-by-id and revoke-user
// routes; an empty body means no reason.
type reasonRequest struct {
	Reason string `json:"reason,omitzero"`
}

// tokenRevokeRequest is the body of POST /api/v1/tokens/revoke.
type tokenRevokeRequest struct {
	Token         string `json:"token,omitzero"`
	TokenTypeHint string `json:"token_type_hint,omitzero"` // RFC 7009 §2.1; ignored
	Reason        string `json:"reason,omitzero"`
}

// revokedTokenJSON is a token record after revocation.
type revokedTokenJSON struct {
	tokenJSON
	revocationJSON
}

// revocationJSON says whether, when, by whom and why a token was revoked,
// and where the kicks out of its room at ZEGO are (absent when none).
type revocationJSON struct {
	Revoked   bool   `json:"revoked"`
	RevokedAt string `json:"revoked_at,omitempty"`
	RevokedBy string `json:"revoked_by,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Kick      string `json:"kick,omitempty"`
}

func revocationOf(rec store.TokenRecord) revocationJSON {
	out := revocationJSON{Revoked: rec.RevokedAt != nil, Kick: rec.Kick}
	if rec.RevokedAt != nil {
		out.RevokedAt = web.RFC3339(*rec.RevokedAt)
	}
	if rec.RevokedBy != nil {
		out.RevokedBy = *rec.RevokedBy
	}
	if rec.RevokeReason != nil {
		out.Reason = *rec.RevokeReason
	}
	return out
}

// tokenRevoke revokes a token of a project by id; revoking it again
// answers the same record.
func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r, store.ScopeRevoke)
	if !ok {
		return
	}
	var body reasonRequest
	if !s.decode(w, r, &body, true) {
		return
	}
	rec, err := s.Store.RevokeToken(r.Context(), appID, strings.ToLower(r.PathValue("id")), body.Reason, web.Actor(r), s.Origin(r))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revokedTokenJSON{tokenJSON: tokenJSONOf(rec), revocationJSON: revocationOf(rec)})
}

// userRevokeJSON answers a revocation of a user's tokens.
type userRevokeJSON struct {
	AppID   uint32 `json:"app_id"`
	UserID  string `json:"user_id"`
	Revoked int64  `json:"revoked"`
	Kick    string `json:"kick,omitempty"`
}

// userRevoke revokes every active token of a user in a project.
func (s *Server) userRevoke(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r, store.ScopeRevoke)
	if !ok {
		return
	}
	var body reasonRequest
	if !s.decode(w, r, &body, true) {
		return
	}
	idem, ok := s.idempotency(w, r, body, appID)
	if !ok {
		return
	}
	userID := r.PathValue("userId") // checked by the store with the issuing rule
	answer := func(res store.UserRevocation) (store.Answer, error) {
		return jsonAnswer(http.StatusOK, "", userRevokeJSON{AppID: appID, UserID: userID, Revoked: res.Revoked, Kick: res.Kick})
	}
	var a store.Answer
	var err error
	replayed := false
	if idem != nil {
		a, replayed, err = s.Store.RevokeUserTokensOnce(r.Context(), appID, userID, body.Reason, web.Actor(r), s.Origin(r), *idem, answer)
	} else {
		var res store.UserRevocation
		if res, err = s.Store.RevokeUserTokens(r.Context(), appID, userID, body.Reason, web.Actor(r), s.Origin(r)); err == nil {
			a, err = answer(res)
		}
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	writeAnswer(w, a, replayed)
}

// tokenRevokeByValue revokes a presented token, RFC 7009 style: the
// answer is 200 whether or not the token is known, and a token of a project
// the key may not use is reported as not revoked (its denial is audited).
func (s *Server) tokenRevokeByValue(w http.ResponseWriter, r *http.Request) {
	var body tokenRevokeRequest
	if !s.decodeTokenRequest(w, r, &body) || !s.requireToken(w, r, body.Token) {
		return
	}
	p := web.PrincipalOf(r)
	fp := token04.FingerprintSum(body.Token)
	allowed := func(appID uint32) bool { return web.Can(p, web.ActRevoke, appID) }
	rec, err := s.Store.RevokeByFingerprint(r.Context(), fp[:], body.Reason, allowed, web.Actor(r), s.Origin(r))
	switch {
	case errors.Is(err, store.ErrTokenNotFound):
		writeJSON(w, http.StatusOK, map[string]bool{"revoked": false})
	case errors.Is(err, store.ErrForbidden):
		if err := s.Deny(r, "API key not scoped to the project of the presented token", web.WithApp(uint32(rec.AppID)), withTokenFingerprint(fp[:])); err != nil {
			s.Fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"revoked": false})
	case err != nil:
		s.Fail(w, r, err)
	default:
		writeJSON(w, http.StatusOK, valueRevokeJSON{Revoked: true, Kick: rec.Kick})
	}
}

// valueRevokeJSON answers a revocation by value: whether the token was
// revoked, and where the kicks out of its room are (absent when none).
type valueRevokeJSON struct {
	Revoked bool   `json:"revoked"`
	Kick    string `json:"kick,omitempty"`
}

// withTokenFingerprint ties a denial to the token it was about.
func withTokenFingerprint(fp []byte) web.DenyOption {
	return func(e *store.Event) { e.TokenFingerprint = fp }
}
