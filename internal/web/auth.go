package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
)

// Role sets used by routes.go.
var (
	anyRole         = []string{store.RoleAdmin, store.RoleOperator, store.RoleAuditor}
	issuers         = []string{store.RoleAdmin, store.RoleOperator}
	adminsOnly      = []string{store.RoleAdmin}
	allScopes       = ""
	scopeIssue      = store.ScopeIssue
	scopeRevoke     = store.ScopeRevoke
	scopeIntrospect = store.ScopeIntrospect
	scopeAuditRead  = store.ScopeAuditRead
)

// operatorFrom returns the signed-in operator put in the context by ui().
func operatorFrom(r *http.Request) (store.Operator, bool) {
	op, ok := r.Context().Value(keyOperator).(store.Operator)
	return op, ok
}

// apiKeyFrom returns the API key put in the context by api().
func apiKeyFrom(r *http.Request) (store.APIKey, bool) {
	k, ok := r.Context().Value(keyAPIKey).(store.APIKey)
	return k, ok
}

// actor is who makes the request, for the audit trail.
func actor(r *http.Request) store.Actor {
	if op, ok := operatorFrom(r); ok {
		return store.Actor{Type: store.ActorOperator, ID: strconv.FormatInt(op.ID, 10), Name: op.Username}
	}
	if k, ok := apiKeyFrom(r); ok {
		return store.Actor{Type: store.ActorAPIKey, ID: k.Prefix, Name: k.Name}
	}
	return store.Actor{Type: store.ActorAnonymous}
}

// ui guards a page: the visitor must be signed in (else they are sent to the
// sign-in page) and hold one of roles (else 403 and an authz.denied event).
func (s *Server) ui(roles []string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.sessions.Get(r, sessionCookie)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		op, ok := sess.Values[sessionOperatorKey].(store.Operator)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), keyOperator, op))
		if !slices.Contains(roles, op.Role) {
			s.deny(r, "role "+op.Role+" may not use this page")
			s.renderError(w, r, http.StatusForbidden, "Not allowed", "Your role ("+op.Role+") cannot do this. Ask an admin if you need it.")
			return
		}
		h(w, r)
	})
}

// api guards an API route: a valid bearer key with scope (unless scope is
// allScopes), within its rate limit. Project scoping is checked by handlers
// with allowProject, since only they know the project.
func (s *Server) api(scope string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" { // the scheme is case-insensitive (RFC 9110)
			w.Header().Set("WWW-Authenticate", `Bearer realm="console"`)
			s.deny(r, "missing bearer API key")
			s.problem(w, r, http.StatusUnauthorized, "unauthorized", "Send an API key as 'Authorization: Bearer <key>'.", nil)
			return
		}
		key, err := s.st.AuthenticateAPIKey(r.Context(), strings.TrimSpace(raw))
		if err != nil {
			if errors.Is(err, store.ErrAPIKeyInvalid) || errors.Is(err, store.ErrAPIKeyRevoked) || errors.Is(err, store.ErrAPIKeyExpired) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="console", error="invalid_token"`)
				s.deny(r, apiKeyReason(err))
				s.problem(w, r, http.StatusUnauthorized, "unauthorized", "The API key is "+apiKeyReason(err)+".", nil)
				return
			}
			s.apiFail(w, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), keyAPIKey, key))
		if retry, ok := s.limiter.allow(key.Prefix); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			s.problem(w, r, http.StatusTooManyRequests, "rate-limited", "Too many requests for this API key; retry after "+strconv.Itoa(retry)+" s.", nil)
			return
		}
		if scope != allScopes && !key.HasScope(scope) {
			s.deny(r, "API key lacks scope "+scope)
			s.problem(w, r, http.StatusForbidden, "forbidden", "This API key does not have the '"+scope+"' scope.", nil)
			return
		}
		h(w, r)
	})
}

func apiKeyReason(err error) string {
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
	key, _ := apiKeyFrom(r)
	if key.Allows(scope, appID) {
		return true
	}
	s.deny(r, "API key not scoped to project "+strconv.FormatUint(uint64(appID), 10), withApp(appID))
	s.problem(w, r, http.StatusForbidden, "forbidden", "This API key may not use project "+strconv.FormatUint(uint64(appID), 10)+".", nil)
	return false
}

type denyOption func(*store.Event)

func withApp(appID uint32) denyOption { return func(e *store.Event) { e.AppID = appID } }

// deny writes an authz.denied audit event. A failure to write it is logged:
// the request is refused either way.
func (s *Server) deny(r *http.Request, reason string, opts ...denyOption) {
	e := store.Event{Actor: actor(r), Origin: s.origin(r), Action: "authz.denied", Outcome: store.OutcomeDenied,
		TargetType: "route", TargetID: r.Method + " " + r.URL.Path, Details: map[string]any{"reason": reason}}
	for _, o := range opts {
		o(&e)
	}
	if err := s.st.Audit(context.WithoutCancel(r.Context()), e); err != nil {
		s.log.Error("audit denied request", "request_id", requestID(r), "err", err)
	}
}
