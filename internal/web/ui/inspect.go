package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// inspectAdHoc is the project choice that checks with a typed secret.
const inspectAdHoc = "adhoc"

// InspectForm is the inspector's form. The token and an ad hoc secret are
// never part of it: neither is echoed back into the page.
type InspectForm struct {
	Projects    []store.Project
	Project     string // "" = any project, an AppID, or inspectAdHoc
	ExpectAppID string
	Errors      map[string]string
}

// InspectResult is what the inspector found out about a pasted token.
type InspectResult struct {
	Fingerprint string
	In          store.Introspection
	Zego        zegoError
	HasZego     bool // the token does not verify, or is revoked
	AdHoc       bool
	CanRevoke   bool // the person may revoke the token's record
	Now         time.Time
}

// InspectPage is the view model of the inspector: the form, and the result
// after a submission.
type InspectPage struct {
	Form   InspectForm
	Result *InspectResult
}

// inspectForm shows the empty inspector.
func (s *Server) inspectForm(w http.ResponseWriter, r *http.Request) {
	s.renderInspect(w, r, http.StatusOK, InspectPage{Form: InspectForm{Project: r.URL.Query().Get("app_id")}})
}

// inspect verifies a pasted token against a project's stored secrets or an
// ad hoc secret and explains the outcome; the store audits the inspection
// with the token's fingerprint.
func (s *Server) inspect(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxBodyBytes)
	token := token04.CleanPasted(r.PostFormValue("token"))
	secret := []byte(r.PostFormValue("secret"))
	defer clear(secret)
	f := InspectForm{Project: strings.TrimSpace(r.PostFormValue("project")), ExpectAppID: strings.TrimSpace(r.PostFormValue("expect_app_id")), Errors: map[string]string{}}
	projects, err := s.listProjects(r, web.ActInspect)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	opt := store.IntrospectOptions{Action: "token.inspect", Actor: web.Actor(r), Origin: s.Origin(r),
		Allowed: func(appID uint32) bool { return may(r, web.ActInspect, appID) }}
	if token == "" {
		f.Errors["token"] = tr(r, "paste a token to inspect")
	}
	var expect uint32
	if f.ExpectAppID != "" {
		var err error
		if expect, err = token04.ParseAppID(f.ExpectAppID); err != nil {
			f.Errors["expect_app_id"] = err.Error()
		}
	}
	switch f.Project {
	case "":
		opt.AppID = expect
	case inspectAdHoc:
		if err := store.ValidateSecret(secret); err != nil {
			f.Errors["secret"] = store.FieldErrors(err)["secret"]
		}
		opt.Secret, opt.AppID = secret, expect
	default:
		id, _ := strconv.ParseUint(f.Project, 10, 32)
		if id != 0 && !may(r, web.ActInspect, uint32(id)) {
			s.denyApp(w, r, uint32(id))
			return
		}
		if !hasProject(projects, id) {
			f.Errors["project"] = tr(r, "choose a project from the list")
		} else if expect != 0 && uint64(expect) != id {
			f.Errors["expect_app_id"] = tr(r, "the chosen project is AppID {{.Chosen}}: leave this empty, or choose \"any project\" to check the token against AppID {{.Expected}}",
				"Chosen", strconv.FormatUint(id, 10), "Expected", strconv.FormatUint(uint64(expect), 10))
		}
		opt.AppID = uint32(id)
	}
	if len(f.Errors) > 0 {
		f.Projects = projects
		s.renderInspect(w, r, http.StatusUnprocessableEntity, InspectPage{Form: f})
		return
	}
	in, err := s.Store.Introspect(r.Context(), token, opt)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	fp := token04.FingerprintSum(token)
	res := &InspectResult{Fingerprint: hexString(fp[:]), In: in, AdHoc: f.Project == inspectAdHoc, Now: time.Now()}
	res.Zego, res.HasZego = zegoErrorFor(in, res.AdHoc)
	res.CanRevoke = in.Record != nil && may(r, web.ActRevoke, uint32(in.Record.AppID))
	f.Projects = projects
	s.renderInspect(w, r, http.StatusOK, InspectPage{Form: f, Result: res})
}

// renderInspect renders the inspector, listing the projects when the
// caller has not.
func (s *Server) renderInspect(w http.ResponseWriter, r *http.Request, status int, m InspectPage) {
	if m.Form.Projects == nil {
		projects, err := s.listProjects(r, web.ActInspect)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		m.Form.Projects = projects
	}
	s.render(w, r, status, s.page(r, "Token inspector", "inspect"), InspectView(m))
}

func hasProject(projects []store.Project, appID uint64) bool {
	for _, p := range projects {
		if uint64(p.AppID) == appID {
			return true
		}
	}
	return false
}

// ExpiryStatus says how long the token stays valid, or since when it is not,
// in the page's language; of a token that is not active (revoked, or not
// verified) it says only when it expires, never that it is valid.
func (res InspectResult) ExpiryStatus(ctx context.Context) string {
	d := res.In.Decoded
	if d == nil {
		return ""
	}
	expire, ctime := time.Unix(d.Claims.Expire, 0), time.Unix(d.Claims.CTime, 0)
	switch left := expire.Sub(res.Now); {
	case ctime.After(res.Now.Add(5 * time.Minute)):
		return t(ctx, "not yet valid: created {{.Duration}} in the future", "Duration", roughDuration(ctx, ctime.Sub(res.Now)))
	case left <= 0:
		return t(ctx, "expired {{.Duration}} ago", "Duration", roughDuration(ctx, -left))
	case !res.In.Active:
		return t(ctx, "expires in {{.Duration}}", "Duration", roughDuration(ctx, left))
	case left < time.Minute:
		return t(ctx, "valid for less than a minute more")
	case left < time.Hour:
		return tn(ctx, "valid for {{.Count}} more minutes", int64(left/time.Minute))
	default:
		return t(ctx, "valid for {{.Duration}} more", "Duration", roughDuration(ctx, left))
	}
}

// roughDuration writes d as lifetime does, to the minute once it is a
// minute or more: "45 s", "59 min", "7 h 59 min", "2 d 3 h".
func roughDuration(ctx context.Context, d time.Duration) string {
	if d >= time.Minute {
		d = d.Truncate(time.Minute)
	}
	return lifetime(ctx, int64(d/time.Second))
}

// Expired tells whether the token's expiry has passed.
func (res InspectResult) Expired() bool {
	return res.In.Decoded != nil && res.Now.Unix() >= res.In.Decoded.Claims.Expire
}

// reasonText says in plain words, in the page's language, why a token is
// not active; the API's code stays in the page's data-reason.
func reasonText(ctx context.Context, reason string) string {
	switch reason {
	case store.ReasonMalformed:
		return t(ctx, "Not active: this is not a well-formed Token04.")
	case store.ReasonUnknownSecret:
		return t(ctx, "Not active: no ServerSecret kept here verifies it.")
	case store.ReasonExpired:
		return t(ctx, "Not active: it has expired.")
	case store.ReasonNotYetValid:
		return t(ctx, "Not active: it is not valid yet (created in the future).")
	case store.ReasonRevoked:
		return t(ctx, "Not active: it was revoked here.")
	case store.ReasonAppIDMismatch:
		return t(ctx, "Not active: it was issued for another AppID.")
	case store.ReasonWrongSecret:
		return t(ctx, "Not active: the secret you typed does not verify it.")
	default:
		return t(ctx, "Not active: {{.Reason}}.", "Reason", reason)
	}
}

// urlQueryEscape escapes a query parameter value.
func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// privilegeText names the room privileges granted, in the page's language.
func privilegeText(ctx context.Context, login, publish bool) string {
	switch {
	case login && publish:
		return t(ctx, "login, publish")
	case login:
		return t(ctx, "login")
	case publish:
		return t(ctx, "publish")
	default:
		return t(ctx, "none")
	}
}
