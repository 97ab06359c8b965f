package ui_test

import (
	"strings"
	"testing"
	"time"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/testclock"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// followExpecting clicks sel like follow, but wants the page it leads to to
// answer status (a refusal page, say) before waiting for waitFor.
func (b *tab) followExpecting(t *testing.T, what string, sel chromedp.CSS, status int64, waitFor chromedp.CSS) {
	t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("%s: %s: %v", b.who, what, err)
	}
	if res.Status != status {
		body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s: %s: got HTTP %d, want %d; the page says:\n%s", b.who, what, res.Status, status, body)
	}
	b.do(t, what, chromedp.WaitVisible(waitFor))
}

func TestBrowserMFA_FirstAdminChangesTheOneTimePasswordEnrolsAndStepsUp(t *testing.T) {
	t.Parallel()
	clock := testclock.New(totpStart)
	e := webtest.NewEnvWith(t, []store.Option{store.WithLoginClock(clock.Now)}, func(c *web.Config) { c.MFA = web.MFAAdmins })
	const oneTime = "printed-once-3Xk9vQ2m"
	const ownPassword = "the admin's own long passphrase"
	if _, err := e.Store.EnsureAdmin(t.Context(), "admin", oneTime, true); err != nil {
		t.Fatal(err)
	}
	e.CreateProject(t, 2468013579)
	h := newHeadless(t, true)
	admin := h.newTab(t, "admin", e.URL)

	// The one-time password gets the admin to the password page and nowhere else.
	admin.signIn(t, "admin", oneTime, "")
	admin.do(t, "wait for the forced change", chromedp.WaitVisible(tid("password-forced")))
	admin.capture(t, "mfa-01-one-time-password")
	admin.open(t, "/projects", "password-forced")
	admin.do(t, "fill the password form",
		chromedp.SendKeys(tid("password-current"), oneTime),
		chromedp.SendKeys(tid("password-new"), ownPassword),
		chromedp.SendKeys(tid("password-confirm"), ownPassword),
	)
	// CONSOLE_MFA=admins: next, the second factor, and nothing else.
	admin.follow(t, "change the password", tid("password-submit"), tid("totp-qr"))
	if loc := run(t, admin, "read the location", chromedp.Location()); !strings.HasSuffix(loc, "/account/totp") {
		t.Fatalf("after the password change: at %s, want the enrolment page", loc)
	}
	admin.capture(t, "mfa-02-totp-enrolment")
	afterEnrolment := len(h.pages) // from here on no page may show the TOTP secret
	if w := run(t, admin, "read the QR code's width", chromedp.JavascriptAttribute[float64](tid("totp-qr"), "naturalWidth")); w < 100 {
		t.Fatalf("the QR code did not load (natural width %v)", w)
	}
	secret := strings.TrimSpace(run(t, admin, "read the secret", chromedp.Text(tid("totp-secret"))))
	admin.do(t, "type the code", chromedp.SendKeys(tid("totp-code"), totpAt(t, secret, clock.Now())))
	admin.follow(t, "turn TOTP on", tid("totp-confirm"), tid("recovery-list"))
	codes := recoveryCodePattern.FindAllString(run(t, admin, "read the codes", chromedp.Text(tid("recovery-list"))), -1)
	if len(codes) != 10 {
		t.Fatalf("recovery codes shown: got %d, want 10", len(codes))
	}
	admin.capture(t, "mfa-03-recovery-codes")
	admin.follow(t, "stored them", tid("recovery-done"), tid("account-factors"))
	admin.capture(t, "mfa-04-my-account")

	// A dangerous action with an old check asks for the second factor again.
	staleSessions(t, e)
	admin.open(t, "/projects/2468013579", "rotate")
	confirms := admin.acceptDialogs()
	admin.do(t, "type a new secret", chromedp.SendKeys(tid("rotate-secret"), strings.Repeat("n", 32)))
	admin.followExpecting(t, "rotate with an old check", tid("rotate-submit"), 403, tid("stepup-code"))
	<-confirms
	admin.capture(t, "mfa-05-step-up")
	if n := e.Count(t, `SELECT count(*) FROM project_secrets`); n != 1 {
		t.Fatalf("the secret was rotated without a step-up (%d versions)", n)
	}
	clock.Advance(30 * time.Second)
	admin.do(t, "type the code", chromedp.SendKeys(tid("stepup-code"), totpAt(t, secret, clock.Now())))
	admin.follow(t, "confirm", tid("stepup-submit"), tid("rotate"))
	if got := run(t, admin, "read the notice", chromedp.Text(tid("notice"))); !strings.Contains(got, "Confirmed") {
		t.Errorf("after the step-up: notice %q, want it to say it is confirmed", got)
	}
	admin.do(t, "type the new secret again", chromedp.SendKeys(tid("rotate-secret"), strings.Repeat("n", 32)))
	admin.follow(t, "rotate after the step-up", tid("rotate-submit"), tid("secret-version-2"))
	<-confirms
	h.requireNoSecretSeen(t, secret, afterEnrolment)
}

func TestBrowser_TheLastAdminCanNeitherDemoteNorDisableThemselves(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "ada", store.RoleAdmin)
	e.CreateOperator(t, "otto", store.RoleOperator)
	h := newHeadless(t, true)
	admin := h.newTab(t, "admin", e.URL)
	admin.signIn(t, "ada", webtest.TestPassword, "")
	admin.open(t, "/operators", "operator-row-ada")
	admin.do(t, "choose operator", chromedp.SetValue(tid("operator-role-ada"), store.RoleOperator))
	admin.followExpecting(t, "demote herself", tid("operator-role-submit-ada"), 422, tid("operator-alert"))
	if got := run(t, admin, "read the alert", chromedp.Text(tid("operator-alert"))); !strings.Contains(got, "last enabled admin cannot be demoted") {
		t.Errorf("demoting the last admin: alert %q, want it to say why", got)
	}
	admin.capture(t, "mfa-06-last-admin")
	confirms := admin.acceptDialogs()
	admin.followExpecting(t, "disable herself", tid("operator-disable-ada"), 422, tid("operator-alert"))
	<-confirms
	if got := run(t, admin, "read the alert", chromedp.Text(tid("operator-alert"))); !strings.Contains(got, "last enabled admin cannot be disabled") {
		t.Errorf("disabling the last admin: alert %q, want it to say why", got)
	}
	if n := e.Count(t, `SELECT count(*) FROM operators WHERE username = 'ada' AND role = 'admin' AND NOT disabled`); n != 1 {
		t.Fatal("the last admin lost her role or was disabled")
	}
	if n := e.Count(t, `SELECT count(*) FROM web_sessions`); n != 1 {
		t.Errorf("sessions after the refusals: got %d, want ada's 1", n)
	}
}

// addVirtualAuthenticator gives the tab Chromium's virtual authenticator: a
// platform passkey provider with a PIN or biometric that always succeeds.
func (b *tab) addVirtualAuthenticator(t *testing.T) {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
		t.Fatalf("%s: enable WebAuthn: %v", b.who, err)
	}
	_, err := chromedp.Call(b.ctx, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
		Options: &cdpwebauthn.VirtualAuthenticatorOptions{Protocol: cdpwebauthn.AuthenticatorProtocolCtap2,
			Ctap2version: cdpwebauthn.Ctap2versionCtap21, Transport: cdpwebauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("%s: add a virtual authenticator: %v", b.who, err)
	}
}

// signOut signs the tab out and waits for the sign-in page.
func (b *tab) signOut(t *testing.T) {
	t.Helper()
	b.follow(t, "sign out", tid("logout"), tid("login"))
}

func TestBrowserPasskey_RegisterThenSignInWithItAsSecondFactorAndAlone(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, webtest.PasskeysOnLocalhost)
	e.CreateOperator(t, "tina", store.RoleOperator)
	h := newHeadless(t, true)
	b := h.newTab(t, "tina", e.PublicURL) // http://localhost:…: a secure context, a domain for the relying party
	b.addVirtualAuthenticator(t)

	b.signIn(t, "tina", webtest.TestPassword, "")
	b.open(t, "/account", "passkey-register")
	b.do(t, "name and add a passkey",
		chromedp.SendKeys(tid("passkey-new-name"), "Laptop key"),
		chromedp.Click(tid("passkey-register")),
		chromedp.WaitVisible(tid("recovery-list")),
	)
	b.capture(t, "mfa-07-passkey-added")
	b.follow(t, "stored the codes", tid("recovery-done"), tid("passkeys"))
	if got := run(t, b, "read the passkey's name", chromedp.Value(tid("passkey-name"))); got != "Laptop key" {
		t.Errorf("passkey listed as %q, want Laptop key", got)
	}
	b.capture(t, "mfa-08-my-account-passkey")
	if n := e.Count(t, `SELECT count(*) FROM operator_passkeys WHERE name = 'Laptop key' AND user_verified`); n != 1 {
		t.Fatalf("the passkey was not stored as user-verified")
	}

	// Password, then the passkey as second factor.
	b.signOut(t)
	b.do(t, "fill the login form",
		chromedp.SendKeys(tid("login-username"), "tina"),
		chromedp.SendKeys(tid("login-password"), webtest.TestPassword),
	)
	b.follow(t, "the password", tid("login-submit"), tid("passkey-second_factor"))
	b.capture(t, "mfa-09-second-factor")
	b.do(t, "use the passkey", chromedp.Click(tid("passkey-second_factor")), chromedp.WaitVisible(tid("who")))
	if n := eventsWith(t, e, "auth.second_factor", store.OutcomeSuccess, "method", "passkey"); n != 1 {
		t.Errorf("auth.second_factor events by passkey: got %d, want 1", n)
	}

	// The passkey alone (it checked the PIN or biometric).
	b.signOut(t)
	b.do(t, "sign in with the passkey alone", chromedp.Click(tid("passkey-sign_in")), chromedp.WaitVisible(tid("who")))
	if got := run(t, b, "read who is signed in", chromedp.Text(tid("who"))); got != "tina" {
		t.Fatalf("signed in with a passkey as %q, want tina", got)
	}
	if n := eventsWith(t, e, "auth.login", store.OutcomeSuccess, "method", "passkey"); n != 1 {
		t.Errorf("auth.login events by passkey: got %d, want 1", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM operator_passkeys WHERE sign_count >= 2`); n != 1 {
		t.Errorf("the passkey's signature counter was not kept")
	}
}
