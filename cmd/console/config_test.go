package main

import (
	"strings"
	"testing"
	"time"
)

func TestConfig_UnauthenticatedLimiterHasDefaultsAndRefusesNonsense(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://x", "CONSOLE_DEV": "true"}
	getenv := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}
	c, err := loadConfig(getenv(nil))
	if err != nil || c.UnauthRate != 0.2 || c.UnauthBurst != 20 {
		t.Fatalf("defaults: got rate %v, burst %d (%v), want 0.2, 20", c.UnauthRate, c.UnauthBurst, err)
	}
	c, err = loadConfig(getenv(map[string]string{"CONSOLE_UNAUTH_RATE": "2.5", "CONSOLE_UNAUTH_BURST": "7"}))
	if err != nil || c.UnauthRate != 2.5 || c.UnauthBurst != 7 {
		t.Fatalf("set: got rate %v, burst %d (%v), want 2.5, 7", c.UnauthRate, c.UnauthBurst, err)
	}
	for name, value := range map[string]string{"CONSOLE_UNAUTH_RATE": "0", "CONSOLE_UNAUTH_BURST": "-1"} {
		if _, err := loadConfig(getenv(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: got %v, want an error naming it", name, value, err)
		}
	}
}

func TestConfig_GroupCommitHasDefaultsAndRefusesNonsense(t *testing.T) {
	t.Parallel()
	env := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return map[string]string{"DATABASE_URL": "postgres://x", "CONSOLE_DEV": "true"}[k]
		}
	}
	c, err := loadConfig(env(nil))
	if err != nil || c.IssueGroupMax != 256 || c.IssueGroupFlushes != 2 {
		t.Fatalf("defaults: got %d tokens per commit, %d commits in flight (%v), want 256, 2", c.IssueGroupMax, c.IssueGroupFlushes, err)
	}
	c, err = loadConfig(env(map[string]string{"CONSOLE_ISSUE_GROUP_MAX": "1", "CONSOLE_ISSUE_GROUP_FLUSHES": "4"}))
	if err != nil || c.IssueGroupMax != 1 || c.IssueGroupFlushes != 4 {
		t.Fatalf("set: got %d, %d (%v), want 1, 4", c.IssueGroupMax, c.IssueGroupFlushes, err)
	}
	for name, value := range map[string]string{"CONSOLE_ISSUE_GROUP_MAX": "0", "CONSOLE_ISSUE_GROUP_FLUSHES": "0"} {
		if _, err := loadConfig(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: got %v, want an error naming it", name, value, err)
		}
	}
	if _, err := loadConfig(env(map[string]string{"CONSOLE_ISSUE_GROUP_MAX": "1001"})); err == nil {
		t.Error("CONSOLE_ISSUE_GROUP_MAX=1001: got no error, want one (at most 1000)")
	}
}

func TestConfig_APIKeyCacheTTLHasADefaultAndCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) string {
		return func(k string) string {
			return map[string]string{"DATABASE_URL": "postgres://x", "CONSOLE_DEV": "true", "CONSOLE_API_KEY_CACHE_TTL": v}[k]
		}
	}
	for v, want := range map[string]time.Duration{"": 10 * time.Second, "2s": 2 * time.Second, "off": 0, "0": 0} {
		if c, err := loadConfig(env(v)); err != nil || c.APIKeyCacheTTL != want {
			t.Errorf("CONSOLE_API_KEY_CACHE_TTL=%q: got %v (%v), want %v", v, c.APIKeyCacheTTL, err, want)
		}
	}
	if _, err := loadConfig(env("soon")); err == nil || !strings.Contains(err.Error(), "CONSOLE_API_KEY_CACHE_TTL") {
		t.Errorf("CONSOLE_API_KEY_CACHE_TTL=soon: got %v, want an error naming it", err)
	}
}

func TestConfig_PprofNeedsTheMetricsListener(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": "postgres://x", "CONSOLE_DEV": "true", "CONSOLE_PPROF": "true"}
	if _, err := loadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "CONSOLE_METRICS_ADDR") {
		t.Errorf("CONSOLE_PPROF without CONSOLE_METRICS_ADDR: got %v, want an error naming CONSOLE_METRICS_ADDR", err)
	}
	env["CONSOLE_METRICS_ADDR"] = "127.0.0.1:9090"
	if c, err := loadConfig(func(k string) string { return env[k] }); err != nil || !c.Pprof {
		t.Errorf("with CONSOLE_METRICS_ADDR: got pprof %v, %v; want it on", c.Pprof, err)
	}
}
