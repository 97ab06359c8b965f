package ui

import (
	"context"
	"net/http"
	"net/url"

	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

// Pages are in English or Simplified Chinese: the language the person chose
// (?lang= on any page, remembered for a year in langCookie), else the first
// of the browser's Accept-Language the UI has (see i18n.Match), else
// English. API answers stay English.

// langCookie remembers the language the person chose: en or zh-Hans.
const langCookie = "console_lang"

// langKnown marks a request whose language is already in its context.
type langKnown struct{}

// withLang puts the page's language into the request (once).
func (s *Server) withLang(w http.ResponseWriter, r *http.Request) *http.Request {
	if r.Context().Value(langKnown{}) != nil {
		return r
	}
	tag, chosen := i18n.Parse(r.URL.Query().Get("lang"))
	if chosen {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: tag.String(), Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: s.IsHTTPS(r), HttpOnly: true, SameSite: http.SameSiteLaxMode})
	} else if c, err := r.Cookie(langCookie); err == nil {
		tag, chosen = i18n.Parse(c.Value)
	}
	if !chosen {
		tag = i18n.Match(r.Header.Get("Accept-Language"))
	}
	w.Header().Set("Content-Language", tag.String())
	w.Header().Add("Vary", "Accept-Language, Cookie")
	ctx := i18n.With(r.Context(), i18n.New(tag))
	return r.WithContext(context.WithValue(ctx, langKnown{}, true))
}

// t is the message id in the page's language (i18n.T): args are pairs of
// a placeholder's name and its value.
func t(ctx context.Context, id string, args ...any) string { return i18n.T(ctx, id, args...) }

// tn is t for a message about a count (i18n.N): {{.Count}} is n.
func tn(ctx context.Context, id string, n int64, args ...any) string {
	return i18n.N(ctx, id, n, args...)
}

// tr is t for a handler: the request's language.
func tr(r *http.Request, id string, args ...any) string { return i18n.T(r.Context(), id, args...) }

// langSwitch is one entry of the footer's language switch.
type langSwitch struct {
	Name    string // in its own language: English, 简体中文
	Code    string // en, zh-Hans
	URL     string // this page in that language
	Current bool
}

// langSwitches are the footer's links: this page in each language.
func langSwitches(r *http.Request) []langSwitch {
	cur := i18n.From(r.Context()).Tag
	var out []langSwitch
	for _, tag := range i18n.Supported {
		q := r.URL.Query()
		q.Set("lang", tag.String())
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		out = append(out, langSwitch{Name: i18n.Name(tag), Code: tag.String(), URL: u.String(), Current: tag == cur})
	}
	return out
}

// public serves a page anyone may ask for (signing in) in the visitor's language.
func (s *Server) public(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, s.withLang(w, r)) })
}
