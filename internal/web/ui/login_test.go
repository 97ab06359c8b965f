package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/testclock"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestLogin_PageHasTheFormAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	res, body := e.Fetch(t, e.Browser(t), "/login?next=%2Fprojects", nil)
	expectStatus(t, "GET /login", res.StatusCode, http.StatusOK, body)
	expectIn(t, "login page", body, `data-testid="login-username"`, `data-testid="login-password"`,
		`data-testid="login-submit"`, `name="next" value="/projects"`)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy: got %q, want frame-ancestors 'none'", csp)
	}
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestLogin_SucceedsAndGoesToALocalNextOnly(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "alice", "operator")
	for next, want := range map[string]string{
		"":                      "/",
		"/projects?x=1":         "/projects?x=1",
		"//evil.example/":       "/",
		"https://evil.example/": "/",
		`/\evil.example`:        "/",
		"javascript:alert(1)":   "/",
	} {
		res, body := e.Post(t, e.Browser(t), "/login", url.Values{"username": {"alice"}, "password": {webtest.TestPassword}, "next": {next}})
		expectRedirect(t, "sign in with next "+next, res, body, want)
	}
	if n := e.Events(t, "auth.login", "success"); n != 6 {
		t.Errorf("auth.login events: got %d, want 6", n)
	}
}

func TestLogin_WrongPasswordIs401AndAudited(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "alice", "operator")
	res, body := e.Post(t, e.Browser(t), "/login", url.Values{"username": {"alice"}, "password": {"not the password"}})
	expectStatus(t, "wrong password", res.StatusCode, http.StatusUnauthorized, body)
	expectIn(t, "wrong password", body, "Wrong username or password", `value="alice"`)
	expectNotIn(t, "wrong password", body, "not the password")
	if sessionCookieIn(res) != nil {
		t.Error("a failed sign-in set a session cookie")
	}
	if n := e.Events(t, "auth.login_failed", "denied"); n != 1 {
		t.Errorf("auth.login_failed events: got %d, want 1", n)
	}
	res, body = e.Post(t, e.Browser(t), "/login", url.Values{"username": {"alice"}})
	expectStatus(t, "no password", res.StatusCode, http.StatusUnprocessableEntity, body)
}

func TestLogin_ThrottlesAfterFiveFailures(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "alice", "operator")
	for i := range 5 {
		res, body := e.Post(t, e.Browser(t), "/login", url.Values{"username": {"alice"}, "password": {"wrong password " + string(rune('a'+i))}})
		expectStatus(t, "failed sign-in", res.StatusCode, http.StatusUnauthorized, body)
	}
	res, body := e.Post(t, e.Browser(t), "/login", url.Values{"username": {"alice"}, "password": {webtest.TestPassword}})
	expectStatus(t, "sixth sign-in, right password", res.StatusCode, http.StatusTooManyRequests, body)
	expectIn(t, "throttled", body, "Too many failed attempts; try again in 15 minutes")
	if sessionCookieIn(res) != nil {
		t.Error("a throttled sign-in set a session cookie")
	}
	if n := e.Events(t, "auth.login_failed", "denied"); n != 6 {
		t.Errorf("auth.login_failed events: got %d, want 6 (5 wrong passwords, 1 throttled)", n)
	}
}

func TestLogin_SessionCookieIsHttpOnlyLaxAndSecureBehindHTTPS(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) { c.TrustProxy = true })
	e.CreateOperator(t, "alice", "operator")
	form := url.Values{"username": {"alice"}, "password": {webtest.TestPassword}}
	for _, proto := range []string{"", "https"} {
		h := http.Header{}
		if proto != "" {
			h.Set("X-Forwarded-Proto", proto)
		}
		res, body := e.SendForm(t, e.Browser(t), "/login", form, h)
		expectStatus(t, "sign in", res.StatusCode, http.StatusSeeOther, body)
		c := sessionCookieIn(res)
		if c == nil {
			t.Fatal("no session cookie")
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("cookie: got HttpOnly=%v SameSite=%v Path=%q, want HttpOnly, Lax, /", c.HttpOnly, c.SameSite, c.Path)
		}
		if c.Secure != (proto == "https") {
			t.Errorf("X-Forwarded-Proto %q: got Secure=%v", proto, c.Secure)
		}
	}
}

func TestLogin_SessionIDChangesAtEverySignIn(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "alice", "operator")
	c := e.Browser(t)
	form := url.Values{"username": {"alice"}, "password": {webtest.TestPassword}}
	res1, _ := e.Post(t, c, "/login", form)
	res2, _ := e.Post(t, c, "/login", form)
	first, second := sessionCookieIn(res1), sessionCookieIn(res2)
	if first == nil || second == nil || first.Value == second.Value {
		t.Fatalf("session cookies: got %v and %v, want two different ones", first, second)
	}
	if status, _ := e.Get(t, e.WithCookie(t, second), "/"); status != http.StatusOK {
		t.Errorf("new session: got status %d, want 200", status)
	}
	res, body := e.Fetch(t, e.WithCookie(t, first), "/", nil)
	expectRedirect(t, "the session before the second sign-in", res, body, "/login?next=%2F")
	if n := e.Count(t, `SELECT count(*) FROM web_sessions`); n != 1 {
		t.Errorf("server-side sessions: got %d, want 1", n)
	}
}

func TestLogout_EndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "alice", "operator")
	c := e.Browser(t)
	res, _ := e.Post(t, c, "/login", url.Values{"username": {"alice"}, "password": {webtest.TestPassword}})
	old := sessionCookieIn(res)
	res, body := e.Post(t, c, "/logout", nil)
	expectRedirect(t, "sign out", res, body, "/login")
	if c := sessionCookieIn(res); c == nil || c.MaxAge >= 0 {
		t.Errorf("sign-out cookie: got %v, want one that expires now", c)
	}
	if n := e.Count(t, `SELECT count(*) FROM web_sessions`); n != 0 {
		t.Errorf("server-side sessions after sign-out: got %d, want 0", n)
	}
	res, body = e.Fetch(t, e.WithCookie(t, old), "/projects", nil)
	expectRedirect(t, "replayed cookie", res, body, "/login?next=%2Fprojects")
	if n := e.Events(t, "auth.logout", "success"); n != 1 {
		t.Errorf("auth.logout events: got %d, want 1", n)
	}
}

func TestLogin_IdleSessionEnds(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) { c.SessionIdle = time.Hour })
	c := e.SignIn(t, "alice", "operator")
	if status, _ := e.Get(t, c, "/"); status != http.StatusOK {
		t.Fatalf("fresh session: got %d, want 200", status)
	}
	if _, err := e.Store.Pool().Exec(t.Context(), `UPDATE web_sessions SET last_seen_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	res, body := e.Fetch(t, c, "/", nil)
	expectRedirect(t, "idle session", res, body, "/login?next=%2F")
}

func TestLogin_SignedInVisitorSkipsTheForm(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	c := e.SignIn(t, "alice", "auditor")
	res, body := e.Fetch(t, c, "/login?next=%2Ftokens", nil)
	expectRedirect(t, "GET /login when signed in", res, body, "/tokens")
}

func TestSignIn_RealAdminGetsInWhileAnAttackerKeepsGuessing(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Now())
	e := webtest.NewEnvWith(t, []store.Option{store.WithLoginClock(clock.Now)}, func(c *web.Config) { c.TrustProxy = true })
	e.CreateOperator(t, "admin", store.RoleAdmin)
	attacker := webtest.FromAddress("203.0.113.66")
	guess := func(i int) (*http.Response, string) {
		t.Helper()
		return e.SendForm(t, e.Browser(t), "/login", url.Values{"username": {"admin"}, "password": {fmt.Sprintf("guess number %d", i)}}, attacker)
	}
	for i := range 5 {
		res, body := guess(i)
		expectStatus(t, fmt.Sprintf("guess %d", i+1), res.StatusCode, http.StatusUnauthorized, body)
	}
	for i := 5; i < 30; i++ {
		res, body := guess(i)
		expectStatus(t, fmt.Sprintf("guess %d, past the limit", i+1), res.StatusCode, http.StatusTooManyRequests, body)
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("guess %d: got Retry-After %q, want whole seconds ≥ 1", i+1, res.Header.Get("Retry-After"))
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM login_failures WHERE username = 'admin'`); n != 5 {
		t.Errorf("recorded failures of admin: got %d, want 5 (throttled guesses are not failures)", n)
	}

	clock.Advance(time.Minute) // past the account's delay, well inside the attacker's window
	res, body := guess(99)
	expectStatus(t, "the attacker a minute later", res.StatusCode, http.StatusTooManyRequests, body)
	res, body = e.SendForm(t, e.Browser(t), "/login", url.Values{"username": {"admin"}, "password": {webtest.TestPassword}}, webtest.FromAddress("198.51.100.7"))
	expectRedirect(t, "the real admin from another address", res, body, "/")
	if sessionCookieIn(res) == nil {
		t.Error("the real admin got no session cookie")
	}
	res, body = guess(100)
	expectStatus(t, "the attacker after the admin signed in", res.StatusCode, http.StatusTooManyRequests, body)
}

func TestSignIn_APasswordTypedAsTheUsernameLeavesNoTrace(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "alice", store.RoleOperator)
	const typedAsUsername = "Tr0ub4dor-3-my-secret" // nothing HTML would escape: the page check is real
	res, body := e.Post(t, e.Browser(t), "/login", url.Values{"username": {typedAsUsername}, "password": {"whatever"}})
	expectStatus(t, "password as username", res.StatusCode, http.StatusUnauthorized, body)
	res, body = e.Post(t, e.Browser(t), "/login", url.Values{"username": {"alice"}, "password": {"not alice's password"}})
	expectStatus(t, "alice, wrong password", res.StatusCode, http.StatusUnauthorized, body)

	for _, table := range []string{"audit_events", "login_failures"} {
		if n := e.Count(t, `SELECT count(*) FROM `+table+` t WHERE strpos(row_to_json(t)::text, $1) > 0`, typedAsUsername); n != 0 {
			t.Errorf("%s: got %d rows holding the typed username, want none", table, n)
		}
	}
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	status, page := e.Get(t, c, "/audit?action=auth.login_failed")
	expectStatus(t, "audit page", status, http.StatusOK, page)
	expectIn(t, "audit page", page, "unknown account", "alice")
	expectNotIn(t, "audit page", page, typedAsUsername)
}

func TestSignIn_AFloodFromOneAddressIsRefusedAndAuditedInBulk(t *testing.T) {
	t.Parallel()
	const burst = 3
	e := webtest.NewEnv(t, func(c *web.Config) { c.TrustProxy = true; c.UnauthRate = 0.0001; c.UnauthBurst = burst })
	e.CreateOperator(t, "alice", store.RoleOperator)
	flooder := webtest.FromAddress("203.0.113.66")
	signIn := func(user, password string, from http.Header) (*http.Response, string) {
		t.Helper()
		return e.SendForm(t, e.Browser(t), "/login", url.Values{"username": {user}, "password": {password}}, from)
	}
	// Successful sign-ins never spend the address's budget of refusals.
	for range 2 * burst {
		res, body := signIn("alice", webtest.TestPassword, flooder)
		expectRedirect(t, "alice from the flooder's address", res, body, "/")
	}
	statuses := map[int]int{}
	for i := range 30 {
		res, body := signIn(fmt.Sprintf("guess%d", i), "some password", flooder)
		statuses[res.StatusCode]++
		if res.StatusCode == http.StatusTooManyRequests {
			expectIn(t, "flooded sign-in", body, "Too many failed attempts from your address; try again in")
			if res.Header.Get("Retry-After") == "" {
				t.Fatal("a refused sign-in without Retry-After")
			}
		}
	}
	if statuses[http.StatusUnauthorized] != burst || statuses[http.StatusTooManyRequests] != 30-burst {
		t.Errorf("30 failed sign-ins from one address: got statuses %v, want %d × 401 then %d × 429", statuses, burst, 30-burst)
	}
	res, body := signIn("alice", webtest.TestPassword, webtest.FromAddress("198.51.100.7"))
	expectRedirect(t, "alice from another address", res, body, "/")

	if err := e.Web.FlushRefusals(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	rows := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'auth.login_failed' AND client_ip = '203.0.113.66'`)
	refusals := e.Count(t, `SELECT coalesce(sum(coalesce((details->>'repeated')::int, 1)), 0) FROM audit_events
		WHERE action = 'auth.login_failed' AND client_ip = '203.0.113.66'`)
	if rows > burst+1 || refusals != 30 {
		t.Errorf("audit of the flood: got %d rows counting %d failed sign-ins, want at most %d rows counting 30", rows, refusals, burst+1)
	}
}
