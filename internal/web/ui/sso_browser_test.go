package ui_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserSSO_PersonClicksSignInWithTheProviderAndLandsOnTheDashboardWithTheMappedRole(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.IssueAt(t, ssoAppA, userOfA, time.Time{})
	e.idp.enrol("olga", person("sub-olga", "olga@acme.example", "staff", "ops-a"))
	h := newHeadless(t, true)
	b := h.newTab(t, "olga", e.URL)

	b.open(t, "/login", "login-sso")
	if got := run(t, b, "read the SSO button", chromedp.Text(tid("login-sso"))); got != "Sign in with "+ssoName {
		t.Fatalf("SSO button: got %q, want %q", got, "Sign in with "+ssoName)
	}
	b.capture(t, "sso-01-login")
	b.follow(t, "click Sign in with "+ssoName, tid("login-sso"), tid("idp-username"))
	b.capture(t, "sso-02-provider")
	b.do(t, "sign in at the provider", chromedp.SendKeys(tid("idp-username"), "olga"))
	b.follow(t, "submit at the provider", tid("idp-submit"), tid("dashboard-totals"))
	html := b.capture(t, "sso-03-dashboard")

	if got := run(t, b, "read who is signed in", chromedp.Text(tid("who"))); got != "olga" {
		t.Errorf("signed in as %q, want olga", got)
	}
	if got := run(t, b, "read the role", chromedp.Text(tid("who-role"))); got != "operator" {
		t.Errorf("role badge: got %q, want operator (rule groups=ops-a)", got)
	}
	if loc := run(t, b, "read the address", chromedp.Location()); loc != e.URL+"/" {
		t.Errorf("landed on %q, want the dashboard %q", loc, e.URL+"/")
	}
	if !strings.Contains(html, strconv.Itoa(ssoAppA)) || strings.Contains(html, strconv.Itoa(ssoAppC)) {
		t.Errorf("dashboard: want project A (%d) and not C (%d)", ssoAppA, ssoAppC)
	}
}
