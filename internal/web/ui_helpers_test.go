package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
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

// sendForm posts form to path with extra headers and returns the response
// with its body read.
func (e *env) sendForm(t *testing.T, c *http.Client, path string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// fetch GETs path with extra headers.
func (e *env) fetch(t *testing.T, c *http.Client, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
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

// withCookie is a browser that sends only the given session cookie.
func (e *env) withCookie(t *testing.T, c *http.Cookie) *http.Client {
	t.Helper()
	b := e.browser(t)
	u, _ := url.Parse(e.URL)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
	return b
}

// events counts audit events with action and outcome.
func (e *env) events(t *testing.T, action, outcome string) int {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM audit_events WHERE action = $1 AND outcome = $2`, action, outcome)
}

// projectForm is a valid create-project form.
func projectForm(appID, name, secret string) url.Values {
	return url.Values{"name": {name}, "app_id": {appID}, "environment": {"test"}, "secret": {secret},
		"default_ttl": {"1h"}, "max_ttl": {"24h"}, "publish_allowed": {"on"}}
}

// operatorPath is the address of an operator's actions, by username.
func (e *env) operatorPath(t *testing.T, username string) string {
	t.Helper()
	return "/operators/" + strconv.Itoa(e.count(t, `SELECT id FROM operators WHERE username = $1`, username))
}

// issueAt issues a token through the store as if at now (zero: the present).
func (e *env) issueAt(t *testing.T, appID uint32, userID string, now time.Time) store.IssuedToken {
	t.Helper()
	it, err := e.st.IssueToken(t.Context(), store.IssueRequest{AppID: appID, UserID: userID, Mode: token04.ModeGCM,
		Channel: store.ChannelUI, Actor: store.Actor{Type: store.ActorOperator, ID: "1", Name: "issuer"}, Now: now})
	if err != nil {
		t.Fatalf("issue a token for %s: %v", userID, err)
	}
	return it
}
