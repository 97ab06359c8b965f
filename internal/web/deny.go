package web

import (
	"context"
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
)

// A DenyOption adds to the authz.denied event of a refused request.
type DenyOption func(*store.Event)

// WithApp names the project the refused request was about.
func WithApp(appID uint32) DenyOption { return func(e *store.Event) { e.AppID = appID } }

// Deny writes an authz.denied audit event for a refused request (its path
// as sent, still escaped). When the event cannot be written it returns the
// error, and the caller answers that instead (a 503 from the error table):
// a denial that cannot be audited is not answered as if it had been.
func (s *Server) Deny(r *http.Request, reason string, opts ...DenyOption) error {
	e := store.Event{Actor: Actor(r), Origin: s.Origin(r), Action: "authz.denied", Outcome: store.OutcomeDenied,
		TargetType: "route", TargetID: r.Method + " " + r.URL.EscapedPath(), Details: map[string]any{"reason": reason}}
	for _, o := range opts {
		o(&e)
	}
	return s.Store.Audit(context.WithoutCancel(r.Context()), e)
}
