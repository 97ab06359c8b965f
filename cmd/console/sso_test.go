package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
)

// ssoEnv is a valid environment with single sign-on, changed by set.
func ssoEnv(set map[string]string) func(string) string {
	env := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/x", "CONSOLE_DEV": "true",
		"CONSOLE_OIDC_ISSUER": "https://keycloak.example.com/realms/acme", "CONSOLE_OIDC_CLIENT_ID": "zego-console",
		"CONSOLE_OIDC_CLIENT_SECRET": "s3cret"}
	for k, v := range set {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestConfig_SSOSettingsAreReadWithDefaults(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(ssoEnv(map[string]string{"CONSOLE_OIDC_CLIENT_SECRET": "", "CONSOLE_OIDC_CLIENT_SECRET_FILE": secretFile}))
	if err != nil {
		t.Fatal(err)
	}
	o := c.OIDC
	if o.ClientSecret != "from-file" || strings.Join(o.Scopes, " ") != "openid profile email" || o.GroupsClaim != "groups" ||
		o.Name != "single sign-on" || o.RedirectURL != "" || c.LocalLogin != store.LocalLoginAll {
		t.Errorf("got %+v, local login %q; want the defaults and the secret from its file", o, c.LocalLogin)
	}
}

func TestConfig_InconsistentSSOSettingsAreRefusedWithHowToFixThem(t *testing.T) {
	t.Parallel()
	rules := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rules, []byte(`[{"claim": "groups", "value": "ops", "role": "boss"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"CONSOLE_LOCAL_LOGIN": "some"}, "CONSOLE_LOCAL_LOGIN=\"some\": want all, admins or none"},
		{map[string]string{"CONSOLE_OIDC_ISSUER": "", "CONSOLE_LOCAL_LOGIN": "none"}, "nobody could sign in"},
		{map[string]string{"CONSOLE_OIDC_ISSUER": ""}, "without CONSOLE_OIDC_ISSUER"},
		{map[string]string{"CONSOLE_OIDC_ISSUER": "keycloak.example.com"}, "want the provider's issuer URL"},
		{map[string]string{"CONSOLE_OIDC_CLIENT_ID": ""}, "CONSOLE_OIDC_CLIENT_ID is not set"},
		{map[string]string{"CONSOLE_OIDC_CLIENT_SECRET": ""}, "CONSOLE_OIDC_CLIENT_SECRET (or _FILE) is not set"},
		{map[string]string{"CONSOLE_OIDC_REDIRECT_URL": "https://console.example.com/callback"}, "ending in /auth/oidc/callback"},
		{map[string]string{"CONSOLE_OIDC_RULES_FILE": rules}, "rule 1: role must be"},
		{map[string]string{"CONSOLE_OIDC_RULES_FILE": rules + ".missing"}, "CONSOLE_OIDC_RULES_FILE"},
	}
	for _, c := range cases {
		_, err := loadConfig(ssoEnv(c.set))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error saying %q", c.set, err, c.want)
		}
	}
}
