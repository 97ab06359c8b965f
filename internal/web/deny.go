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

// Deny writes an authz.denied audit event for a refused request. A failure
// to write it is logged: the request is refused either way.
func (s *Server) Deny(r *http.Request, reason string, opts ...DenyOption) {
	e := store.Event{Actor: Actor(r), Origin: s.Origin(r), Action: "authz.denied", Outcome: store.OutcomeDenied,
		TargetType: "route", TargetID: r.Method + " " + r.URL.Path, Details: map[string]any{"reason": reason}}
	for _, o := range opts {
		o(&e)
	}
	if err := s.Store.Audit(context.WithoutCancel(r.Context()), e); err != nil {
		s.Log.Error("audit denied request", "request_id", RequestID(r), "err", err)
	}
}
