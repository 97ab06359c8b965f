package ui_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// leakSecret is a ServerSecret that must never come back out of the console.
const leakSecret = "Zq7vLeakCheck0000000000000000W9x"

func TestProject_CreateShowsItMaskedAndNeverEchoesTheSecret(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")

	res, body := e.Post(t, admin, "/projects", projectForm("1001", "Live classes", leakSecret))
	expectRedirect(t, "create", res, body, "/projects/1001?notice=project-created")
	p, err := e.Store.ProjectByAppID(t.Context(), 1001)
	if err != nil || p.Name != "Live classes" || p.DefaultTTLSeconds != 3600 || p.MaxTTLSeconds != 86400 || !p.PublishAllowed {
		t.Fatalf("stored project: got %+v, %v", p, err)
	}

	// A form with an error after the secret was typed: the secret is not sent back.
	res, body = e.Post(t, admin, "/projects", projectForm("1002", "", leakSecret))
	expectStatus(t, "create without a name", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "form with errors", body, `data-testid="error-name"`, "enter it again")
	formWithErrors := body
	// Rotation: the new secret is not shown either.
	rotated := "RotatedLeakCheck000000000000R0t8"
	res, body = e.Post(t, admin, "/projects/1001/secret", url.Values{"secret": {rotated}})
	expectRedirect(t, "rotate", res, body, "/projects/1001?notice=secret-rotated")

	pages := []string{"/projects/1001?notice=project-created", "/projects", "/projects/1001/edit", "/", "/projects/1001/delete", "/apikeys"}
	seen := map[string]string{"the create form with errors": formWithErrors, "the rotate response": body}
	for _, path := range pages {
		status, b := e.Get(t, admin, path)
		expectStatus(t, "GET "+path, status, http.StatusOK, b)
		seen["GET "+path] = b
	}
	seen["the server log"] = e.Logs.String()
	for what, b := range seen {
		expectNotIn(t, what, b, leakSecret, rotated, leakSecret[:16], rotated[:16])
	}
	expectIn(t, "project page", seen["GET "+pages[0]], "••••…"+rotated[28:], "••••…"+leakSecret[28:], "Project created.",
		`data-testid="secret-version-1"`, `data-testid="secret-version-2"`, `data-testid="rotate-secret"`)
	expectIn(t, "project list", seen["GET /projects"], `data-testid="project-row-1001"`, "••••…"+rotated[28:])
}

func TestProject_ValidatesTheFormAndSavesNothingOnError(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	e.CreateProject(t, 5)
	for name, tc := range map[string]struct {
		change func(url.Values)
		field  string
	}{
		"bad AppID":           {func(v url.Values) { v.Set("app_id", "12ab") }, "app_id"},
		"AppID zero":          {func(v url.Values) { v.Set("app_id", "0") }, "app_id"},
		"AppID too large":     {func(v url.Values) { v.Set("app_id", "4294967296") }, "app_id"},
		"AppID taken":         {func(v url.Values) { v.Set("app_id", "5") }, "app_id"},
		"short secret":        {func(v url.Values) { v.Set("secret", "tooshort") }, "secret"},
		"bad environment":     {func(v url.Values) { v.Set("environment", "Prod Env!") }, "environment"},
		"TTL not a duration":  {func(v url.Values) { v.Set("default_ttl", "soon") }, "default_ttl"},
		"default above max":   {func(v url.Values) { v.Set("default_ttl", "48h") }, "default_ttl"},
		"max above 30 days":   {func(v url.Values) { v.Set("max_ttl", "31d") }, "max_ttl"},
		"empty maximum":       {func(v url.Values) { v.Set("max_ttl", "") }, "max_ttl"},
		"name over 100 chars": {func(v url.Values) { v.Set("name", strings.Repeat("n", 101)) }, "name"},
	} {
		form := projectForm("77", "Bad", webtest.TestSecret)
		tc.change(form)
		res, body := e.Post(t, admin, "/projects", form)
		expectStatus(t, name, res.StatusCode, http.StatusUnprocessableEntity, body)
		expectIn(t, name, body, `data-testid="error-`+tc.field+`"`)
		expectNotIn(t, name, body, webtest.TestSecret)
	}
	if n := e.Count(t, `SELECT count(*) FROM projects`); n != 1 {
		t.Fatalf("projects: got %d, want 1", n)
	}
}

func TestProject_TTLsAcceptSecondsDurationsAndDays(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	form := projectForm("9", "TTLs", webtest.TestSecret)
	form.Set("default_ttl", "90m")
	form.Set("max_ttl", "2d")
	form.Del("publish_allowed")
	res, body := e.Post(t, admin, "/projects", form)
	expectRedirect(t, "create", res, body, "/projects/9?notice=project-created")
	p, _ := e.Store.ProjectByAppID(t.Context(), 9)
	if p.DefaultTTLSeconds != 5400 || p.MaxTTLSeconds != 172800 || p.PublishAllowed {
		t.Fatalf("got default %d, max %d, publish %v; want 5400, 172800, false", p.DefaultTTLSeconds, p.MaxTTLSeconds, p.PublishAllowed)
	}

	res, body = e.Post(t, admin, "/projects/9", url.Values{"name": {"Renamed"}, "environment": {"staging"},
		"default_ttl": {"3600"}, "max_ttl": {"1h"}, "publish_allowed": {"on"}, "zego_services": {"rtc"}})
	expectRedirect(t, "update", res, body, "/projects/9?notice=project-updated")
	p, _ = e.Store.ProjectByAppID(t.Context(), 9)
	if p.Name != "Renamed" || p.Environment != "staging" || p.DefaultTTLSeconds != 3600 || p.MaxTTLSeconds != 3600 || !p.PublishAllowed {
		t.Fatalf("after update: got %+v", p)
	}
	status, body := e.Get(t, admin, "/projects/9/edit")
	expectStatus(t, "edit form", status, http.StatusOK, body)
	expectIn(t, "edit form", body, `value="Renamed"`, `value="1h"`, `value="staging"`)
	expectNotIn(t, "edit form", body, `name="secret"`, `name="app_id"`)

	res, body = e.Post(t, admin, "/projects/9", url.Values{"name": {"X"}, "environment": {"staging"}, "default_ttl": {"2h"}, "max_ttl": {"1h"}})
	expectStatus(t, "update above max", res.StatusCode, http.StatusUnprocessableEntity, body)
	if p2, _ := e.Store.ProjectByAppID(t.Context(), 9); p2.Name != "Renamed" {
		t.Errorf("a refused update changed the name to %q", p2.Name)
	}
}

func TestProject_RotateRejectsABadSecret(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	e.CreateProject(t, 3)
	res, body := e.Post(t, admin, "/projects/3/secret", url.Values{"secret": {"short-secret-typed"}})
	expectStatus(t, "rotate with a short secret", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "rotate error", body, `data-testid="rotate-error"`, "Nothing was changed", "Reset the ServerSecret in the ZEGO console first")
	expectNotIn(t, "rotate error", body, "short-secret-typed")
	if n := e.Count(t, `SELECT count(*) FROM project_secrets`); n != 1 {
		t.Errorf("secret versions: got %d, want 1", n)
	}
}

func TestProject_DisableEnableAndDeleteWithConfirmation(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	e.CreateProject(t, 42)

	res, body := e.Post(t, admin, "/projects/42/disable", nil)
	expectRedirect(t, "disable", res, body, "/projects/42?notice=project-disabled")
	_, body = e.Get(t, admin, "/projects/42")
	expectIn(t, "disabled project", body, `data-testid="project-disabled"`, `data-testid="project-enable"`)
	res, body = e.Post(t, admin, "/projects/42/enable", nil)
	expectRedirect(t, "enable", res, body, "/projects/42?notice=project-enabled")
	if p, _ := e.Store.ProjectByAppID(t.Context(), 42); p.Disabled {
		t.Fatal("project still disabled")
	}

	status, body := e.Get(t, admin, "/projects/42/delete")
	expectStatus(t, "delete page", status, http.StatusOK, body)
	expectIn(t, "delete page", body, "destroy its ServerSecret", `data-testid="project-delete-input"`)
	for _, typed := range []string{"", "43", "Project x"} {
		res, body = e.Post(t, admin, "/projects/42/delete", url.Values{"confirm": {typed}})
		expectStatus(t, "delete confirmed with "+typed, res.StatusCode, http.StatusUnprocessableEntity, body)
		expectIn(t, "mismatch", body, `data-testid="project-delete-error"`)
	}
	if _, err := e.Store.ProjectByAppID(t.Context(), 42); err != nil {
		t.Fatalf("project gone after a refused delete: %v", err)
	}
	res, body = e.Post(t, admin, "/projects/42/delete", url.Values{"confirm": {"42"}})
	expectRedirect(t, "delete", res, body, "/projects?notice=project-deleted")
	if _, err := e.Store.ProjectByAppID(t.Context(), 42); !errors.Is(err, store.ErrProjectNotFound) {
		t.Fatalf("after delete: got %v, want ErrProjectNotFound", err)
	}
	status, body = e.Get(t, admin, "/projects/42")
	expectStatus(t, "deleted project page", status, http.StatusNotFound, body)
}

func TestProject_GarbageOrUnknownAppIDIs404(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	for _, path := range []string{"/projects/abc", "/projects/0", "/projects/-1", "/projects/4294967296", "/projects/1e3", "/projects/77", "/projects/77/edit", "/projects/x/delete"} {
		status, body := e.Get(t, admin, path)
		expectStatus(t, "GET "+path, status, http.StatusNotFound, body)
	}
	for _, path := range []string{"/projects/abc/disable", "/projects/77/enable", "/projects/77/secret", "/projects/99/delete"} {
		res, body := e.Post(t, admin, path, url.Values{"secret": {webtest.TestSecret}, "confirm": {"99"}})
		expectStatus(t, "POST "+path, res.StatusCode, http.StatusNotFound, body)
	}
}

func TestProject_UserTextIsEscaped(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	res, body := e.Post(t, admin, "/projects", projectForm("66", "<script>alert(1)</script>", webtest.TestSecret))
	expectRedirect(t, "create", res, body, "/projects/66?notice=project-created")
	for _, path := range []string{"/projects/66", "/projects", "/", "/projects/66/edit", "/projects/66/delete"} {
		_, body := e.Get(t, admin, path)
		expectNotIn(t, path, body, "<script>alert(1)")
		expectIn(t, path, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	}
}

func TestProject_ListAndEmptyStatesByRole(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	auditor := e.SignIn(t, "audrey", "auditor")
	_, body := e.Get(t, admin, "/projects")
	expectIn(t, "admin, no projects", body, `data-testid="project-empty"`, `data-testid="project-new"`)
	_, body = e.Get(t, auditor, "/projects")
	expectIn(t, "auditor, no projects", body, "Ask an admin")
	expectNotIn(t, "auditor, no projects", body, `data-testid="project-new"`)

	e.CreateProject(t, 11)
	_, body = e.Get(t, auditor, "/projects/11")
	expectIn(t, "auditor, project page", body, `data-testid="secret-versions"`, "No token has been issued")
	expectNotIn(t, "auditor, project page", body, `data-testid="rotate-secret"`, `data-testid="project-edit"`, `data-testid="project-delete"`, `data-testid="project-issue"`)
	e.IssueAt(t, 11, "user-17", time.Time{})
	_, body = e.Get(t, admin, "/projects/11")
	expectIn(t, "admin, project page", body, "user-17", `class="badge state-active"`, `data-testid="project-issue"`, `data-testid="project-chart"`)
}

func TestProject_ZEGOSettingsFromTheFormShowOnThePage(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	status, body := e.Get(t, admin, "/projects/new")
	expectStatus(t, "new project form", status, http.StatusOK, body)
	expectIn(t, "new project form", body, `data-testid="project-kick-on-revoke"`, `name="zego_services" value="rtc" checked`,
		`name="zego_services" value="zim" data-testid`, `<option value="global" selected>`)

	form := projectForm("31", "Kicks", webtest.TestSecret)
	form.Set("kick_on_revoke", "on")
	form["zego_services"] = []string{"zim", "rtc"}
	form.Set("zego_region", "hkg")
	res, body := e.Post(t, admin, "/projects", form)
	expectRedirect(t, "create", res, body, "/projects/31?notice=project-created")
	p, err := e.Store.ProjectByAppID(t.Context(), 31)
	if err != nil || !p.KickOnRevoke || strings.Join(p.ZegoServices, ",") != "rtc,zim" || p.ZegoRegion != "hkg" {
		t.Fatalf("stored: got %+v, %v; want kick on, rtc and zim, hkg", p, err)
	}
	status, body = e.Get(t, admin, "/projects/31")
	expectStatus(t, "project page", status, http.StatusOK, body)
	expectIn(t, "project page", body, "kicked out of the token&#39;s room in RTC and In-app Chat (hkg (rtc-api-hkg.zego.im))")
	status, body = e.Get(t, admin, "/projects/31/edit")
	expectStatus(t, "edit form", status, http.StatusOK, body)
	expectIn(t, "edit form", body, `name="kick_on_revoke" value="on" checked`, `<option value="hkg" selected>`)

	for name, change := range map[string]func(url.Values){
		"no product":   func(v url.Values) { v.Del("zego_services") },
		"a bad region": func(v url.Values) { v.Set("zego_region", "mars") },
	} {
		form := projectForm("31", "Kicks", "")
		change(form)
		res, body := e.Post(t, admin, "/projects/31", form)
		expectStatus(t, name, res.StatusCode, http.StatusUnprocessableEntity, body)
		expectIn(t, name, body, `data-testid="error-zego_`)
	}
	if p, _ := e.Store.ProjectByAppID(t.Context(), 31); p.ZegoRegion != "hkg" {
		t.Fatalf("a refused edit changed the region to %q", p.ZegoRegion)
	}
}
