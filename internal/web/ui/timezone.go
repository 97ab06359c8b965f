package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // the zones people choose, also where the host has no zoneinfo
)

// Every time a page shows is in the viewer's time zone, named, with the UTC
// value in its tooltip. The zone is the browser's (app.js remembers it in a
// cookie on the first visit; until then app.js rewrites the times the
// server wrote in UTC), or UTC when the person chooses so with ?tz=UTC.

// zoneCookie remembers the viewer's time zone: "UTC" or an IANA name.
const zoneCookie = "console_tz"

// zoneKey is the context key of the viewer's zone.
type zoneKey struct{}

// viewerZone is the zone pages show times in; known is false until the
// browser has said which zone it is in.
type viewerZone struct {
	loc   *time.Location
	known bool
}

// loadZone reads a zone name a browser sent: UTC or an IANA name such as
// Asia/Shanghai. Anything else (Local, a path, an offset) is refused.
func loadZone(name string) (*time.Location, bool) {
	if name == "" || len(name) > 64 || name == "Local" || strings.Contains(name, "..") ||
		strings.ContainsFunc(name, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r))
		}) {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// withZone puts the viewer's zone into the request: ?tz= chooses one (and
// is remembered for a year), else the cookie, else UTC, not yet known.
func (s *Server) withZone(w http.ResponseWriter, r *http.Request) *http.Request {
	name := ""
	if q := r.URL.Query().Get("tz"); q != "" {
		if _, ok := loadZone(q); ok {
			name = q
			http.SetCookie(w, &http.Cookie{Name: zoneCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
				Secure: s.IsHTTPS(r), SameSite: http.SameSiteLaxMode})
		}
	}
	if name == "" {
		if c, err := r.Cookie(zoneCookie); err == nil {
			name = c.Value
		}
	}
	z := viewerZone{loc: time.UTC}
	if loc, ok := loadZone(name); ok {
		z = viewerZone{loc: loc, known: true}
	}
	return r.WithContext(context.WithValue(r.Context(), zoneKey{}, z))
}

// zoneOf is the viewer's zone, UTC when the request carries none.
func zoneOf(ctx context.Context) viewerZone {
	if z, ok := ctx.Value(zoneKey{}).(viewerZone); ok {
		return z
	}
	return viewerZone{loc: time.UTC}
}

// zoneLabel names the zone of t as people read it: its abbreviation (CET,
// PST) or, for zones without one, the offset (UTC+08:00).
func zoneLabel(t time.Time) string {
	name, _ := t.Zone()
	if name == "" || name[0] == '+' || name[0] == '-' {
		return "UTC" + t.Format("-07:00")
	}
	return name
}

// fmtWhen is a time to the minute in the viewer's zone, named.
func fmtWhen(ctx context.Context, t time.Time) string {
	lt := t.In(zoneOf(ctx).loc)
	return lt.Format("2006-01-02 15:04") + " " + zoneLabel(lt)
}

// fmtWhenSec is a time to the second in the viewer's zone, named.
func fmtWhenSec(ctx context.Context, t time.Time) string {
	lt := t.In(zoneOf(ctx).loc)
	return lt.Format("2006-01-02 15:04:05") + " " + zoneLabel(lt)
}

// zoneName is the viewer's zone as filters and charts name it: "UTC" or an
// IANA name.
func zoneName(ctx context.Context) string { return zoneOf(ctx).loc.String() }

// inUTC tells whether the viewer sees times in UTC.
func inUTC(ctx context.Context) bool { return zoneOf(ctx).loc == time.UTC }

// zoneSwitchURL is the page's own address with ?tz=zone: the link that
// switches between UTC and the browser's zone (app.js fills in "local").
func zoneSwitchURL(r *http.Request, zone string) string {
	q := r.URL.Query()
	q.Set("tz", zone)
	return (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()
}
