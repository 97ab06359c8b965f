package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

func (a adminCLI) project(t *testing.T, appID string) {
	t.Helper()
	if r := a.run(t, "", "project", "create", "--name", "P"+appID, "--app-id", appID, "--secret-file", a.secretFile(t)); r.code != 0 {
		t.Fatalf("create project %s: exit %d (%s)", appID, r.code, r.stderr)
	}
}

func TestAPIKeyCLI_CreatePrintsAWorkingKeyAloneThenListAndRevoke(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	a.project(t, "1001")
	a.project(t, "2002")

	r := a.run(t, "", "apikey", "create", "--name", "billing", "--project", "1001", "--project", "2002",
		"--scope", "issue,revoke", "--scope", "introspect", "--expires", "30d")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, "zc_") {
		t.Fatalf("create: got exit %d, stdout %q, stderr %q; want the key alone on stdout", r.code, r.stdout, r.stderr)
	}
	raw := strings.TrimSpace(r.stdout)
	if strings.Contains(r.stderr, raw) || !strings.Contains(r.stderr, raw[:11]) {
		t.Fatalf("stderr %q: want the prefix and never the key", r.stderr)
	}
	key, err := a.st.AuthenticateAPIKey(t.Context(), raw)
	if err != nil {
		t.Fatalf("the printed key does not authenticate: %v", err)
	}
	if key.Name != "billing" || !slices.Equal(key.AppIDs, []int64{1001, 2002}) || !slices.Equal(key.Scopes, []string{"introspect", "issue", "revoke"}) ||
		key.ExpiresAt == nil || time.Until(*key.ExpiresAt) < 29*24*time.Hour {
		t.Fatalf("got key %+v", key)
	}

	r = a.run(t, "", "apikey", "list")
	if r.code != 0 || !strings.Contains(r.stdout, key.Prefix) || !strings.Contains(r.stdout, "active") || strings.Contains(r.stdout, raw) {
		t.Fatalf("list: got exit %d, stdout %q", r.code, r.stdout)
	}

	if r := a.run(t, "", "apikey", "revoke", key.Prefix); r.code != 0 || !strings.Contains(r.stdout, "revoked API key "+key.Prefix) {
		t.Fatalf("revoke: got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := a.st.AuthenticateAPIKey(t.Context(), raw); err != store.ErrAPIKeyRevoked {
		t.Fatalf("after revoke: got %v, want ErrAPIKeyRevoked", err)
	}
	r = a.run(t, "", "apikey", "list", "--json")
	var list []struct {
		Prefix    string     `json:"prefix"`
		RevokedAt *time.Time `json:"revoked_at"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0].RevokedAt == nil {
		t.Fatalf("list --json: got %q (%v)", r.stdout, err)
	}
	var actors []string
	rows, _ := a.st.Pool().Query(t.Context(), `SELECT action || ' by ' || actor_type FROM audit_events WHERE action LIKE 'apikey.%' ORDER BY id`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		actors = append(actors, s)
	}
	if !slices.Equal(actors, []string{"apikey.create by cli", "apikey.revoke by cli"}) {
		t.Fatalf("got audit events %v", actors)
	}
}

func TestAPIKeyCLI_NeverExpiresOnRequest(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	a.project(t, "1001")
	r := a.run(t, "", "apikey", "create", "--name", "ops", "--project", "1001", "--scope", "audit:read", "--expires", "never")
	if r.code != 0 {
		t.Fatalf("got exit %d (%s)", r.code, r.stderr)
	}
	key, err := a.st.AuthenticateAPIKey(t.Context(), strings.TrimSpace(r.stdout))
	if err != nil || key.ExpiresAt != nil {
		t.Fatalf("got %+v (%v), want a key that never expires", key, err)
	}
}

func TestAPIKeyCLI_BadInputIsRefused(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	a.project(t, "1001")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"create", "--project", "1001", "--scope", "issue"}, 2, "required"},
		{[]string{"create", "--name", "n", "--scope", "issue"}, 2, "required"},
		{[]string{"create", "--name", "n", "--project", "1001"}, 2, "required"},
		{[]string{"create", "--name", "n", "--project", "0", "--scope", "issue"}, 2, "AppID"},
		{[]string{"create", "--name", "n", "--project", "9999", "--scope", "issue"}, 2, "no project with app id 9999"},
		{[]string{"create", "--name", "n", "--project", "1001", "--scope", "admin"}, 2, "unknown scope"},
		{[]string{"create", "--name", "n", "--project", "1001", "--scope", "issue", "--expires", "soon"}, 2, "expires"},
		{[]string{"revoke"}, 2, "PREFIX"},
		{[]string{"revoke", "zc_abc"}, 2, "not a key prefix"},
		{[]string{"revoke", "zc_abcdefgh"}, 1, "no API key"},
		{[]string{"rotate"}, 2, "unknown subcommand"},
	} {
		r := a.run(t, "", append([]string{"apikey"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%v: got exit %d, stdout %q, stderr %q; want %d mentioning %q", tc.args, r.code, r.stdout, r.stderr, tc.code, tc.want)
		}
	}
	keys, err := a.st.ListAPIKeys(t.Context())
	if err != nil || len(keys) != 0 {
		t.Fatalf("got %d keys after bad input (%v), want none", len(keys), err)
	}
}
