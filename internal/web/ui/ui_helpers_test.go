package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Helpers of the sign-in, dashboard, project, operator and API key tests.

// expectStatus stops the test when a response has the wrong status.
func expectStatus(t *testing.T, what string, got, want int, body string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got status %d, want %d; body:\n%.2000s", what, got, want, body)
	}
}

// expectIn reports each of wants that body lacks.
func expectIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: body lacks %q", what, w)
		}
	}
}

// expectNotIn reports each of unwanted that body contains.
func expectNotIn(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s: body contains %q", what, u)
		}
	}
}

// expectRedirect checks a 303 and where it leads.
func expectRedirect(t *testing.T, what string, res *http.Response, body, location string) {
	t.Helper()
	expectStatus(t, what, res.StatusCode, http.StatusSeeOther, body)
	if got := res.Header.Get("Location"); got != location {
		t.Fatalf("%s: redirected to %q, want %q", what, got, location)
	}
}

// sessionCookieIn returns the console's session cookie set by res, or nil.
func sessionCookieIn(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == "console_session" {
			return c
		}
	}
	return nil
}

// projectForm is a valid create-project form.
func projectForm(appID, name, secret string) url.Values {
	return url.Values{"name": {name}, "app_id": {appID}, "environment": {"test"}, "secret": {secret},
		"default_ttl": {"1h"}, "max_ttl": {"24h"}, "publish_allowed": {"on"}, "zego_services": {"rtc"}}
}
