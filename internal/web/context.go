package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/zegocloud-console/console/internal/store"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyOperator
	keyAPIKey
)

// RequestID is the id withRequestID gave the request, echoed in X-Request-Id,
// the logs and the audit trail.
func RequestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

// WithOperator returns r carrying the signed-in operator (the UI's guard
// puts it there).
func WithOperator(r *http.Request, op store.Operator) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keyOperator, op))
}

// OperatorFrom returns the signed-in operator of the request, if any.
func OperatorFrom(r *http.Request) (store.Operator, bool) {
	op, ok := r.Context().Value(keyOperator).(store.Operator)
	return op, ok
}

// WithAPIKey returns r carrying the authenticated API key (the API's guard
// puts it there).
func WithAPIKey(r *http.Request, key store.APIKey) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keyAPIKey, key))
}

// APIKeyFrom returns the authenticated API key of the request, if any.
func APIKeyFrom(r *http.Request) (store.APIKey, bool) {
	k, ok := r.Context().Value(keyAPIKey).(store.APIKey)
	return k, ok
}

// Actor is who makes the request, for the audit trail.
func Actor(r *http.Request) store.Actor {
	if op, ok := OperatorFrom(r); ok {
		return store.Actor{Type: store.ActorOperator, ID: strconv.FormatInt(op.ID, 10), Name: op.Username}
	}
	if k, ok := APIKeyFrom(r); ok {
		return store.Actor{Type: store.ActorAPIKey, ID: k.Prefix, Name: k.Name}
	}
	return store.Actor{Type: store.ActorAnonymous}
}
