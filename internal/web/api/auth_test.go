package api_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestAPIAuth_KeysAreHeldToTheirProjectsAndScopes(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 2002)
	keyA := a.key(t, allAPIScopes, 1001)
	introspectOnly := a.key(t, []string{store.ScopeIntrospect}, 1001)
	issue := map[string]any{"user_id": "alice"}

	for _, tc := range []struct {
		name, method, path, key string
		body                    any
	}{
		{"issue in another project", "POST", "/api/v1/projects/2002/tokens", keyA, issue},
		{"issue in a project that does not exist", "POST", "/api/v1/projects/3003/tokens", keyA, issue},
		{"revoke in another project", "POST", "/api/v1/projects/2002/tokens/00000000-0000-4000-8000-000000000000/revoke", keyA, map[string]any{}},
		{"revoke a user in another project", "POST", "/api/v1/projects/2002/users/alice/revoke", keyA, map[string]any{}},
		{"audit of another project", "GET", "/api/v1/audit?app_id=2002", keyA, nil},
		{"export of another project", "GET", "/api/v1/audit/export?app_id=2002", keyA, nil},
		{"issue without the issue scope", "POST", "/api/v1/projects/1001/tokens", introspectOnly, issue},
		{"revoke without the revoke scope", "POST", "/api/v1/tokens/revoke", introspectOnly, map[string]any{"token": "04AAAA"}},
		{"audit without the audit:read scope", "GET", "/api/v1/audit", introspectOnly, nil},
	} {
		denialsBefore := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND outcome = 'denied'`)
		var res apiResponse
		if tc.method == "GET" {
			res = a.get(t, tc.path, tc.key)
		} else {
			res = a.post(t, tc.path, tc.key, tc.body)
		}
		if res.status != http.StatusForbidden {
			t.Errorf("%s: got status %d (%s), want 403", tc.name, res.status, res.body)
			continue
		}
		res.wantProblem(t, http.StatusForbidden, "forbidden")
		if got := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND outcome = 'denied'`); got != denialsBefore+1 {
			t.Errorf("%s: got %d new authz.denied events, want 1", tc.name, got-denialsBefore)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Fatalf("got %d token records after denied requests, want none", n)
	}
}

func TestAPIAuth_MissingInvalidRevokedAndExpiredKeysAre401AndAudited(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	revoked := a.key(t, allAPIScopes, 1001)
	expired := a.key(t, allAPIScopes, 1001)
	keys, err := a.Store.ListAPIKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		switch {
		case revoked[:11] == k.Prefix:
			if _, err := a.Store.RevokeAPIKey(t.Context(), k.Prefix, webtest.AdminActor, store.Origin{}); err != nil {
				t.Fatal(err)
			}
		case expired[:11] == k.Prefix:
			if _, err := a.Store.Pool().Exec(t.Context(), `UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE prefix = $1`, k.Prefix); err != nil {
				t.Fatal(err)
			}
		}
	}
	forged := revoked[:len(revoked)-4] + "AAAA"
	for _, tc := range []struct{ name, auth string }{
		{"no header", ""},
		{"basic auth", "Basic YTpi"},
		{"empty bearer", "Bearer "},
		{"not a key", "Bearer hello"},
		{"forged secret", "Bearer " + forged},
		{"revoked key", "Bearer " + revoked},
		{"expired key", "Bearer " + expired},
	} {
		before := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied'`)
		req, _ := http.NewRequestWithContext(t.Context(), "GET", a.URL+"/api/v1/projects", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: got %d with WWW-Authenticate %q, want 401 with a challenge", tc.name, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		if got := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied'`); got != before+1 {
			t.Errorf("%s: got %d new authz.denied events, want 1", tc.name, got-before)
		}
	}
	a.get(t, "/api/v1/projects", expired).wantProblem(t, http.StatusUnauthorized, "unauthorized")
}

func TestAPIAuth_RateLimitAnswers429WithRetryAfter(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t, func(c *web.Config) { c.APIRate = 1; c.APIBurst = 2 })
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	other := a.key(t, allAPIScopes, 1001)
	for i := range 2 {
		if res := a.get(t, "/api/v1/projects", key); res.status != http.StatusOK {
			t.Fatalf("call %d: got %d, want 200", i+1, res.status)
		}
	}
	res := a.get(t, "/api/v1/projects", key)
	res.wantProblem(t, http.StatusTooManyRequests, "rate-limited")
	if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("got Retry-After %q, want whole seconds ≥ 1", res.header.Get("Retry-After"))
	}
	if res := a.get(t, "/api/v1/projects", other); res.status != http.StatusOK {
		t.Fatalf("another key: got %d, want 200: buckets are per key", res.status)
	}
}

func TestAPIProjects_ListsOnlyTheKeysProjectsWithoutSecrets(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 2002)
	a.CreateProject(t, 3003)
	if err := a.Store.SetProjectDisabled(t.Context(), 2002, true, webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	key := a.key(t, []string{store.ScopeIntrospect}, 1001, 2002)
	res := a.get(t, "/api/v1/projects", key)
	var out struct {
		Projects []struct {
			AppID             int64  `json:"app_id"`
			Name              string `json:"name"`
			Environment       string `json:"environment"`
			DefaultTTLSeconds int    `json:"default_ttl_seconds"`
			MaxTTLSeconds     int    `json:"max_ttl_seconds"`
			PublishAllowed    bool   `json:"publish_allowed"`
			Disabled          bool   `json:"disabled"`
		} `json:"projects"`
	}
	res.decode(t, &out)
	if len(out.Projects) != 2 || out.Projects[0].Disabled == out.Projects[1].Disabled {
		t.Fatalf("got %+v, want projects 1001 and 2002 (disabled)", out.Projects)
	}
	for _, p := range out.Projects {
		if p.DefaultTTLSeconds != 3600 || p.MaxTTLSeconds != 86400 || !p.PublishAllowed || p.Environment != "test" {
			t.Fatalf("got %+v", p)
		}
	}
}
