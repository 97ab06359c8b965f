package ui_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestIssuePage_IssuesTokenShownOnceThatDecodes(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	c := e.SignIn(t, "olivia", store.RoleOperator)

	status, form := e.Get(t, c, "/issue?app_id=1001")
	if status != http.StatusOK {
		t.Fatalf("GET /issue: got %d, want 200", status)
	}
	requireInBody(t, form, `data-testid="issue-project"`, `data-testid="issue-user"`, `data-testid="issue-ttl"`,
		`data-testid="issue-ttl-custom"`, `data-testid="issue-room"`, `data-testid="issue-login"`, `data-testid="issue-publish"`,
		`data-testid="issue-streams"`, `data-testid="issue-mode"`, `data-testid="issue-submit"`, "at most 64 bytes")

	res, body := e.Post(t, c, "/issue", issueFormValues("1001", "user-42"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /issue: got %d, want 200:\n%s", res.StatusCode, body)
	}
	token := issuedTokenIn(t, body)
	requireInBody(t, body, "This token will not be shown again", `data-copy="#issued-token"`, `data-testid="copy-token"`,
		"<time data-local", "zg.loginRoom(", token04.Fingerprint(token))

	dec, err := token04.Decode(token, []byte(webtest.TestSecret), token04.DecodeOptions{ExpectAppID: 1001})
	if err != nil {
		t.Fatalf("decode the issued token: %v", err)
	}
	if dec.Claims.UserID != "user-42" || dec.Mode != token04.ModeGCM || dec.Claims.Expire-dec.Claims.CTime != 3600 {
		t.Fatalf("claims: got user %q mode %v lifetime %d, want user-42 gcm 3600", dec.Claims.UserID, dec.Mode, dec.Claims.Expire-dec.Claims.CTime)
	}
	priv, err := token04.ParsePrivilege(dec.Claims.Payload)
	if err != nil {
		t.Fatalf("privilege payload: %v", err)
	}
	if priv.RoomID != "room-1" || !priv.Login || !priv.Publish || !slices.Equal(priv.StreamIDs, []string{"s1", "s2"}) {
		t.Fatalf("privileges: got %+v, want room-1 login publish [s1 s2]", priv)
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens WHERE fingerprint = $1 AND channel = 'ui' AND issued_by_name = 'olivia'`, fingerprintOf(token)); n != 1 {
		t.Fatalf("token records: got %d, want 1", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue' AND token_fingerprint = $1 AND actor_name = 'olivia'`, fingerprintOf(token)); n != 1 {
		t.Fatalf("token.issue events: got %d, want 1", n)
	}

	for _, path := range []string{"/tokens", "/audit", "/", "/tokens?user=user-42", "/audit?action=token.issue"} {
		_, page := e.Get(t, c, path)
		requireNotInBody(t, "GET "+path, page, token)
	}
	requireNotInBody(t, "the server log", e.Logs.String(), token, token[2:40])
}

func TestIssuePage_RejectsBadInputAndStoresNothing(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	e.CreateProjectWith(t, 1002, time.Hour, false)
	c := e.SignIn(t, "olivia", store.RoleOperator)

	tests := []struct {
		name      string
		edit      func(url.Values)
		wantField string
		wantText  string
	}{
		{"TTL above the policy", func(v url.Values) { v.Set("ttl_custom", "86401") }, "ttl_seconds", "must not exceed the project&#39;s maximum of 86400 seconds"},
		{"TTL not a number", func(v url.Values) { v.Set("ttl_custom", "soon") }, "ttl_seconds", "whole number of seconds"},
		{"TTL preset above a smaller policy", func(v url.Values) { v.Set("app_id", "1002"); v.Del("publish"); v.Set("ttl", "86400") }, "ttl_seconds", "maximum of 3600 seconds"},
		{"publish forbidden by the policy", func(v url.Values) { v.Set("app_id", "1002") }, "privileges", "does not allow the publish privilege"},
		{"user id missing", func(v url.Values) { v.Set("user_id", "  ") }, "user_id", "is required"},
		{"user id over 64 bytes", func(v url.Values) { v.Set("user_id", strings.Repeat("é", 33)) }, "user_id", "at most 64 bytes (got 66)"},
		{"unknown mode", func(v url.Values) { v.Set("mode", "ecb") }, "mode", "must be gcm or cbc"},
		{"no project", func(v url.Values) { v.Del("app_id") }, "app_id", "choose a project"},
		{"unknown project", func(v url.Values) { v.Set("app_id", "4242") }, "app_id", "no such project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := issueFormValues("1001", "kept-user")
			tt.edit(v)
			res, body := e.Post(t, c, "/issue", v)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422:\n%s", res.StatusCode, body)
			}
			requireInBody(t, body, `data-testid="error-`+tt.wantField+`"`, tt.wantText, "Nothing was issued")
			requireNotInBody(t, "the refused form", body, `data-testid="issued-token"`)
			if v.Get("user_id") == "kept-user" {
				requireInBody(t, body, `value="kept-user"`, "s1\r\ns2")
			}
		})
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Fatalf("token records after refused forms: got %d, want 0", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue'`); n != 0 {
		t.Fatalf("token.issue events after refused forms: got %d, want 0", n)
	}
}

func TestIssuePage_AuditorIsRefused(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	if status, _ := e.Get(t, c, "/issue"); status != http.StatusForbidden {
		t.Fatalf("GET /issue as auditor: got %d, want 403", status)
	}
	res, _ := e.Post(t, c, "/issue", issueFormValues("1001", "u"))
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("POST /issue as auditor: got %d, want 403", res.StatusCode)
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Fatalf("token records: got %d, want 0", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND actor_name = 'audrey'`); n != 2 {
		t.Fatalf("authz.denied events: got %d, want 2", n)
	}
}

func TestIssuePage_OffersOnlyWhatThePolicyAllows(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProjectWith(t, 1002, time.Hour, false)
	e.CreateProjectWith(t, 1003, 2*time.Hour, true)
	if err := e.Store.SetProjectDisabled(t.Context(), 1003, true, webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	c := e.SignIn(t, "olivia", store.RoleAdmin)
	_, body := e.Get(t, c, "/issue?app_id=1002")
	requireInBody(t, body, `<option value="300"`, `<option value="3600"`, `data-testid="issue-publish-forbidden"`, "maximum 1 h")
	requireNotInBody(t, "the form of a 1 h project", body, `<option value="28800"`, `<option value="86400"`, `<option value="1003"`)
	if !strings.Contains(body, `disabled data-testid="issue-publish"`) {
		t.Fatalf("the publish checkbox is not disabled:\n%s", body)
	}

	// CBC on request; no privileges asked for, yet the project forbids
	// publishing, so the token says so explicitly (a payload-less token may publish).
	v := url.Values{"app_id": {"1002"}, "user_id": {"basic"}, "mode": {"cbc"}}
	res, page := e.Post(t, c, "/issue", v)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /issue: got %d, want 200:\n%s", res.StatusCode, page)
	}
	dec, err := token04.Decode(issuedTokenIn(t, page), []byte(webtest.TestSecret), token04.DecodeOptions{})
	if err != nil || dec.Mode != token04.ModeCBC || dec.Claims.Expire-dec.Claims.CTime != 3600 {
		t.Fatalf("got mode %v lifetime %d err %v, want a CBC token of the 1 h default", dec.Mode, dec.Claims.Expire-dec.Claims.CTime, err)
	}
	if p, err := token04.ParsePrivilege(dec.Claims.Payload); err != nil || !p.Login || p.Publish {
		t.Fatalf("got payload %q (%v), want login only", dec.Claims.Payload, err)
	}
}

// Text a browser can send but PostgreSQL cannot store is refused beside its
// field, never answered with a 500.
func TestForms_RefuseNULAndInvalidUTF8BesideTheField(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	admin := e.SignIn(t, "root", store.RoleAdmin)
	for _, tt := range []struct {
		name, path string
		form       url.Values
		field      string
	}{
		{"issue: NUL in the user id", "/issue", func() url.Values { v := issueFormValues("1001", "a\x00b"); return v }(), "user_id"},
		{"issue: NUL in the room id", "/issue", func() url.Values { v := issueFormValues("1001", "a"); v.Set("room_id", "r\x00"); return v }(), "room_id"},
		{"revoke user: NUL in the user id", "/tokens/revoke-user", url.Values{"app_id": {"1001"}, "user_id": {"a\x00"}}, "user_id"},
		{"revoke user: invalid UTF-8 in the user id", "/tokens/revoke-user", url.Values{"app_id": {"1001"}, "user_id": {"a\xff"}}, "user_id"},
		{"revoke user: NUL in the reason", "/tokens/revoke-user", url.Values{"app_id": {"1001"}, "user_id": {"a"}, "reason": {"x\x00"}}, "reason"},
		{"project: NUL in the name", "/projects", func() url.Values { v := projectForm("2002", "Bad\x00Name", webtest.TestSecret); return v }(), "name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.Post(t, admin, tt.path, tt.form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422:\n%.2000s", res.StatusCode, body)
			}
			requireInBody(t, body, `data-testid="error-`+tt.field+`"`)
		})
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Errorf("token records after refused forms: got %d, want 0", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM projects WHERE app_id = 2002`); n != 0 {
		t.Errorf("projects after the refused form: got %d, want 0", n)
	}
}

func TestIssuePage_InChineseTheFieldErrorsAreChineseWithTheirNumbers(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001) // at most 24 h
	c := e.SignIn(t, "olivia", store.RoleOperator)
	bad := url.Values{"app_id": {"1001"}, "user_id": {strings.Repeat("用", 30)}, "ttl_custom": {"48h"}, "mode": {"x"}}

	e.Get(t, c, "/issue?lang=zh-Hans")
	res, body := e.Post(t, c, "/issue", bad)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("POST /issue with bad fields: got %d, want 422", res.StatusCode)
	}
	requireInBody(t, body, "未签发任何令牌", "最多 64 字节（实际 90 字节）", "不能超过项目的最长有效期 86400 秒", "必须为 gcm 或 cbc")
	requireNotInBody(t, "the Chinese form", body, "must not exceed", "must be at most", "must be gcm")

	e.Get(t, c, "/issue?lang=en")
	_, body = e.Post(t, c, "/issue", bad)
	requireInBody(t, body, "Nothing was issued", "must be at most 64 bytes (got 90)", "must not exceed the project&#39;s maximum of 86400 seconds", "must be gcm or cbc")
}
