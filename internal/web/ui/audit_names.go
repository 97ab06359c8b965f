package ui

import (
	"context"
	"net/http"
	"strconv"

	"github.com/zegocloud-console/console/internal/store"
)

// auditNames names the actors, targets and projects of audit events the
// way people know them: "audrey (auditor)", "token alice @ room-1",
// "Live classes (1234567890)", instead of ids.
type auditNames struct {
	ctx      context.Context  // the page's language
	projects map[int64]string // live project names by AppID
	people   map[string]store.Operator
	tokens   map[string]store.TokenRecord
	keys     map[string]string // API key names by prefix
	sinks    map[string]string // sink names by id
}

// auditNamesFor looks up what the events name, in one query per kind.
func (s *Server) auditNamesFor(r *http.Request, events []store.AuditEvent, projects []store.Project) (auditNames, error) {
	ctx := r.Context()
	n := auditNames{ctx: ctx, projects: map[int64]string{}, people: map[string]store.Operator{}, keys: map[string]string{}, sinks: map[string]string{}}
	for _, p := range projects {
		n.projects[p.AppID] = p.Name
	}
	var tokenIDs []string
	kinds := map[string]bool{}
	for _, e := range events {
		kinds[e.ActorType] = true
		kinds[e.TargetType] = true
		if e.TargetType == "token" {
			tokenIDs = append(tokenIDs, e.TargetID)
		}
	}
	var err error
	if n.tokens, err = s.Store.TokensByID(ctx, tokenIDs); err != nil {
		return n, err
	}
	if kinds[store.ActorOperator] || kinds["operator"] {
		ops, err := s.Store.ListOperators(ctx)
		if err != nil {
			return n, err
		}
		for _, op := range ops {
			n.people[strconv.FormatInt(op.ID, 10)] = op
		}
	}
	if kinds["api_key"] {
		keys, err := s.Store.ListAPIKeys(ctx)
		if err != nil {
			return n, err
		}
		for _, k := range keys {
			n.keys[k.Prefix] = k.Name
		}
	}
	if kinds["sink"] {
		sinks, err := s.Store.ListSinks(ctx)
		if err != nil {
			return n, err
		}
		for _, sk := range sinks {
			n.sinks[strconv.FormatInt(sk.ID, 10)] = sk.Name
		}
	}
	return n, nil
}

// lang is the context that carries the page's language.
func (n auditNames) lang() context.Context {
	if n.ctx == nil {
		return context.Background()
	}
	return n.ctx
}

// actorRole is the role of the console account behind an event, "" for
// other actors or an account since deleted.
func (n auditNames) actorRole(e store.AuditEvent) string {
	if e.ActorType != store.ActorOperator {
		return ""
	}
	switch role := n.people[e.ActorID].Role; role {
	case store.RoleAdmin, store.RoleOperator, store.RoleAuditor:
		return t(n.lang(), role)
	default:
		return role
	}
}

// targetType names the kind of thing an event is about in the page's
// language; in English, as the trail records it (token, api_key, …).
func (n auditNames) targetType(e store.AuditEvent) string {
	ctx := n.lang()
	switch e.TargetType {
	case "token":
		return t(ctx, "token")
	case "project":
		return t(ctx, "project")
	case "operator":
		return t(ctx, "operator")
	case "api_key":
		return t(ctx, "api_key")
	case "sink":
		return t(ctx, "sink")
	case "audit":
		return t(ctx, "audit")
	case "audit_chain":
		return t(ctx, "audit_chain")
	case "audit_trail":
		return t(ctx, "audit_trail")
	case "master_key":
		return t(ctx, "master_key")
	case "request":
		return t(ctx, "request")
	case "room":
		return t(ctx, "room")
	case "route":
		return t(ctx, "route")
	case "sso":
		return t(ctx, "sso")
	case "user":
		return t(ctx, "user")
	default:
		return e.TargetType
	}
}

// project names an event's project: "Live classes (1234567890)", or the
// bare AppID when the project is not a live one the viewer sees.
func (n auditNames) project(appID *int64) string {
	if appID == nil {
		return ""
	}
	name := n.projects[*appID]
	if name == "" {
		return appIDString(*appID)
	}
	return t(n.lang(), "{{.Name}} ({{.AppID}})", "Name", name, "AppID", appIDString(*appID))
}

// projectLabel is "Name (AppID)", or the AppID alone without a name.
func projectLabel(name string, appID int64) string {
	if name == "" {
		return appIDString(appID)
	}
	return name + " (" + appIDString(appID) + ")"
}

// targetName names what an event is about, or "" when only its id is known.
func (n auditNames) targetName(e store.AuditEvent) string {
	switch e.TargetType {
	case "token":
		if tok, ok := n.tokens[e.TargetID]; ok {
			if tok.RoomID != "" {
				return t(n.lang(), "{{.User}} @ {{.Room}}", "User", tok.UserID, "Room", tok.RoomID)
			}
			return tok.UserID
		}
	case "operator":
		return n.people[e.TargetID].Username
	case "project":
		if id, err := strconv.ParseInt(e.TargetID, 10, 64); err == nil {
			return n.projects[id]
		}
	case "api_key":
		return n.keys[e.TargetID]
	case "sink":
		return n.sinks[e.TargetID]
	}
	return ""
}
