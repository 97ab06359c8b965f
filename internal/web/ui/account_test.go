package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// signInFrom signs username in with TestPassword in a fresh browser that
// sends header (an address, a User-Agent).
func signInFrom(t *testing.T, e *webtest.Env, username string, header http.Header) *http.Client {
	t.Helper()
	return passwordAt(t, e, username, header, "/")
}

func TestAccount_ChangingThePasswordNeedsTheCurrentOneAndEndsTheOtherSessions(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	here := e.SignIn(t, "tina", store.RoleOperator)
	elsewhere := signInFrom(t, e, "tina", nil)
	const newPassword = "a brand new passphrase"
	change := func(current, next, confirm string) (*http.Response, string) {
		return e.Post(t, here, "/account/password", url.Values{"current_password": {current}, "new_password": {next}, "confirm_password": {confirm}})
	}

	res, body := change("not my password", newPassword, newPassword)
	expectStatus(t, "a wrong current password", res.StatusCode, http.StatusUnauthorized, body)
	expectIn(t, "a wrong current password", body, `data-testid="error-current_password"`)
	if n := e.Count(t, `SELECT count(*) FROM login_failures WHERE username = 'tina'`); n != 1 {
		t.Errorf("failures recorded for tina: got %d, want 1 (a wrong current password counts like a sign-in's)", n)
	}
	if n := eventsWith(t, e, "account.password_change", store.OutcomeDenied, "reason", "bad_password"); n != 1 {
		t.Errorf("denied account.password_change events: got %d, want 1", n)
	}
	res, body = change(webtest.TestPassword, newPassword, "something else")
	expectStatus(t, "a confirmation that differs", res.StatusCode, http.StatusUnprocessableEntity, body)
	res, body = change(webtest.TestPassword, "short", "short")
	expectStatus(t, "a new password too short", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "a new password too short", body, `data-testid="error-new_password"`)
	res, body = change(webtest.TestPassword, webtest.TestPassword, webtest.TestPassword)
	expectStatus(t, "the same password again", res.StatusCode, http.StatusUnprocessableEntity, body)

	res, body = change(webtest.TestPassword, newPassword, newPassword)
	expectRedirect(t, "the change", res, body, "/account?notice=password-changed")
	if status, page := e.Get(t, here, "/account"); status != http.StatusOK {
		t.Errorf("this session after the change: got %d, want 200\n%.500s", status, page)
	}
	res, body = e.Fetch(t, elsewhere, "/tokens", nil)
	expectRedirect(t, "the other session after the change", res, body, "/login?next=%2Ftokens")
	if n := eventsWith(t, e, "account.password_change", store.OutcomeSuccess, "sessions_ended", "1"); n != 1 {
		t.Errorf("account.password_change events that ended 1 session: got %d, want 1", n)
	}
	res, body = e.Post(t, e.Browser(t), "/login", url.Values{"username": {"tina"}, "password": {webtest.TestPassword}})
	expectStatus(t, "the old password", res.StatusCode, http.StatusUnauthorized, body)
	res, body = e.Post(t, e.Browser(t), "/login", url.Values{"username": {"tina"}, "password": {newPassword}})
	expectRedirect(t, "the new password", res, body, "/")
	if strings.Contains(e.Logs.String(), newPassword) {
		t.Error("the new password is in the logs")
	}
}

func TestAccount_ListsOwnSessionsWithDeviceAndAddressAndEndsThem(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) { c.TrustProxy = true })
	e.CreateOperator(t, "tina", store.RoleOperator)
	laptop := signInFrom(t, e, "tina", http.Header{"X-Forwarded-For": {"198.51.100.7"},
		"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"}})
	phone := signInFrom(t, e, "tina", http.Header{"X-Forwarded-For": {"203.0.113.9"},
		"User-Agent": {"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"}})
	other := e.SignIn(t, "otto", store.RoleOperator)

	status, page := e.Get(t, laptop, "/account")
	expectStatus(t, "account page", status, http.StatusOK, page)
	expectIn(t, "account page", page, "Chrome on Linux", "198.51.100.7", "Safari on iPhone", "203.0.113.9", `data-testid="session-current"`)
	if n := strings.Count(page, `data-testid="session-end"`); n != 1 {
		t.Errorf("End buttons: got %d, want 1 (the phone's; not this session's, not otto's)", n)
	}
	var phoneKey string
	if err := e.Store.Pool().QueryRow(t.Context(), `SELECT encode(id_hash, 'hex') FROM web_sessions WHERE client_ip = '203.0.113.9'`).Scan(&phoneKey); err != nil {
		t.Fatal(err)
	}
	res, body := e.Post(t, other, "/account/sessions/"+phoneKey+"/end", nil)
	expectStatus(t, "otto ends tina's session", res.StatusCode, http.StatusNotFound, body)
	if status, _ := e.Get(t, phone, "/tokens"); status != http.StatusOK {
		t.Fatalf("tina's phone after otto's attempt: got %d, want 200", status)
	}
	res, body = e.Post(t, laptop, "/account/sessions/"+phoneKey+"/end", nil)
	expectRedirect(t, "tina ends her phone's session", res, body, "/account?notice=session-ended")
	res, body = e.Fetch(t, phone, "/tokens", nil)
	expectRedirect(t, "the phone afterwards", res, body, "/login?next=%2Ftokens")
	if n := e.Events(t, "account.session_end", store.OutcomeSuccess); n != 1 {
		t.Errorf("account.session_end events: got %d, want 1", n)
	}

	phone = signInFrom(t, e, "tina", nil)
	res, body = e.Post(t, laptop, "/account/sessions/end-others", nil)
	expectRedirect(t, "end all other sessions", res, body, "/account?notice=sessions-ended")
	res, body = e.Fetch(t, phone, "/tokens", nil)
	expectRedirect(t, "the phone after end-others", res, body, "/login?next=%2Ftokens")
	if status, _ := e.Get(t, other, "/tokens"); status != http.StatusOK {
		t.Errorf("otto after tina ended her other sessions: got %d, want 200", status)
	}
}

func TestFirstAdmin_TheOneTimePasswordMustBeChangedBeforeAnythingElse(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	const oneTime = "one-time-password-printed-once"
	if created, err := e.Store.EnsureAdmin(t.Context(), "admin", oneTime, true); err != nil || !created {
		t.Fatalf("EnsureAdmin: created %v, err %v", created, err)
	}
	c := e.Browser(t)
	res, body := e.Post(t, c, "/login", url.Values{"username": {"admin"}, "password": {oneTime}})
	expectRedirect(t, "first sign-in", res, body, "/")
	for _, path := range []string{"/", "/projects", "/account"} {
		res, body := e.Fetch(t, c, path, nil)
		expectRedirect(t, "before the change, GET "+path, res, body, "/account/password")
	}
	status, page := e.Get(t, c, "/account/password")
	expectStatus(t, "password page", status, http.StatusOK, page)
	expectIn(t, "password page", page, `data-testid="password-forced"`)
	res, body = e.Post(t, c, "/account/password", url.Values{"current_password": {oneTime},
		"new_password": {"the admin's own passphrase"}, "confirm_password": {"the admin's own passphrase"}})
	expectRedirect(t, "the change", res, body, "/account?notice=password-changed")
	if status, page := e.Get(t, c, "/projects"); status != http.StatusOK {
		t.Fatalf("after the change: GET /projects got %d, want 200\n%.500s", status, page)
	}
	if n := eventsWith(t, e, "account.password_change", store.OutcomeSuccess, "one_time", "true"); n != 1 {
		t.Errorf("account.password_change events of a one-time password: got %d, want 1", n)
	}
}
