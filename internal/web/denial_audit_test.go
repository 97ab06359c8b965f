package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zegocloud-console/console/internal/web/webtest"
)

// Every refused request leaves its event, whatever bytes the client chose
// to send in the headers and the path.
func TestDenials_AreAuditedWhateverTheClientSends(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	longUA := strings.Repeat("a", 255) + "é" + "tail" // the é straddles byte 256
	for _, tt := range []struct {
		name, method, path, ua string
		form                   url.Values
		wantStatus             int
		action                 string
	}{
		{"invalid UTF-8 user agent, API", http.MethodGet, "/api/v1/projects", "\xff", nil, http.StatusUnauthorized, "authz.denied"},
		{"invalid UTF-8 in the path", http.MethodGet, "/api/v1/projects/%ff/tokens/x", "curl", nil, http.StatusUnauthorized, "authz.denied"},
		{"NUL in the path", http.MethodGet, "/api/v1/projects/%00/tokens/x", "curl", nil, http.StatusUnauthorized, "authz.denied"},
		{"257-byte user agent cut inside a character", http.MethodGet, "/api/v1/projects", longUA, nil, http.StatusUnauthorized, "authz.denied"},
		{"invalid UTF-8 user agent, sign-in", http.MethodPost, "/login", "\xff",
			url.Values{"username": {"nobody"}, "password": {"wrong password"}}, http.StatusUnauthorized, "auth.login_failed"},
		{"invalid UTF-8 username, sign-in", http.MethodPost, "/login", "curl",
			url.Values{"username": {"nob\xffdy\x00"}, "password": {"wrong password"}}, http.StatusUnauthorized, "auth.login_failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = $1`, tt.action)
			var body *strings.Reader
			if tt.form != nil {
				body = strings.NewReader(tt.form.Encode())
			} else {
				body = strings.NewReader("")
			}
			req, err := http.NewRequest(tt.method, e.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("User-Agent", tt.ua)
			if tt.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = $1`, tt.action); got != before+1 {
				t.Fatalf("%s events: got %d, want %d", tt.action, got, before+1)
			}
			var ua string
			if err := e.Store.Pool().QueryRow(t.Context(), `SELECT user_agent FROM audit_events WHERE action = $1 ORDER BY id DESC LIMIT 1`, tt.action).Scan(&ua); err != nil {
				t.Fatal(err)
			}
			if !utf8.ValidString(ua) || len(ua) > 256 || strings.ContainsRune(ua, 0) {
				t.Fatalf("stored user agent %q: want valid UTF-8 without NUL, at most 256 bytes", ua)
			}
		})
	}
}

// A denial that cannot be written to the audit trail is not answered as if
// it had been: the request fails closed with a 503.
func TestDenials_FailClosedWhenTheAuditTrailRefusesTheEvent(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.ExecAsOwner(t, `
		CREATE FUNCTION refuse_denials() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action IN ('authz.denied', 'auth.login_failed') THEN RAISE EXCEPTION 'audit refused'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_denials BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_denials();`)
	res, err := http.Get(e.URL + "/api/v1/projects")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("API call without a key while denials cannot be audited: got %d, want 503", res.StatusCode)
	}
	res, err = http.PostForm(e.URL+"/login", url.Values{"username": {"nobody"}, "password": {"wrong password"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("failed sign-in while denials cannot be audited: got %d, want 503", res.StatusCode)
	}
}
