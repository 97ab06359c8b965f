package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/testclock"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// Helpers of the second-factor, step-up and account tests.

// totpStart is a time at the start of a 30-second TOTP step, so that tests
// know which step the clock is in.
var totpStart = time.Unix(1_900_000_020, 0)

// totpAt is the code an authenticator app with secret shows at t.
func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// testidText returns the text of the element with data-testid id in page.
func testidText(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page lacks data-testid=%q:\n%.3000s", id, page)
	}
	return html.UnescapeString(strings.TrimSpace(m[1]))
}

// recoveryCodePattern finds recovery codes on a page.
var recoveryCodePattern = regexp.MustCompile(`\b[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}\b`)

// enrolTOTP sets up an authenticator app for the signed-in browser c with
// the code of clock's time, and returns its secret and the recovery codes
// shown once.
func enrolTOTP(t *testing.T, e *webtest.Env, c *http.Client, clock *testclock.Clock) (string, []string) {
	t.Helper()
	status, page := e.Get(t, c, "/account/totp")
	expectStatus(t, "set-up page", status, http.StatusOK, page)
	secret := testidText(t, page, "totp-secret")
	res, body := e.Post(t, c, "/account/totp", url.Values{"code": {totpAt(t, secret, clock.Now())}})
	expectStatus(t, "confirm the set-up", res.StatusCode, http.StatusOK, body)
	codes := recoveryCodePattern.FindAllString(body, -1)
	if len(codes) != 10 {
		t.Fatalf("recovery codes after the set-up: got %d, want 10:\n%.2000s", len(codes), body)
	}
	return secret, codes
}

// totpFixture is a console whose sign-in clock the test moves, with one
// person signed in (browser c) who set up an authenticator app.
type totpFixture struct {
	*webtest.Env
	clock  *testclock.Clock
	c      *http.Client
	secret string
	codes  []string // the recovery codes shown once
}

// newTOTPFixture signs username in with role and sets up their app.
func newTOTPFixture(t *testing.T, username, role string, mods ...func(*web.Config)) totpFixture {
	t.Helper()
	f := totpFixture{clock: testclock.New(totpStart)}
	f.Env = webtest.NewEnvWith(t, []store.Option{store.WithLoginClock(f.clock.Now)}, mods...)
	f.c = f.SignIn(t, username, role)
	f.secret, f.codes = enrolTOTP(t, f.Env, f.c, f.clock)
	return f
}

// code is the code the person's app shows at the fixture's time plus d.
func (f totpFixture) code(t *testing.T, d time.Duration) string {
	t.Helper()
	return totpAt(t, f.secret, f.clock.Now().Add(d))
}

// passwordAt signs username in with TestPassword in a fresh browser that
// sends header, and expects to be sent to want.
func passwordAt(t *testing.T, e *webtest.Env, username string, header http.Header, want string) *http.Client {
	t.Helper()
	c := e.Browser(t)
	res, body := e.SendForm(t, c, "/login", url.Values{"username": {username}, "password": {webtest.TestPassword}}, header)
	expectRedirect(t, "password of "+username, res, body, want)
	return c
}

// passwordStep signs username in with the password in a fresh browser and
// expects to be sent to the second-factor page.
func passwordStep(t *testing.T, e *webtest.Env, username string, header http.Header) *http.Client {
	t.Helper()
	return passwordAt(t, e, username, header, "/login/second-factor")
}

// secondStep posts a code to the second-factor page.
func secondStep(t *testing.T, e *webtest.Env, c *http.Client, code string, header http.Header) (*http.Response, string) {
	t.Helper()
	return e.SendForm(t, c, "/login/second-factor", url.Values{"code": {code}}, header)
}

// staleSessions makes every session look as if its person last proved who
// they are an hour ago.
func staleSessions(t *testing.T, e *webtest.Env) {
	t.Helper()
	if _, err := e.Store.Pool().Exec(t.Context(), `UPDATE web_sessions SET verified_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
}

// eventsWith counts audit events with action and outcome whose details hold
// key = value.
func eventsWith(t *testing.T, e *webtest.Env, action, outcome, key, value string) int {
	t.Helper()
	return e.Count(t, `SELECT count(*) FROM audit_events WHERE action = $1 AND outcome = $2 AND details->>$3 = $4`,
		action, outcome, key, value)
}
