package ui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// The tour visits the pages the journey does not pass (or passes only in
// one state), each captured and so checked (checkPage) at both sizes and on
// a 360 px phone.
func TestBrowserTour_EveryPageIsAccessibleAndFitsTheScreenAtBothSizes(t *testing.T) {
	t.Parallel()
	for _, screen := range append(viewports, narrowPhone) {
		t.Run(screen.name, func(t *testing.T) {
			t.Parallel()
			tour(t, screen, "en")
		})
	}
}

// The same tour in Simplified Chinese, chosen on the sign-in page and
// remembered: every page in Chinese, accessible and fitting the screen, on a
// desktop and a phone (Chinese text breaks and wraps differently).
func TestBrowserTour_EveryPageInChineseIsAccessibleAndFitsTheScreen(t *testing.T) {
	t.Parallel()
	for _, screen := range viewports {
		t.Run(screen.name, func(t *testing.T) {
			t.Parallel()
			tour(t, screen, "zh-Hans")
		})
	}
}

// tourEnv is a console with what every page needs to show something: two
// projects (one forbids publishing), tokens in every state, people of
// every role, an API key and an audit sink.
func tourEnv(t *testing.T) (*webtest.Env, store.IssuedToken) {
	t.Helper()
	e := issueProjectsEnv(t)
	e.CreateOperator(t, "ada", store.RoleAdmin)
	e.CreateOperator(t, "otto", store.RoleOperator)
	e.CreateOperator(t, "audrey", store.RoleAuditor)
	withRoom := func(room string) func(*store.IssueRequest) {
		return func(r *store.IssueRequest) {
			r.RoomID, r.Privileges = room, &store.Privileges{Login: true, Publish: true}
		}
	}
	e.IssueFor(t, openAppID, "teacher-anna", withRoom("room-1"))
	e.IssueFor(t, openAppID, "student-with-a-rather-long-user-id-0042", withRoom("algebra-and-geometry-for-beginners"))
	e.IssueFor(t, closedAppID, "viewer-7")
	revoked := e.IssueFor(t, openAppID, "student-bob", withRoom("room-1"))
	if _, err := e.Store.RevokeToken(t.Context(), openAppID, revoked.Record.ID, "left the class", webtest.OperatorActor, store.Origin{}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	e.APIKey(t, []string{store.ScopeIssue}, openAppID)
	if _, _, err := e.Store.CreateSink(t.Context(), store.SinkInput{Name: "siem", Kind: store.SinkWebhook, URL: "https://siem.example/collector"},
		webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatalf("create sink: %v", err)
	}
	e.SealAudit(t)
	return e, revoked
}

// tour visits every page in lang (en or zh-Hans). Screenshots of a
// Chinese tour are named tour-zh-Hans-….
func tour(t *testing.T, screen viewport, lang string) {
	e, revoked := tourEnv(t)
	h := newHeadlessAt(t, true, screen)
	admin := h.newTab(t, "admin", e.URL)
	if _, err := chromedp.Call(admin.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Shanghai"}); err != nil {
		t.Fatalf("put the browser in Shanghai: %v", err)
	}
	shot := func(name string) string { return name }
	if lang != "en" {
		shot = func(name string) string { return strings.Replace(name, "tour-", "tour-"+lang+"-", 1) }
		admin.open(t, "/login?lang="+lang, "login")
	}
	admin.signIn(t, "ada", webtest.TestPassword, "")
	if got := run(t, admin, "read the page's language", chromedp.JavascriptAttribute[string](chromedp.CSS("html"), "lang")); got != lang {
		t.Fatalf("after signing in: the page is in %q, want %q", got, lang)
	}
	for _, p := range []struct{ name, path, waitFor string }{
		{"tour-01-dashboard", "/", "dashboard-totals"},
		{"tour-02-projects", "/projects", "project-table"},
		{"tour-03-project", "/projects/1234567890", "secret-versions"},
		{"tour-04-project-edit", "/projects/1234567890/edit", "project-form"},
		{"tour-05-project-delete", "/projects/2345678901/delete", "project-delete-confirm"},
		{"tour-06-issue", "/issue?app_id=2345678901", "issue-form"},
		{"tour-07-tokens", "/tokens", "tokens-filter"},
		{"tour-08-inspect", "/inspect", "inspect-form"},
		{"tour-10-audit", "/audit", "audit-filter"},
		{"tour-11-people", "/operators", "operator-table"},
		{"tour-12-apikeys", "/apikeys", "apikey-table"},
		{"tour-13-sinks", "/audit/sinks", "sink-table"},
		{"tour-14-sso", "/sso", "sso-rules"},
		{"tour-20-issue-list", "/issue/list", "issue-list-form"},
		{"tour-21-account", "/account", "account-factors"},
		{"tour-22-account-password", "/account/password", "password-form"},
		{"tour-23-account-totp", "/account/totp", "totp-enrol"},
	} {
		admin.open(t, p.path, p.waitFor)
		if got := run(t, admin, "read the page's language", chromedp.JavascriptAttribute[string](chromedp.CSS("html"), "lang")); got != lang {
			t.Errorf("%s: the page is in %q, want %q (chosen at sign-in)", p.path, got, lang)
		}
		if got := run(t, admin, "read the time zone", chromedp.JavascriptAttribute[string](tid("zone"), "textContent")); !strings.Contains(got, "Asia/Shanghai") {
			t.Errorf("%s: the footer says %q, want the browser's zone Asia/Shanghai (remembered since the first page)", p.path, got)
		}
		admin.capture(t, shot(p.name))
		if p.path == "/inspect" {
			admin.do(t, "paste a revoked token", chromedp.SetValue(tid("inspect-token"), revoked.Token))
			admin.follow(t, "inspect", tid("inspect-submit"), tid("inspect-result"))
			admin.capture(t, shot("tour-09-inspect-revoked"))
		}
	}

	// Pages that answer an error: a form refused field by field, and a
	// page that does not exist.
	admin.open(t, "/issue", "issue-form")
	admin.do(t, "leave the browser's checks to the server",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=issue-form]").noValidate = true`))
	res, err := chromedp.RunResponse(admin.ctx, chromedp.Click(tid("issue-submit")))
	if err != nil || res.Status != 422 {
		t.Fatalf("issue without a user: got %v, %v; want HTTP 422", res, err)
	}
	admin.do(t, "see the errors", chromedp.WaitVisible(tid("issue-errors")))
	admin.capture(t, shot("tour-15-issue-errors"))
	// Dark mode: the screenshot shows it; checkPage checks both schemes anyway.
	for _, p := range []struct{ name, path, waitFor string }{
		{"tour-18-dashboard-dark", "/", "dashboard-totals"},
		{"tour-19-tokens-dark", "/tokens", "tokens-filter"},
	} {
		admin.open(t, p.path, p.waitFor)
		admin.colorScheme(t, "dark")
		admin.capture(t, shot(p.name))
	}
	if screen.mobile {
		requireFoldedMenu(t, admin)
	} else {
		requireSkipLink(t, admin)
	}
	admin.do(t, "open a missing page", chromedp.Navigate(e.URL+"/projects/99"), chromedp.WaitVisible(tid("error")))
	admin.capture(t, shot("tour-16-not-found"))
}

// requireFoldedMenu checks the top bar of a phone: it scrolls away with the
// page, takes one line until its menu button is pressed, and then shows
// every link.
func requireFoldedMenu(t *testing.T, b *tab) {
	t.Helper()
	b.open(t, "/tokens", "tokens-filter")
	bar := run(t, b, "measure the top bar", chromedp.Evaluate[struct {
		Position string  `json:"position"`
		Height   float64 `json:"height"`
	}](`(() => { const b = document.querySelector(".topbar"); return { position: getComputedStyle(b).position, height: b.getBoundingClientRect().height }; })()`))
	if bar.Position == "sticky" || bar.Position == "fixed" {
		t.Errorf("phone: the top bar is %s, want it to scroll away with the page", bar.Position)
	}
	if bar.Height > 64 {
		t.Errorf("phone: the folded top bar is %.0f px high, want one line (at most 64 px)", bar.Height)
	}
	b.do(t, "open the menu", chromedp.Click(tid("nav-toggle")), chromedp.WaitVisible(tid("nav-audit")), chromedp.WaitVisible(tid("logout")))
	b.capture(t, "tour-17-menu-open")
}

// requireSkipLink checks the keyboard's way past the navigation: the first
// Tab of a page reaches "Skip to content", shown while focused, and Enter
// moves on to the page's main content.
func requireSkipLink(t *testing.T, b *tab) {
	t.Helper()
	b.open(t, "/tokens", "tokens-filter")
	b.do(t, "press Tab", chromedp.KeyEvent("\t"))
	focused := `(() => { const a = document.activeElement; const r = a.getBoundingClientRect();
		return { testid: a.dataset.testid || a.tagName, shown: r.top >= 0 && r.height > 0 }; })()`
	type focus struct {
		TestID string `json:"testid"`
		Shown  bool   `json:"shown"`
	}
	if got := run(t, b, "read the focus", chromedp.Evaluate[focus](focused)); got.TestID != "skip-link" || !got.Shown {
		t.Fatalf("the first Tab focuses %+v, want the skip link, shown", got)
	}
	b.do(t, "press Enter", chromedp.KeyEvent("\r"))
	if got := run(t, b, "read the focus", chromedp.Evaluate[string](`document.activeElement.id`)); got != "main" {
		t.Errorf("Enter on the skip link focuses #%s, want #main", got)
	}
}
