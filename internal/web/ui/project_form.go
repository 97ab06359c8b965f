package ui

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/zego"
)

// ProjectFormModel is the create and edit form as typed. It never holds the
// ServerSecret: after an error the admin types it again.
type ProjectFormModel struct {
	Edit          bool   // editing an existing project: the AppID and secret are fixed
	AppID         string // as typed
	Name          string
	Environment   string
	DefaultTTL    string
	MaxTTL        string
	Publish       bool
	KickOnRevoke  bool
	ZegoServices  []string // the ZEGO products ticked
	ZegoRegion    string
	SecretEntered bool // a secret was typed before the form came back with errors
	Errors        map[string]string
}

// usesService tells whether the form has the ZEGO product service ticked.
func (f ProjectFormModel) usesService(service string) bool {
	return slices.Contains(f.ZegoServices, service)
}

// action is where the form posts.
func (f ProjectFormModel) action() string {
	if f.Edit {
		return "/projects/" + f.AppID
	}
	return "/projects"
}

// projectNew shows an empty create form with sensible defaults.
func (s *Server) projectNew(w http.ResponseWriter, r *http.Request) {
	f := ProjectFormModel{Environment: "test", DefaultTTL: "1h", MaxTTL: "24h", Publish: true,
		ZegoServices: []string{zego.ServiceRTC}, ZegoRegion: zego.RegionGlobal}
	s.renderProjectForm(w, r, http.StatusOK, f)
}

// projectCreate stores a project and its first ServerSecret.
func (s *Server) projectCreate(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	f, in := parseProjectForm(r, false)
	secret := []byte(strings.TrimSpace(r.PostFormValue("secret")))
	f.SecretEntered = len(secret) > 0
	if len(f.Errors) > 0 {
		// Report the secret's problem too, so that one round trip shows all.
		maps.Copy(f.Errors, store.FieldErrors(store.ValidateSecret(secret)))
		s.renderProjectForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	p, err := s.Store.CreateProject(r.Context(), in, secret, web.Actor(r), s.Origin(r))
	clear(secret)
	if fe := store.FieldErrors(err); fe != nil {
		maps.Copy(f.Errors, fe)
		s.renderProjectForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, projectPath(p.AppID), "project-created")
}

// projectEdit shows the form to change a project's name, environment and policy.
func (s *Server) projectEdit(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r)
	if !ok {
		return
	}
	p, err := s.Store.ProjectByAppID(r.Context(), appID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	f := ProjectFormModel{Edit: true, AppID: i64(p.AppID), Name: p.Name, Environment: p.Environment,
		DefaultTTL: token04.FormatLifetime(p.DefaultTTL()), MaxTTL: token04.FormatLifetime(p.MaxTTL()), Publish: p.PublishAllowed,
		KickOnRevoke: p.KickOnRevoke, ZegoServices: p.ZegoServices, ZegoRegion: p.ZegoRegion}
	s.renderProjectForm(w, r, http.StatusOK, f)
}

// projectUpdate saves the edit form.
func (s *Server) projectUpdate(w http.ResponseWriter, r *http.Request) {
	appID, ok := s.appIDFromPath(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	f, in := parseProjectForm(r, true)
	f.AppID = strconv.FormatUint(uint64(appID), 10)
	if len(f.Errors) > 0 {
		s.renderProjectForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	_, err := s.Store.UpdateProject(r.Context(), appID, in, web.Actor(r), s.Origin(r))
	if fe := store.FieldErrors(err); fe != nil {
		maps.Copy(f.Errors, fe)
		s.renderProjectForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, projectPath(int64(appID)), "project-updated")
}

// parseProjectForm reads the form into the model (to show it again) and the
// store's input; what cannot be parsed is reported in f.Errors.
func parseProjectForm(r *http.Request, edit bool) (f ProjectFormModel, in store.ProjectInput) {
	f = ProjectFormModel{Edit: edit, Errors: map[string]string{},
		AppID: strings.TrimSpace(r.PostFormValue("app_id")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Environment: strings.ToLower(strings.TrimSpace(r.PostFormValue("environment"))),
		DefaultTTL:  strings.TrimSpace(r.PostFormValue("default_ttl")), MaxTTL: strings.TrimSpace(r.PostFormValue("max_ttl")),
		Publish: r.PostFormValue("publish_allowed") != "", KickOnRevoke: r.PostFormValue("kick_on_revoke") != "",
		ZegoServices: append([]string{}, r.PostForm["zego_services"]...), ZegoRegion: strings.TrimSpace(r.PostFormValue("zego_region"))}
	in = store.ProjectInput{Name: f.Name, Environment: f.Environment, PublishAllowed: f.Publish,
		KickOnRevoke: f.KickOnRevoke, ZegoServices: f.ZegoServices, ZegoRegion: f.ZegoRegion}
	if !edit {
		var err error
		if in.AppID, err = token04.ParseAppID(f.AppID); err != nil {
			f.Errors["app_id"] = err.Error()
		}
	}
	var err error
	if in.DefaultTTL, err = token04.ParseLifetime(f.DefaultTTL); err != nil {
		f.Errors["default_ttl"] = err.Error()
	}
	if in.MaxTTL, err = token04.ParseLifetime(f.MaxTTL); err != nil {
		f.Errors["max_ttl"] = err.Error()
	}
	return f, in
}

func (s *Server) renderProjectForm(w http.ResponseWriter, r *http.Request, status int, f ProjectFormModel) {
	title := "New project"
	if f.Edit {
		title = "Edit project " + f.AppID
	}
	s.render(w, r, status, s.page(r, title, "projects"), ProjectFormView(f))
}
