package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// inZone gives the client the time-zone cookie a browser in zone has.
func inZone(t *testing.T, e *webtest.Env, c *http.Client, zone string) {
	t.Helper()
	u, _ := url.Parse(e.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "console_tz", Value: zone, Path: "/"}})
}

func TestTimes_ShownInTheViewersZoneNamedWithUTCInTheTooltip(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	it := e.IssueFor(t, 1001, "user-1")
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	inZone(t, e, c, "Asia/Shanghai")
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	ctime := it.Record.CTime.In(shanghai)

	_, tokens := e.Get(t, c, "/tokens")
	requireInBody(t, tokens, ctime.Format("15:04")+" CST", `title="`+it.Record.CTime.UTC().Format("2006-01-02 15:04:05")+` UTC"`,
		`data-testid="zone-name">Asia/Shanghai<`)
	_, dash := e.Get(t, c, "/")
	requireInBody(t, dash, "last 30 days (Asia/Shanghai)")
	_, audit := e.Get(t, c, "/audit")
	requireInBody(t, audit, "From (Asia/Shanghai)", "To (Asia/Shanghai)", "Exports give times in UTC.", ctime.Format("2006-01-02 15:04:05")+" CST")
}

func TestTimes_TheViewerSwitchesToUTCAndItIsRemembered(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	inZone(t, e, c, "Europe/Berlin")
	_, page := e.Get(t, c, "/audit?action=token.issue")
	requireInBody(t, page, "From (Europe/Berlin)", `data-testid="zone-utc"`, `href="/audit?action=token.issue&amp;tz=UTC"`)
	_, page = e.Get(t, c, "/audit?action=token.issue&tz=UTC")
	requireInBody(t, page, "From (UTC)", `data-testid="zone-local"`)
	_, page = e.Get(t, c, "/audit")
	requireInBody(t, page, "From (UTC)", `data-testid="zone-name">UTC<`)
}

func TestTimes_AuditFromAndToAreReadInTheViewersZone(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	inZone(t, e, c, "Asia/Shanghai")
	// 08:00 in Shanghai is midnight UTC; a date as To means the whole day.
	status, page := e.Get(t, c, "/audit?from=2026-01-02T08:00&to=2026-01-02")
	expectStatus(t, "filter by local times", status, http.StatusOK, page)
	requireInBody(t, page, `value="2026-01-02T08:00"`, `value="2026-01-03T00:00"`,
		"from=2026-01-02T00%3A00%3A00Z", "to=2026-01-02T16%3A00%3A00Z")
}

func TestTimes_AZoneNameThatIsNotOneIsIgnored(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	for _, bad := range []string{"../../etc/passwd", "Local", "Mars/Olympus", "UTC+8", strings.Repeat("A", 100)} {
		inZone(t, e, c, bad)
		status, page := e.Get(t, c, "/audit?tz="+url.QueryEscape(bad))
		expectStatus(t, "zone "+bad, status, http.StatusOK, page)
		requireInBody(t, page, "From (UTC)", "Times in your time zone.")
	}
}
