package api_test

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// rateLimitField reads the IETF RateLimit field: "api-key";r=<remaining>;t=<reset>.
var rateLimitField = regexp.MustCompile(`^"api-key";r=([0-9]+);t=([0-9]+)$`)

func TestRateLimitHeaders_TellAClientHowMuchIsLeftBeforeA429(t *testing.T) {
	t.Parallel()
	// A bucket of 3 that refills one request every 1000 s: nothing refills during the test.
	a := newAPIEnv(t, func(c *web.Config) { c.APIRate, c.APIBurst = 0.001, 3 })
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIntrospect}, 1001)
	calls := []struct {
		name      string
		send      func() apiResponse
		status    int
		remaining int
	}{
		{"a listing", func() apiResponse { return a.get(t, "/api/v1/projects", key) }, 200, 2},
		{"a refusal for want of scope", func() apiResponse {
			return a.post(t, "/api/v1/projects/1001/tokens", key, map[string]any{"user_id": "a"})
		}, 403, 1},
		{"a validation problem", func() apiResponse { return a.post(t, "/api/v1/tokens/introspect", key, map[string]any{"token": ""}) }, 422, 0},
		{"the request past the limit", func() apiResponse { return a.get(t, "/api/v1/projects", key) }, 429, 0},
	}
	for _, c := range calls {
		res := c.send()
		if res.status != c.status {
			t.Fatalf("%s: got status %d (%s), want %d", c.name, res.status, res.body, c.status)
		}
		if got, want := res.header.Get("RateLimit-Policy"), `"api-key";q=3;w=3000`; got != want {
			t.Errorf("%s: got RateLimit-Policy %q, want %q", c.name, got, want)
		}
		m := rateLimitField.FindStringSubmatch(res.header.Get("RateLimit"))
		if m == nil {
			t.Fatalf("%s: got RateLimit %q, want \"api-key\";r=<remaining>;t=<seconds>", c.name, res.header.Get("RateLimit"))
		}
		if r, _ := strconv.Atoi(m[1]); r != c.remaining {
			t.Errorf("%s: got %d requests remaining, want %d", c.name, r, c.remaining)
		}
		if reset, _ := strconv.Atoi(m[2]); reset < 1 || reset > 3000 {
			t.Errorf("%s: got reset in %d s, want 1 to 3000 (the bucket refills in at most 3000 s)", c.name, reset)
		}
	}
}

func TestRateLimitHeaders_AFullBucketResetsNow(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t, func(c *web.Config) { c.APIRate, c.APIBurst = 50, 100 })
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIntrospect}, 1001)
	res := a.get(t, "/api/v1/projects", key)
	if res.status != http.StatusOK {
		t.Fatalf("got %d, want 200", res.status)
	}
	if got, want := res.header.Get("RateLimit-Policy"), `"api-key";q=100;w=2`; got != want {
		t.Errorf("got RateLimit-Policy %q, want %q", got, want)
	}
	if got := res.header.Get("RateLimit"); got != `"api-key";r=99;t=1` {
		t.Errorf("got RateLimit %q, want \"api-key\";r=99;t=1 (one request taken, back in a fiftieth of a second)", got)
	}
}
