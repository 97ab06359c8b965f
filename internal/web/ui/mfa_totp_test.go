package ui_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/testclock"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestTOTP_EnrolShowsAQRCodeMadeHereAndNeedsOneValidCode(t *testing.T) {
	t.Parallel()
	clock := testclock.New(totpStart)
	e := webtest.NewEnvWith(t, []store.Option{store.WithLoginClock(clock.Now)})
	c := e.SignIn(t, "tina", store.RoleOperator)

	status, page := e.Get(t, c, "/account/totp")
	expectStatus(t, "set-up page", status, http.StatusOK, page)
	secret := testidText(t, page, "totp-secret")
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil || len(raw) != 20 {
		t.Fatalf("secret shown %q: want base32 of 20 bytes (err %v)", secret, err)
	}
	const prefix = `src="data:image/png;base64,`
	i := strings.Index(page, prefix)
	if i < 0 {
		t.Fatalf("set-up page has no QR code as a PNG data: URL:\n%.2000s", page)
	}
	b64 := page[i+len(prefix):]
	b64 = b64[:strings.IndexByte(b64, '"')]
	pngBytes, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("QR code: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("QR code: not a PNG of useful size (err %v)", err)
	}
	status, again := e.Get(t, c, "/account/totp")
	expectStatus(t, "set-up page again", status, http.StatusOK, again)
	if got := testidText(t, again, "totp-secret"); got != secret {
		t.Errorf("set-up page shown again: secret %q, want the same %q (the app may have scanned it)", got, secret)
	}

	res, body := e.Post(t, c, "/account/totp", url.Values{"code": {wrongCode(t, totpAt(t, secret, clock.Now()))}})
	expectStatus(t, "a wrong code", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "a wrong code", body, `data-testid="error-code"`)
	if n := eventsWith(t, e, "mfa.totp_enrol", store.OutcomeDenied, "reason", "bad_code"); n != 1 {
		t.Errorf("denied mfa.totp_enrol events: got %d, want 1", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM operator_totp WHERE confirmed_at IS NOT NULL`); n != 0 {
		t.Fatalf("a wrong code turned TOTP on (%d rows)", n)
	}

	_, codes := enrolTOTP(t, e, c, clock)
	if n := e.Events(t, "mfa.totp_enrol", store.OutcomeSuccess); n != 1 {
		t.Errorf("mfa.totp_enrol events: got %d, want 1", n)
	}
	if n := e.Events(t, "mfa.recovery_codes_generate", store.OutcomeSuccess); n != 1 {
		t.Errorf("mfa.recovery_codes_generate events: got %d, want 1", n)
	}
	raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	for _, leak := range [][]byte{[]byte(secret), raw} {
		if n := e.Count(t, `SELECT count(*) FROM operator_totp WHERE position($1::bytea IN ciphertext) > 0`, leak); n != 0 {
			t.Errorf("the TOTP secret is stored in plaintext")
		}
	}
	for _, code := range codes {
		if n := e.Count(t, `SELECT count(*) FROM operator_recovery_codes r WHERE strpos(encode(code_hash, 'escape'), $1) > 0`, code); n != 0 {
			t.Errorf("recovery code %s is stored as typed", code)
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events t WHERE strpos(row_to_json(t)::text, $1) > 0`, secret); n != 0 {
		t.Errorf("the TOTP secret is in %d audit events", n)
	}
	if strings.Contains(e.Logs.String(), secret) {
		t.Error("the TOTP secret is in the logs")
	}
	status, account := e.Get(t, c, "/account")
	expectStatus(t, "account page", status, http.StatusOK, account)
	expectIn(t, "account page", account, `data-testid="totp-on"`, "10 codes left")
	expectNotIn(t, "account page", account, secret, codes[0])
}

func TestTOTP_SignInReplaySkewAndRecoveryCodeOnce(t *testing.T) {
	t.Parallel()
	f := newTOTPFixture(t, "tina", store.RoleOperator)
	e, clock, c, secret, codes := f.Env, f.clock, f.c, f.secret, f.codes

	// The password alone reaches nothing but the second-factor page.
	pending := passwordStep(t, e, "tina", nil)
	for path, want := range map[string]string{"/": "/login/second-factor", "/projects": "/login/second-factor?next=%2Fprojects",
		"/account": "/login/second-factor?next=%2Faccount"} {
		res, body := e.Fetch(t, pending, path, nil)
		expectRedirect(t, "pending sign-in, GET "+path, res, body, want)
	}
	res, body := e.Post(t, pending, "/account/password", url.Values{"current_password": {webtest.TestPassword}})
	expectRedirect(t, "pending sign-in, POST", res, body, "/login/second-factor")
	status, page := e.Get(t, pending, "/login/second-factor")
	expectStatus(t, "second-factor page", status, http.StatusOK, page)
	expectIn(t, "second-factor page", page, `data-testid="second-factor-code"`)

	// The code that finished the set-up was used: it cannot sign in.
	res, body = secondStep(t, e, pending, totpAt(t, secret, clock.Now()), nil)
	expectStatus(t, "the set-up's code again", res.StatusCode, http.StatusUnauthorized, body)
	if n := eventsWith(t, e, "auth.login_failed", store.OutcomeDenied, "reason", "replayed_code"); n != 1 {
		t.Errorf("auth.login_failed (replayed_code) events: got %d, want 1", n)
	}

	clock.Advance(30 * time.Second)
	code := totpAt(t, secret, clock.Now())
	res, body = secondStep(t, e, pending, code, nil)
	expectRedirect(t, "the next step's code", res, body, "/")
	if status, page := e.Get(t, pending, "/projects"); status != http.StatusOK {
		t.Fatalf("signed in with TOTP: GET /projects got %d, want 200\n%.1000s", status, page)
	}
	if n := eventsWith(t, e, "auth.second_factor", store.OutcomeSuccess, "method", "totp"); n != 1 {
		t.Errorf("auth.second_factor events: got %d, want 1", n)
	}

	// The same code again, from another browser within its window: refused.
	again := passwordStep(t, e, "tina", nil)
	res, body = secondStep(t, e, again, code, nil)
	expectStatus(t, "a replayed code", res.StatusCode, http.StatusUnauthorized, body)

	// A clock one step behind or ahead is accepted; two steps is too far.
	clock.Advance(60 * time.Second)
	res, body = secondStep(t, e, again, totpAt(t, secret, clock.Now().Add(-30*time.Second)), nil)
	expectRedirect(t, "a code one step behind", res, body, "/")
	ahead := passwordStep(t, e, "tina", nil)
	res, body = secondStep(t, e, ahead, totpAt(t, secret, clock.Now().Add(30*time.Second)), nil)
	expectRedirect(t, "a code one step ahead", res, body, "/")
	tooFar := passwordStep(t, e, "tina", nil)
	res, body = secondStep(t, e, tooFar, totpAt(t, secret, clock.Now().Add(60*time.Second)), nil)
	expectStatus(t, "a code two steps ahead", res.StatusCode, http.StatusUnauthorized, body)

	// A recovery code works once, typed in any case and spacing.
	res, body = secondStep(t, e, tooFar, " "+strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))+" ", nil)
	expectRedirect(t, "a recovery code", res, body, "/")
	if n := eventsWith(t, e, "mfa.recovery_code_use", store.OutcomeSuccess, "left", "9"); n != 1 {
		t.Errorf("mfa.recovery_code_use events with 9 left: got %d, want 1", n)
	}
	twice := passwordStep(t, e, "tina", nil)
	res, body = secondStep(t, e, twice, codes[3], nil)
	expectStatus(t, "a recovery code used twice", res.StatusCode, http.StatusUnauthorized, body)
	status, account := e.Get(t, c, "/account")
	expectStatus(t, "account page", status, http.StatusOK, account)
	expectIn(t, "account page", account, "9 codes left")
}

func TestSecondFactor_WrongCodesCountTowardsSignInThrottling(t *testing.T) {
	t.Parallel()
	f := newTOTPFixture(t, "tina", store.RoleOperator, func(c *web.Config) { c.TrustProxy = true })
	e := f.Env
	f.clock.Advance(30 * time.Second)
	right := f.code(t, 0)
	wrong := wrongCode(t, right)

	guesser := webtest.FromAddress("203.0.113.66")
	b := passwordStep(t, e, "tina", guesser)
	for i := range 5 {
		res, body := secondStep(t, e, b, wrong, guesser)
		expectStatus(t, fmt.Sprintf("wrong code %d", i+1), res.StatusCode, http.StatusUnauthorized, body)
	}
	res, body := secondStep(t, e, b, right, guesser)
	expectStatus(t, "the right code after 5 wrong ones", res.StatusCode, http.StatusTooManyRequests, body)
	if res.Header.Get("Retry-After") == "" {
		t.Error("a throttled second factor without Retry-After")
	}
	if n := e.Count(t, `SELECT count(*) FROM login_failures WHERE username = 'tina'`); n != 5 {
		t.Errorf("recorded failures of tina: got %d, want 5", n)
	}
	if n := eventsWith(t, e, "auth.login_failed", store.OutcomeDenied, "reason", "bad_code"); n != 5 {
		t.Errorf("auth.login_failed (bad_code) events: got %d, want 5", n)
	}
	// Her password from that address is throttled too: same account, same address.
	res, body = e.SendForm(t, e.Browser(t), "/login", url.Values{"username": {"tina"}, "password": {webtest.TestPassword}}, guesser)
	expectStatus(t, "her password from the guessing address", res.StatusCode, http.StatusTooManyRequests, body)
}

// wrongCode is a six-digit code that is not right.
func wrongCode(t *testing.T, right string) string {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(right, &n); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%06d", (n+1)%1000000)
}

func TestSecondFactor_GivingThePasswordAgainDoesNotForgiveWrongCodes(t *testing.T) {
	t.Parallel()
	f := newTOTPFixture(t, "tina", store.RoleOperator, func(c *web.Config) { c.TrustProxy = true })
	e := f.Env
	f.clock.Advance(30 * time.Second)
	right := f.code(t, 0)

	guesser := webtest.FromAddress("203.0.113.66")
	b := passwordStep(t, e, "tina", guesser)
	for i := range 4 {
		res, body := secondStep(t, e, b, wrongCode(t, right), guesser)
		expectStatus(t, fmt.Sprintf("wrong code %d", i+1), res.StatusCode, http.StatusUnauthorized, body)
	}
	b = passwordStep(t, e, "tina", guesser) // the password is known: it must not buy fresh guesses
	res, body := secondStep(t, e, b, wrongCode(t, right), guesser)
	expectStatus(t, "wrong code 5", res.StatusCode, http.StatusUnauthorized, body)
	res, body = secondStep(t, e, b, right, guesser)
	expectStatus(t, "the right code after 5 wrong ones", res.StatusCode, http.StatusTooManyRequests, body)

	f.clock.Advance(16 * time.Minute) // past the window: the owner gets in, and her typos are forgiven
	b = passwordStep(t, e, "tina", guesser)
	res, body = secondStep(t, e, b, f.code(t, 0), guesser)
	expectRedirect(t, "the right code later", res, body, "/")
	if n := e.Count(t, `SELECT count(*) FROM login_failures WHERE username = 'tina' AND client_ip = '203.0.113.66'`); n != 0 {
		t.Errorf("failures of tina from her address after she signed in: got %d, want 0", n)
	}
}
