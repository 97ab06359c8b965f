package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// api guards an API route: a valid bearer key with scope (unless scope is
// allScopes), within its rate limit, as web.Can decides for the key's action.
// Refusals of requests without a valid key spend their address's budget
// (web.Admit), nothing else does: past it they are answered 429 before the
// key is looked up, and audited as a tally. Project scoping is checked by
// handlers with allowProject, since only they know the project.
func (s *Server) api(scope string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		admission, wait, err := s.Admit(r, "authz.denied")
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		if wait > 0 {
			writeAddressHeaders(w.Header(), s.Cfg.UnauthRate, s.Cfg.UnauthBurst, wait)
			retry := strconv.Itoa(web.SetRetryAfter(w, wait))
			s.problem(w, r, http.StatusTooManyRequests, "rate-limited", "Too many refused requests from this address; retry after "+retry+" s.", nil)
			return
		}
		scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" { // the scheme is case-insensitive (RFC 9110)
			w.Header().Set("WWW-Authenticate", `Bearer realm="console"`)
			admission.Refused()
			s.refuse(w, r, "missing bearer API key", http.StatusUnauthorized, "unauthorized", "Send an API key as 'Authorization: Bearer <key>'.")
			return
		}
		key, err := s.Store.AuthenticateAPIKey(r.Context(), strings.TrimSpace(raw))
		if err != nil {
			if errors.Is(err, store.ErrAPIKeyInvalid) || errors.Is(err, store.ErrAPIKeyRevoked) || errors.Is(err, store.ErrAPIKeyExpired) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="console", error="invalid_token"`)
				admission.Refused()
				s.refuse(w, r, keyReason(err), http.StatusUnauthorized, "unauthorized", "The API key is "+keyReason(err)+".")
				return
			}
			s.Fail(w, r, err) // not a refusal: the console failed (503 while the database is away)
			return
		}
		r = web.WithAPIKey(r, key)
		q := s.limiter.take(key.Prefix)
		s.limiter.writeHeaders(w.Header(), q) // on every answer from here on
		if !q.ok {
			w.Header().Set("Retry-After", strconv.Itoa(q.retryAfter))
			s.problem(w, r, http.StatusTooManyRequests, "rate-limited", "Too many requests for this API key; retry after "+strconv.Itoa(q.retryAfter)+" s.", nil)
			return
		}
		if !web.Can(web.KeyPrincipal(key), web.KeyAction(scope), 0) {
			s.refuse(w, r, "API key lacks scope "+scope, http.StatusForbidden, "forbidden", "This API key does not have the '"+scope+"' scope.")
			return
		}
		h(w, r)
	})
}

func keyReason(err error) string {
	switch {
	case errors.Is(err, store.ErrAPIKeyRevoked):
		return "revoked"
	case errors.Is(err, store.ErrAPIKeyExpired):
		return "expired"
	default:
		return "not valid"
	}
}

// allowProject tells whether the request's API key may act on appID with
// scope; when not, it audits the denial and answers 403.
func (s *Server) allowProject(w http.ResponseWriter, r *http.Request, scope string, appID uint32) bool {
	if web.Can(web.PrincipalOf(r), web.KeyAction(scope), appID) {
		return true
	}
	app := strconv.FormatUint(uint64(appID), 10)
	s.refuse(w, r, "API key not scoped to project "+app, http.StatusForbidden, "forbidden", "This API key may not use project "+app+".", web.WithApp(appID))
	return false
}

// refuse audits a refused request with reason and answers it with a
// problem; when the denial cannot be audited it answers that failure
// instead (503), so no refusal goes unrecorded.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, reason string, status int, slug, detail string, opts ...web.DenyOption) {
	if err := s.Deny(r, reason, opts...); err != nil {
		s.Fail(w, r, err)
		return
	}
	s.problem(w, r, status, slug, detail, nil)
}
