package ui_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

var rawKeyRe = regexp.MustCompile(`data-testid="apikey-raw">(zc_[a-z0-9]{8}_[A-Za-z0-9_-]{43})<`)

func TestAPIKey_CreateShowsTheKeyOnceAndItWorks(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	e.CreateProject(t, 1)
	e.CreateProject(t, 2)
	status, body := e.Get(t, admin, "/apikeys")
	expectStatus(t, "list", status, http.StatusOK, body)
	expectIn(t, "empty list", body, `data-testid="apikey-empty"`, `data-testid="apikey-project-1"`, `data-testid="apikey-scope-audit-read"`)

	res, body := e.Post(t, admin, "/apikeys", url.Values{"name": {"room-gateway"}, "projects": {"1", "2"},
		"scopes": {"issue", "introspect"}, "expiry": {"30d"}})
	expectStatus(t, "create", res.StatusCode, http.StatusOK, body)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", cc)
	}
	m := rawKeyRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no raw key in the response:\n%.3000s", body)
	}
	raw := m[1]
	expectIn(t, "created page", body, `data-copy="#new-key"`, `id="new-key"`, "will not be shown again")
	key, err := e.Store.AuthenticateAPIKey(t.Context(), raw)
	if err != nil {
		t.Fatalf("the shown key does not authenticate: %v", err)
	}
	if strings.Join(key.Scopes, ",") != "introspect,issue" || len(key.AppIDs) != 2 || key.ExpiresAt == nil ||
		key.ExpiresAt.Sub(time.Now().AddDate(0, 0, 30)).Abs() > time.Minute {
		t.Errorf("stored key: got %+v", key)
	}

	_, body = e.Get(t, admin, "/apikeys")
	expectIn(t, "list", body, `data-testid="apikey-row-`+key.Prefix+`"`, "room-gateway", `data-testid="apikey-revoke-`+key.Prefix+`"`)
	expectNotIn(t, "list", body, raw, raw[12:])
	expectNotIn(t, "log", e.Logs.String(), raw, raw[12:])
}

func TestAPIKey_NeverExpiresPreset(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	e.CreateProject(t, 1)
	res, body := e.Post(t, admin, "/apikeys", url.Values{"name": {"audit-exporter"}, "projects": {"1"}, "scopes": {"audit:read"}, "expiry": {"never"}})
	expectStatus(t, "create", res.StatusCode, http.StatusOK, body)
	keys, err := e.Store.ListAPIKeys(t.Context())
	if err != nil || len(keys) != 1 || keys[0].ExpiresAt != nil || keys[0].Scopes[0] != "audit:read" {
		t.Fatalf("keys: got %+v, %v; want one that never expires", keys, err)
	}
}

func TestAPIKey_CreateRejectsBadInputAndKeepsTheForm(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	e.CreateProject(t, 1)
	for name, tc := range map[string]struct {
		form  url.Values
		field string
	}{
		"no name":         {url.Values{"projects": {"1"}, "scopes": {"issue"}, "expiry": {"90d"}}, "name"},
		"no project":      {url.Values{"name": {"k"}, "scopes": {"issue"}, "expiry": {"90d"}}, "projects"},
		"unknown project": {url.Values{"name": {"k"}, "projects": {"9"}, "scopes": {"issue"}, "expiry": {"90d"}}, "projects"},
		"garbage project": {url.Values{"name": {"k"}, "projects": {"x"}, "scopes": {"issue"}, "expiry": {"90d"}}, "projects"},
		"no scope":        {url.Values{"name": {"k"}, "projects": {"1"}, "expiry": {"90d"}}, "scopes"},
		"unknown scope":   {url.Values{"name": {"k"}, "projects": {"1"}, "scopes": {"admin"}, "expiry": {"90d"}}, "scopes"},
		"bad expiry":      {url.Values{"name": {"k"}, "projects": {"1"}, "scopes": {"issue"}, "expiry": {"5y"}}, "expires_at"},
	} {
		res, body := e.Post(t, admin, "/apikeys", tc.form)
		expectStatus(t, name, res.StatusCode, http.StatusUnprocessableEntity, body)
		expectIn(t, name, body, `data-testid="error-`+tc.field+`"`)
		expectNotIn(t, name, body, `data-testid="apikey-raw"`)
	}
	res, body := e.Post(t, admin, "/apikeys", url.Values{"name": {"valid"}, "projects": {"1"}, "scopes": {"revoke"}, "expiry": {"1y"}})
	expectStatus(t, "a valid key", res.StatusCode, http.StatusOK, body)
	res, body = e.Post(t, admin, "/apikeys", url.Values{"name": {"my <svc>"}, "projects": {"1"}, "expiry": {"1y"}})
	expectStatus(t, "no scope", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "form kept", body, `value="my &lt;svc&gt;"`, `value="1" checked`, `value="1y" selected`)
	if n := e.Count(t, `SELECT count(*) FROM api_keys`); n != 1 {
		t.Fatalf("api keys: got %d, want 1 (only the valid one)", n)
	}
}

func TestAPIKey_Revoke(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", "admin")
	e.CreateProject(t, 1)
	raw := e.APIKey(t, []string{store.ScopeIssue}, 1)
	prefix := raw[:11]
	res, body := e.Post(t, admin, "/apikeys/"+prefix+"/revoke", nil)
	expectRedirect(t, "revoke", res, body, "/apikeys?notice=apikey-revoked")
	if _, err := e.Store.AuthenticateAPIKey(t.Context(), raw); !errors.Is(err, store.ErrAPIKeyRevoked) {
		t.Fatalf("after revoke: got %v, want ErrAPIKeyRevoked", err)
	}
	_, body = e.Get(t, admin, "/apikeys?notice=apikey-revoked")
	expectIn(t, "list", body, "API key revoked.", `data-testid="apikey-state">revoked<`)
	expectNotIn(t, "list", body, `data-testid="apikey-revoke-`+prefix+`"`)
	res, body = e.Post(t, admin, "/apikeys/zc_nothere0/revoke", nil)
	expectStatus(t, "revoke an unknown key", res.StatusCode, http.StatusNotFound, body)
}
