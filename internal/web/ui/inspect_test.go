package ui_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// generate makes a token with webtest.TestSecret for app 1001 as of now.
func generate(t *testing.T, now time.Time, seconds int64) string {
	t.Helper()
	tok, _, err := token04.Generate(token04.Params{AppID: 1001, UserID: "ivan", Secret: []byte(webtest.TestSecret),
		EffectiveSeconds: seconds, Mode: token04.ModeGCM, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// flipChar changes one base64 character in the middle of the token.
func flipChar(tok string) string {
	i := len(tok) / 2
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// truncate cuts the token's bytes short but keeps it valid base64.
func truncate(t *testing.T, tok string) string {
	raw, err := base64.StdEncoding.DecodeString(tok[2:])
	if err != nil {
		t.Fatal(err)
	}
	return "04" + base64.StdEncoding.EncodeToString(raw[:len(raw)-7])
}

func TestInspector_ExplainsEachOutcomeWithTheZEGOCode(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	issued := e.IssueFor(t, 1001, "ivan", func(r *store.IssueRequest) { r.RoomID = "hall" })
	revoked := e.IssueFor(t, 1001, "ivan")
	if _, err := e.Store.RevokeToken(t.Context(), 1001, revoked.Record.ID, "test", webtest.OperatorActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	wrongSecret := strings.Repeat("f", 32)
	c := e.SignIn(t, "audrey", store.RoleAuditor)

	tests := []struct {
		name   string
		token  string
		form   url.Values
		active bool
		want   []string
	}{
		{"valid", issued.Token, url.Values{"project": {"1001"}}, true,
			[]string{"Active.", "valid for 59 more minutes", "gcm", "hall", "login", "yes, by alice"}},
		{"valid with an ad hoc secret", generate(t, now, 600), url.Values{"project": {"adhoc"}, "secret": {webtest.TestSecret}, "expect_app_id": {"1001"}}, true,
			[]string{"Active.", "with the secret you typed", "no record of this token"}},
		{"expired", generate(t, now.Add(-2*time.Hour), 3600), url.Values{"project": {"1001"}}, false,
			[]string{"1002078", "RoomTokenExpireError", "expired 1 h", "renewToken"}},
		{"wrong AppID", generate(t, now, 600), url.Values{"project": {"adhoc"}, "secret": {webtest.TestSecret}, "expect_app_id": {"1002"}}, false,
			[]string{"1002076", "RoomTokenAppidError", "app_id_mismatch"}},
		{"wrong secret", generate(t, now, 600), url.Values{"project": {"adhoc"}, "secret": {wrongSecret}}, false,
			[]string{"1002033", "RoomErrorAuthenticationFailed", "does not verify with the secret you typed"}},
		{"tampered", flipChar(issued.Token), url.Values{"project": {"1001"}}, false,
			[]string{"1002033", "No ServerSecret known"}},
		{"truncated", truncate(t, issued.Token), url.Values{"project": {"1001"}}, false,
			[]string{"1002033", "truncated"}},
		{"not version 04", "03" + issued.Token[2:], url.Values{"project": {"1001"}}, false,
			[]string{"1002079", "RoomTokenVersionError"}},
		{"claims not JSON", sealGCMToken(t, webtest.TestSecret, now.Add(time.Hour).Unix(), []byte("not json")), url.Values{"project": {"1001"}}, false,
			[]string{"1002075", "RoomTokenFormatError"}},
		{"not yet valid", generate(t, now.Add(time.Hour), 7200), url.Values{"project": {"1001"}}, false,
			[]string{"not_yet_valid", "No ZEGO error code", "clock"}},
		{"revoked", revoked.Token, url.Values{"project": {""}}, false,
			[]string{"revoked", "No ZEGO error code", "will still log in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("token", tt.token)
			res, body := e.Post(t, c, "/inspect", tt.form)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("POST /inspect: got %d, want 200:\n%s", res.StatusCode, body)
			}
			wantActive := `data-active="false"`
			if tt.active {
				wantActive = `data-active="true"`
			}
			requireInBody(t, body, append([]string{wantActive, token04.Fingerprint(tt.token)}, tt.want...)...)
			requireNotInBody(t, "the inspector page", body, tt.token, webtest.TestSecret, wrongSecret)
			if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.inspect' AND token_fingerprint = $1
				AND actor_name = 'audrey' AND position($2 in details::text) = 0`, fingerprintOf(tt.token), tt.token); n != 1 {
				t.Fatalf("token.inspect events with the fingerprint and without the token: got %d, want 1", n)
			}
		})
	}
	requireNotInBody(t, "the server log", e.Logs.String(), issued.Token, webtest.TestSecret, wrongSecret)
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE position($1 in details::text) > 0 OR position($2 in details::text) > 0`, issued.Token, webtest.TestSecret); n != 0 {
		t.Fatalf("audit events holding a token or the secret: got %d, want 0", n)
	}
}

func TestInspector_RefusesIncompleteForms(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	status, body := e.Get(t, c, "/inspect")
	if status != http.StatusOK {
		t.Fatalf("GET /inspect: got %d, want 200", status)
	}
	requireInBody(t, body, `data-testid="inspect-token"`, `data-testid="inspect-project"`, `data-testid="inspect-secret"`,
		`data-testid="inspect-expect-app-id"`, `data-testid="inspect-submit"`, "1002077")

	tok := generate(t, time.Now(), 600)
	for _, tt := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no token", url.Values{"project": {"1001"}}, "token"},
		{"short ad hoc secret", url.Values{"token": {tok}, "project": {"adhoc"}, "secret": {"short-secret"}}, "secret"},
		{"unknown project", url.Values{"token": {tok}, "project": {"4242"}}, "project"},
		{"expect another AppID than the project's", url.Values{"token": {tok}, "project": {"1001"}, "expect_app_id": {"1002"}}, "expect_app_id"},
		{"expect a bad AppID", url.Values{"token": {tok}, "expect_app_id": {"x"}}, "expect_app_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.Post(t, c, "/inspect", tt.form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422", res.StatusCode)
			}
			requireInBody(t, body, `data-testid="error-`+tt.field+`"`)
			requireNotInBody(t, "the refused form", body, tok, "short-secret")
		})
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.inspect'`); n != 0 {
		t.Fatalf("token.inspect events for refused forms: got %d, want 0", n)
	}
}

func TestInspector_AdHocSecretDoesNotLinkAForgedTokenToAGenuineRecord(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	genuine := e.IssueFor(t, 1001, "ivan")
	rec := genuine.Record
	// The genuine token's claims, sealed under a secret of the forger's choosing.
	forgerSecret := strings.Repeat("F", 32)
	claims := fmt.Sprintf(`{"app_id":%d,"user_id":%q,"ctime":%d,"expire":%d,"nonce":%d,"payload":""}`,
		rec.AppID, rec.UserID, rec.CTime.Unix(), rec.Expire.Unix(), rec.Nonce)
	forged := sealGCMToken(t, forgerSecret, rec.Expire.Unix(), []byte(claims))
	c := e.SignIn(t, "audrey", store.RoleAuditor)

	res, body := e.Post(t, c, "/inspect", url.Values{"token": {forged}, "project": {"adhoc"}, "secret": {forgerSecret}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /inspect: got %d, want 200:\n%s", res.StatusCode, body)
	}
	requireInBody(t, body, `data-active="true"`, "with the secret you typed", "no record of this token")
	requireNotInBody(t, "the inspector page", body, "yes, by", rec.ID)
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.inspect' AND token_fingerprint = $1
		AND target_id = '' AND details->>'issued_here' = 'false'`, fingerprintOf(forged)); n != 1 {
		t.Fatalf("token.inspect events saying the forged token was not issued here: got %d, want 1", n)
	}
}
