package ui

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// apiKeyCreate creates a key and shows it in this response only: there is
// no redirect, so the raw key is never in a URL, a later page or a log.
func (s *Server) apiKeyCreate(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	f := APIKeyForm{Name: strings.TrimSpace(r.PostFormValue("name")), Scopes: r.PostForm["scopes"],
		Expiry: r.PostFormValue("expiry"), Errors: map[string]string{}}
	in := store.APIKeyInput{Name: f.Name, Scopes: f.Scopes}
	for _, v := range r.PostForm["projects"] {
		id, err := token04.ParseAppID(v)
		if err != nil {
			f.Errors["projects"] = tr(r, "choose projects from the list")
			continue
		}
		f.AppIDs = append(f.AppIDs, int64(id))
		in.AppIDs = append(in.AppIDs, uint32(id))
	}
	expiresAt, ok := apiKeyExpiresAt(f.Expiry, time.Now())
	if !ok {
		f.Errors["expires_at"] = tr(r, "choose one of the presets")
	}
	in.ExpiresAt = expiresAt
	if len(f.Errors) > 0 {
		s.renderAPIKeys(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	raw, key, err := s.Store.CreateAPIKey(r.Context(), in, web.Actor(r), s.Origin(r))
	if fe := store.FieldErrors(err); fe != nil {
		maps.Copy(f.Errors, fe)
		s.renderAPIKeys(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, s.page(r, "API key created", "apikeys"), APIKeyCreatedView(raw, key))
}

// apiKeyExpiresAt turns a preset into an expiry time (nil: never).
func apiKeyExpiresAt(preset string, now time.Time) (*time.Time, bool) {
	for _, e := range apiKeyExpiries {
		if e.Value != preset {
			continue
		}
		if e.Years == 0 && e.Days == 0 {
			return nil, true
		}
		t := now.AddDate(e.Years, 0, e.Days)
		return &t, true
	}
	return nil, false
}

// joinIDs writes AppIDs as "1, 2, 3".
func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}
