package main

import (
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/web"
)

// mfaEnv is a valid environment without single sign-on, changed by set.
func mfaEnv(set map[string]string) func(string) string {
	env := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/x", "CONSOLE_DEV": "true"}
	for k, v := range set {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestConfig_SecondFactorSettingsAreReadWithDefaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(mfaEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MFA != web.MFAOptional || c.StepUpAge != 5*time.Minute || c.PublicURL != "" {
		t.Errorf("got MFA %q, step-up age %v, public URL %q; want optional, 5m and none", c.MFA, c.StepUpAge, c.PublicURL)
	}
	c, err = loadConfig(mfaEnv(map[string]string{"CONSOLE_MFA": "Admins", "CONSOLE_STEPUP_AGE": "2m",
		"CONSOLE_PUBLIC_URL": "https://console.example.com/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MFA != web.MFAAdmins || c.StepUpAge != 2*time.Minute || c.PublicURL != "https://console.example.com" {
		t.Errorf("got MFA %q, step-up age %v, public URL %q; want admins, 2m and https://console.example.com", c.MFA, c.StepUpAge, c.PublicURL)
	}
}

func TestConfig_InconsistentSecondFactorSettingsAreRefusedWithHowToFixThem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"CONSOLE_MFA": "sometimes"}, `CONSOLE_MFA="sometimes": want optional, admins or all`},
		{map[string]string{"CONSOLE_STEPUP_AGE": "soon"}, "CONSOLE_STEPUP_AGE"},
		{map[string]string{"CONSOLE_STEPUP_AGE": "13h"}, "longer than CONSOLE_SESSION_MAX"},
		{map[string]string{"CONSOLE_PUBLIC_URL": "console.example.com"}, "want the console's public origin"},
		{map[string]string{"CONSOLE_PUBLIC_URL": "https://console.example.com/zego"}, "without a path"},
		{map[string]string{"CONSOLE_PUBLIC_URL": "http://console.example.com"}, "want https://"},
	}
	for _, c := range cases {
		_, err := loadConfig(mfaEnv(c.set))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error saying %q", c.set, err, c.want)
		}
	}
	for _, ok := range []string{"http://localhost:8080", "https://10.0.0.5"} {
		if _, err := loadConfig(mfaEnv(map[string]string{"CONSOLE_PUBLIC_URL": ok})); err != nil {
			t.Errorf("CONSOLE_PUBLIC_URL=%s: %v", ok, err)
		}
	}
}
