package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// ttlPresets are the lifetimes offered on the issue form, in seconds; only
// those within the project's maximum are shown.
var ttlPresets = []int64{300, 3600, 8 * 3600, 24 * 3600}

// IssueForm is the issue page's view model: the projects one may issue for
// and what was typed, with a message per invalid field.
type IssueForm struct {
	Projects  []store.Project // live, enabled projects
	AppID     uint32
	UserID    string
	TTL       string // a preset in seconds, or "" for the project's default
	TTLCustom string // seconds; overrides TTL when filled
	RoomID    string
	Login     bool
	Publish   bool
	Streams   string // one stream id per line
	Mode      string // gcm or cbc
	Errors    map[string]string
}

// Selected is the chosen project, or the first one when none is chosen.
func (f IssueForm) Selected() (store.Project, bool) {
	for _, p := range f.Projects {
		if uint32(p.AppID) == f.AppID {
			return p, true
		}
	}
	if len(f.Projects) > 0 {
		return f.Projects[0], true
	}
	return store.Project{}, false
}

// Presets are the TTL presets that fit the selected project's maximum.
func (f IssueForm) Presets() []int64 {
	p, _ := f.Selected()
	var out []int64
	for _, s := range ttlPresets {
		if s <= int64(p.MaxTTLSeconds) {
			out = append(out, s)
		}
	}
	return out
}

// IssueResult is the page that shows a fresh token, once.
type IssueResult struct {
	Token   string
	Record  store.TokenRecord
	Project store.Project
}

// issuableProjects lists the live, enabled projects the person may issue for.
func (s *Server) issuableProjects(r *http.Request) ([]store.Project, error) {
	all, err := s.listProjects(r, web.ActIssue)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, p := range all {
		if !p.Disabled {
			out = append(out, p)
		}
	}
	return out, nil
}

// tokenIssueForm shows the empty issue form; ?app_id= preselects a project.
func (s *Server) tokenIssueForm(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.emptyIssueForm(w, r); ok {
		s.render(w, r, http.StatusOK, s.page(r, "Issue a token", "issue"), IssueFormView(f))
	}
}

// emptyIssueForm is the issue form before anything is typed, with the
// project of ?app_id= (or the first) chosen; on failure it answers.
func (s *Server) emptyIssueForm(w http.ResponseWriter, r *http.Request) (IssueForm, bool) {
	projects, err := s.issuableProjects(r)
	if err != nil {
		s.Fail(w, r, err)
		return IssueForm{}, false
	}
	f := IssueForm{Projects: projects, Login: true, Mode: "gcm"}
	if id, err := token04.ParseAppID(r.URL.Query().Get("app_id")); err == nil {
		f.AppID = id
	}
	if p, ok := f.Selected(); ok {
		f.AppID, f.Publish = uint32(p.AppID), p.PublishAllowed
	}
	return f, true
}

// tokenIssue issues a token through the store's one issuing path and shows
// it in this response only: it is never stored nor shown again.
func (s *Server) tokenIssue(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Bad form", "The form could not be read. Reload the page and try again.")
		return
	}
	f, req := parseIssueForm(r)
	if r.PostFormValue("choose") != "" {
		s.issueFormFor(w, r, f)
		return
	}
	if req.AppID != 0 && !s.allowApp(w, r, web.ActIssue, req.AppID) {
		return
	}
	req.Channel, req.Actor, req.Origin = store.ChannelUI, web.Actor(r), s.Origin(r)
	var issued store.IssuedToken
	var err error
	if req.AppID != 0 {
		// The store checks the rest and reports every field in one round,
		// with what the form could not read (req.FieldErrors).
		req.FieldErrors = maps.Clone(f.Errors)
		issued, err = s.Store.IssueToken(r.Context(), req)
		if fe := web.FieldErrors(err); fe != nil {
			maps.Copy(f.Errors, fe)
		} else if err != nil {
			s.failAs(w, r, err, "No token was issued.")
			return
		}
	}
	if len(f.Errors) > 0 {
		projects, lerr := s.issuableProjects(r)
		if lerr != nil {
			s.Fail(w, r, lerr)
			return
		}
		f.Projects = projects
		s.render(w, r, http.StatusUnprocessableEntity, s.page(r, "Issue a token", "issue"), IssueFormView(f))
		return
	}
	s.render(w, r, http.StatusOK, s.page(r, "Token issued", "issue"), IssueResultView(IssueResult{Token: issued.Token, Record: issued.Record, Project: issued.Project}))
}

// issueFormFor shows the form again, as typed, for the project chosen in
// the list, without issuing: the browser's way (without JavaScript) to see
// the chosen project's presets, policy and privileges before issuing. A
// preset the new project does not offer falls back to its default.
func (s *Server) issueFormFor(w http.ResponseWriter, r *http.Request, f IssueForm) {
	projects, err := s.issuableProjects(r)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	f.Projects, f.Errors = projects, nil
	if p, ok := f.Selected(); ok {
		f.AppID = uint32(p.AppID)
		if preset, err := strconv.ParseInt(f.TTL, 10, 64); err != nil || !slices.Contains(f.Presets(), preset) {
			f.TTL = ""
		}
	}
	s.render(w, r, http.StatusOK, s.page(r, "Issue a token", "issue"), IssueFormView(f))
}

// parseIssueForm reads the posted form into the view model (to show again
// on error) and the request for the store.
func parseIssueForm(r *http.Request) (IssueForm, store.IssueRequest) {
	f := IssueForm{Errors: map[string]string{},
		UserID: strings.TrimSpace(r.PostFormValue("user_id")), TTL: r.PostFormValue("ttl"),
		TTLCustom: strings.TrimSpace(r.PostFormValue("ttl_custom")), RoomID: strings.TrimSpace(r.PostFormValue("room_id")),
		Login: r.PostFormValue("login") != "", Publish: r.PostFormValue("publish") != "",
		Streams: r.PostFormValue("stream_ids"), Mode: r.PostFormValue("mode")}
	var req store.IssueRequest
	if id, msg := chosenProject(r.PostFormValue("app_id")); msg != "" {
		f.Errors["app_id"] = msg
	} else {
		f.AppID, req.AppID = id, id
	}
	req.UserID, req.RoomID = f.UserID, f.RoomID
	ttl := f.TTL
	if f.TTLCustom != "" {
		ttl = f.TTLCustom
	}
	if ttl != "" {
		var err error
		if req.TTL, err = token04.ParseLifetime(ttl); err != nil {
			f.Errors["ttl_seconds"] = err.Error()
		}
	}
	for line := range strings.Lines(f.Streams) {
		if sid := strings.TrimSpace(line); sid != "" {
			req.StreamIDs = append(req.StreamIDs, sid)
		}
	}
	if f.Login || f.Publish || req.RoomID != "" || len(req.StreamIDs) > 0 {
		req.Privileges = &store.Privileges{Login: f.Login, Publish: f.Publish}
	}
	mode, err := token04.ParseMode(f.Mode)
	if err != nil {
		f.Errors["mode"] = "must be gcm or cbc"
	}
	req.Mode = mode
	return f, req
}

// lifetime writes n seconds the way people say it, in the page's language:
// 5 min, 1 h 30 min, 24 h, 2 d.
func lifetime(ctx context.Context, n int64) string {
	if n <= 0 {
		return t(ctx, "{{.N}} s", "N", strconv.FormatInt(n, 10))
	}
	var parts []string
	for _, u := range []struct {
		secs int64
		id   string // a message of the catalogs
	}{{86400, "{{.N}} d"}, {3600, "{{.N}} h"}, {60, "{{.N}} min"}, {1, "{{.N}} s"}} {
		if u.secs == 86400 && n <= 86400 {
			continue // "24 h" reads better than "1 d"
		}
		if n >= u.secs {
			parts = append(parts, t(ctx, u.id, "N", strconv.FormatInt(n/u.secs, 10)))
			n %= u.secs
		}
	}
	return strings.Join(parts, " ")
}

// clientSnippet is ready-to-paste ZegoExpressEngine (Web) code that logs in
// with the token. Values are JSON-quoted, so they are valid JavaScript.
func clientSnippet(ctx context.Context, m IssueResult) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	room, note := q(m.Record.RoomID), ""
	if m.Record.RoomID == "" {
		room, note = q("your-room-id"), " // "+t(ctx, "this token is not tied to a room")
	}
	return fmt.Sprintf(`// ZegoExpressEngine for Web
const zg = new ZegoExpressEngine(%d, %s);
const token = %s;
await zg.loginRoom(%s, token, { userID: %s, userName: %s });%s
`, m.Record.AppID, q(t(ctx, "<server URL from the ZEGO console>")), q(m.Token), room, q(m.Record.UserID), q(m.Record.UserID), note)
}

// orAny returns s, or fallback when s is empty.
func orAny(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// privilegeNames lists a token's privileges in the page's language: login,
// publish.
func privilegeNames(ctx context.Context, rec store.TokenRecord) string {
	list := ""
	for i, n := range rec.PrivilegeNames() {
		if i == 0 {
			list = t(ctx, n)
		} else {
			list = t(ctx, "{{.A}}, {{.B}}", "A", list, "B", t(ctx, n))
		}
	}
	return list
}
