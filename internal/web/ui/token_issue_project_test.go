package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// Two projects whose policies differ in everything the issue form shows:
// "Live classes" allows publishing and lifetimes up to 24 h, "Watch
// parties" forbids publishing and stops at 2 h.
const (
	openAppID, closedAppID = 1234567890, 2345678901
)

func issueProjectsEnv(t *testing.T) *webtest.Env {
	t.Helper()
	e := webtest.NewEnv(t)
	for _, p := range []store.ProjectInput{
		{Name: "Live classes", AppID: openAppID, Environment: "production", DefaultTTL: 2 * time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true},
		{Name: "Watch parties", AppID: closedAppID, Environment: "staging", DefaultTTL: 30 * time.Minute, MaxTTL: 2 * time.Hour},
	} {
		if _, err := e.Store.CreateProject(t.Context(), p, []byte(webtest.TestSecret), webtest.AdminActor, store.Origin{}); err != nil {
			t.Fatalf("create project %s: %v", p.Name, err)
		}
	}
	return e
}

func TestIssueForm_ChoosingAnotherProjectShowsItsPresetsHintAndPrivileges(t *testing.T) {
	t.Parallel()
	e := issueProjectsEnv(t)
	e.CreateOperator(t, "otto", store.RoleOperator)
	h := newHeadless(t, false)
	b := h.newTab(t, "operator", e.URL)
	b.signIn(t, "otto", webtest.TestPassword, "")
	b.open(t, "/issue?app_id=1234567890", "issue-form")
	if !run(t, b, "read the publish box", chromedp.JavascriptAttribute[bool](tid("issue-publish"), "checked")) {
		t.Fatal("Live classes allows publishing: want Publish ticked at first")
	}

	// The person picks the other project from the list.
	b.do(t, "choose Watch parties",
		chromedp.SetValue(tid("issue-project"), "2345678901"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=issue-project]").dispatchEvent(new Event("change", { bubbles: true }))`),
		chromedp.WaitVisible(tid("issue-publish-forbidden")),
	)
	if run(t, b, "read the publish box", chromedp.JavascriptAttribute[bool](tid("issue-publish"), "checked")) {
		t.Error("Watch parties forbids publishing: Publish is still ticked")
	}
	if !run(t, b, "read the publish box", chromedp.JavascriptAttribute[bool](tid("issue-publish"), "disabled")) {
		t.Error("Watch parties forbids publishing: Publish can still be ticked")
	}
	if got := run(t, b, "read the hint", chromedp.Text(tid("issue-policy"))); !strings.Contains(got, "Watch parties") || !strings.Contains(got, "maximum 2 h") {
		t.Errorf("policy hint: got %q, want Watch parties' maximum of 2 h", got)
	}
	presets := run(t, b, "read the presets", chromedp.Evaluate[[]string](`[...document.querySelectorAll("[data-testid=issue-ttl] option")].map((o) => o.textContent.trim())`))
	if want := []string{"Project default (30 min)", "5 min", "1 h"}; strings.Join(presets, "|") != strings.Join(want, "|") {
		t.Errorf("lifetime presets: got %q, want %q", presets, want)
	}

	// A custom lifetime in the units people use.
	b.do(t, "fill the form",
		chromedp.SendKeys(tid("issue-user"), "viewer-1"),
		chromedp.SendKeys(tid("issue-ttl-custom"), "90m"),
	)
	b.follow(t, "issue", tid("issue-submit"), tid("issued-token"))
	token := strings.TrimSpace(run(t, b, "read the token", chromedp.Text(tid("issued-token"))))
	d, err := token04.Decode(token, []byte(webtest.TestSecret), token04.DecodeOptions{})
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if d.Claims.AppID != closedAppID || d.Claims.Expire-d.Claims.CTime != 90*60 {
		t.Errorf("token: AppID %d, lifetime %ds; want %d, %ds (90m)", d.Claims.AppID, d.Claims.Expire-d.Claims.CTime, closedAppID, 90*60)
	}
}

func TestIssueForm_WithoutJavaScriptTheServerRedrawsTheFormForTheChosenProject(t *testing.T) {
	t.Parallel()
	e := issueProjectsEnv(t)
	c := e.SignIn(t, "otto", store.RoleOperator)
	_, page := e.Get(t, c, "/issue?app_id=1234567890")
	requireInBody(t, page, `data-testid="issue-choose"`)

	// The browser sends the whole form as typed, Publish still ticked.
	form := issueFormValues("2345678901", "viewer-1")
	form.Set("ttl", "28800") // Live classes' 8 h preset, above Watch parties' maximum
	form.Set("choose", "1")
	res, body := e.Post(t, c, "/issue", form)
	expectStatus(t, "choose Watch parties", res.StatusCode, http.StatusOK, body)
	requireInBody(t, body, `data-testid="issue-publish-forbidden"`, "Watch parties: default 30 min, maximum 2 h", `value="viewer-1"`, "Project default (30 min)")
	requireNotInBody(t, "the form for Watch parties", body, `data-testid="issue-errors"`, `value="28800"`, `data-testid="issued-token"`)
	if strings.Contains(body, `data-testid="issue-publish"`) && strings.Contains(body, `checked data-testid="issue-publish"`) {
		t.Error("the form for Watch parties has Publish ticked")
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Errorf("choosing a project issued %d tokens, want none", n)
	}
}

func TestIssueForm_CustomLifetimeTakesSecondsOrUnits(t *testing.T) {
	t.Parallel()
	e := issueProjectsEnv(t)
	c := e.SignIn(t, "otto", store.RoleOperator)
	for _, tc := range []struct {
		typed string
		want  int64
	}{{"90", 90}, {"90s", 90}, {"15m", 900}, {"2h", 7200}, {"7d", 7 * 86400}, {"1h30m", 5400}} {
		form := url.Values{"app_id": {"1234567890"}, "user_id": {"u-" + tc.typed}, "ttl_custom": {tc.typed}, "mode": {"gcm"}}
		if tc.want > 86400 {
			// Live classes stops at 24 h: 7d is read, then refused by the policy.
			res, body := e.Post(t, c, "/issue", form)
			expectStatus(t, "lifetime "+tc.typed, res.StatusCode, http.StatusUnprocessableEntity, body)
			requireInBody(t, body, `data-testid="error-ttl_seconds"`, "maximum")
			continue
		}
		res, body := e.Post(t, c, "/issue", form)
		expectStatus(t, "lifetime "+tc.typed, res.StatusCode, http.StatusOK, body)
		d, err := token04.Decode(issuedTokenIn(t, body), []byte(webtest.TestSecret), token04.DecodeOptions{})
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got := d.Claims.Expire - d.Claims.CTime; got != tc.want {
			t.Errorf("lifetime %q: got %ds, want %ds", tc.typed, got, tc.want)
		}
	}
}

func TestIssueForm_ReportsEveryFieldErrorInOneRound(t *testing.T) {
	t.Parallel()
	e := issueProjectsEnv(t)
	c := e.SignIn(t, "otto", store.RoleOperator)
	form := url.Values{"app_id": {"2345678901"}, "user_id": {""}, "ttl_custom": {"soon"}, "publish": {"1"}, "mode": {"gcm"}}
	res, body := e.Post(t, c, "/issue", form)
	expectStatus(t, "issue with three mistakes", res.StatusCode, http.StatusUnprocessableEntity, body)
	requireInBody(t, body, `data-testid="error-ttl_seconds"`, `data-testid="error-user_id"`, `data-testid="error-privileges"`)
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Errorf("%d tokens issued, want none", n)
	}
}
